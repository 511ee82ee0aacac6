// A single-machine implementation of the agent side of /api/v1/executor, so that one machine can
// run a task without a Mesos cluster, and so that the executor's tests have a real peer: it
// launches executors through the launcher, streams events, acknowledges updates and can kill,
// shut down, drop streams and go away like a restarting agent.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { Socket } from 'node:net';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { ChildProcess } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { decodeCall, encodeEvent, type ContentType } from '../protocol/codec.js';
import { encodeRecord } from '../protocol/recordio.js';
import { mesos } from '../proto/generated/mesos.js';
import { DockerRuntime } from '../docker/docker-runtime.js';
import { validateExecutorCall } from './call-validation.js';
import { ExecutorContainer } from './executor-container.js';
import { adoptExecutorContainer, launchExecutor, launchExecutorContainer, sandboxPath, usesExecutorImage, type ExecutorProcess, type LaunchSpec, type SandboxFile } from './launcher.js';
import type { ContainerPolicy } from '../config/policy-flags.js';
import { registrationTimeoutStatus } from './executor-registration.js';
import { fetchUris, type FetcherSettings, type FetchEvent, type FetchUri } from '../fetcher/fetcher.js';
import { FetchError } from '../fetcher/fetch-error.js';
import { ExecutorError } from '../errors.js';
import { executorTokenFor } from './executor-token.js';
import { bearerMatches } from './request-secrets.js';
import { fetchFailureMessage, launchFailedStatus } from './launch-failure.js';
import { ContainerLoggerError, taskLogrotateSettings, type LogrotateSettings } from './logrotate-settings.js';

const JSON_TYPE: ContentType = 'application/json';
const PROTOBUF_TYPE: ContentType = 'application/x-protobuf';
const EventType = mesos.v1.executor.Event.Type;
const CallType = mesos.v1.executor.Call.Type;
// How long `exited` waits for the loggers to write the executor's last output.
const OUTPUT_CLOSE_MS = 5000;

export interface LocalAgentOptions {
  readonly workDir: string;
  readonly executorPath: string;
  readonly host?: string;
  readonly port?: number;
  readonly authToken?: string;
  // Give each executor its own token derived from this key (executor-token.ts) instead of authToken,
  // and accept a call only with the token of the executor it names.
  readonly executorTokenKey?: string;
  // Also serve on this unix socket and tell executors to use it (--http_executor_domain_sockets).
  readonly domainSocket?: string;
  readonly autoAcknowledge?: boolean;
  readonly frameworkCapabilities?: readonly number[];
  readonly checkpoint?: boolean;
  readonly shutdownGracePeriodMs?: number;
  readonly recoveryTimeoutMs?: number;
  readonly subscriptionBackoffMaxMs?: number;
  readonly dockerSocket?: string;
  readonly mappedDirectory?: string;
  readonly executorFlags?: readonly string[];
  readonly executorEnv?: Readonly<Record<string, string>>;
  // Do not send LAUNCH after SUBSCRIBED; the test sends its own events.
  readonly holdLaunch?: boolean;
  // Where executors' stdout/stderr go instead of the sandbox files (see LaunchSpec.output).
  readonly executorOutput?: LaunchSpec['output'];
  // The fetcher's bounds and cache (default cache: <workDir>/fetcher-cache, outside every sandbox).
  readonly fetcher?: Partial<FetcherSettings>;
  // Rotate executors' stdout/stderr in the sandbox (the LogrotateContainerLogger's role); the
  // sandbox files, unbounded, when absent. See loggerSettings() in logger-flags.ts.
  readonly containerLogger?: LogrotateSettings | undefined;
  // Run this project's executor in a container of this image (--docker_mesos_image, spec 3.16.4).
  readonly dockerMesosImage?: string;
  // How long an executor in a container may take to subscribe before it is destroyed and its
  // task failed (--executor_registration_timeout).
  readonly executorRegistrationTimeoutMs?: number;
  // The operator policy a framework's executor image must stay inside (--allow_privileged, ...).
  readonly policy?: ContainerPolicy;
  // The identity of a previous agent on this work directory, whose executors resubscribe to it.
  readonly agentId?: string;
  readonly frameworkId?: string;
  // Requests (and upgrades) for every path other than the executor API, on the same port.
  readonly otherRequests?: OtherRequests;
}

export interface OtherRequests {
  request(request: http.IncomingMessage, response: http.ServerResponse): void;
  upgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void;
}

// An executor that a previous agent on this work directory started and that still runs.
export interface RecoveredExecutor {
  readonly executorId: string;
  readonly containerId: string;
  readonly task: mesos.v1.ITaskInfo;
  // The executor's container (a framework's image, or --docker_mesos_image), found running.
  readonly containerDockerId?: string;
}

// A task whose container could not be launched: the executor never ran; the agent's own
// TASK_FAILED is the one update.
export interface FailedLaunch {
  readonly executorId: string;
  readonly containerId: string;
  readonly containerName: string;
  readonly sandbox: string;
  readonly task: mesos.v1.ITaskInfo;
  readonly updates: ReceivedUpdate[];
}

export class ContainerLaunchError extends ExecutorError<'ERR_CONTAINER_LAUNCH'> {
  readonly launch: FailedLaunch;

  constructor(message: string, launch: FailedLaunch, options: { cause?: unknown } = {}) {
    super(message, { name: 'ContainerLaunchError', code: 'ERR_CONTAINER_LAUNCH', cause: options.cause });
    this.launch = launch;
  }
}

// Every URI the agent fetches for a task, in the order it fetches them: the executor's
// (when the TaskInfo carries an ExecutorInfo), then the task's.
export function taskUris(task: mesos.v1.ITaskInfo): FetchUri[] {
  return [...(task.executor?.command?.uris ?? []), ...(task.command?.uris ?? [])];
}

export interface ReceivedUpdate {
  readonly executorId: string;
  readonly status: mesos.v1.ITaskStatus;
  // The same uuid arrived before (a resend after resubscription).
  readonly duplicate: boolean;
  readonly viaSubscribe: boolean;
}

export interface ReceivedCall {
  readonly call: mesos.v1.executor.ICall;
  readonly headers: http.IncomingHttpHeaders;
  readonly contentType: ContentType;
  readonly viaDomainSocket: boolean;
}

export interface ExecutorRecord {
  readonly executorId: string;
  readonly frameworkId: string;
  readonly containerId: string;
  readonly containerName: string;
  readonly sandbox: string;
  readonly task: mesos.v1.ITaskInfo;
  // The current executor process, or its container (a relaunch replaces it).
  process: ExecutorProcess;
  exited: Promise<number | null>;
  readonly spec: LaunchSpec;
  readonly subscribeCalls: mesos.v1.executor.ICall[];
  readonly updates: ReceivedUpdate[];
  state: 'registering' | 'running' | 'terminating';
  taskLaunched: boolean;
  stream: { response: http.ServerResponse; contentType: ContentType } | undefined;
  exitCode: number | null | undefined;
}

export class LocalAgent extends EventEmitter {
  readonly agentId: string;
  readonly frameworkId: string;
  readonly calls: ReceivedCall[] = [];
  // Requests answered 503 while recovering (see setRecovering).
  refusedWhileRecovering = 0;
  autoAcknowledge: boolean;
  private readonly options: LocalAgentOptions;
  private readonly executors = new Map<string, ExecutorRecord>();
  // Tasks whose URIs are being fetched (their executor is not started yet).
  private readonly fetching = new Set<string>();
  private readonly seenUuids = new Set<string>();
  private server: http.Server | undefined;
  private socketServer: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private portValue: number;
  private unavailable = false;

  constructor(options: LocalAgentOptions) {
    super();
    this.options = options;
    this.agentId = options.agentId ?? `${randomUUID()}-S0`;
    this.frameworkId = options.frameworkId ?? `${randomUUID()}-0000`;
    this.autoAcknowledge = options.autoAcknowledge ?? true;
    this.portValue = options.port ?? 0;
  }

  get port(): number {
    return this.portValue;
  }

  get host(): string {
    return this.options.host ?? '127.0.0.1';
  }

  // Starts serving (again, on the same port after stop(), like a restarted agent).
  async start(): Promise<void> {
    const server = this.createServer(false);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.portValue, this.host, () => resolve());
    });
    this.portValue = (server.address() as { port: number }).port;
    this.server = server;
    const socketPath = this.options.domainSocket;
    if (socketPath) {
      rmSync(socketPath, { force: true });
      const socketServer = this.createServer(true);
      await new Promise<void>((resolve, reject) => {
        socketServer.once('error', reject);
        socketServer.listen(socketPath, () => resolve());
      });
      this.socketServer = socketServer;
    }
  }

  private createServer(domainSocket: boolean): http.Server {
    const server = http.createServer((request, response) => void this.handle(request, response, domainSocket));
    const other = this.options.otherRequests;
    if (other && !domainSocket) server.on('upgrade', (request, socket, head) => other.upgrade(request, socket, head));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    return server;
  }

  // Goes away like a stopped agent: every connection is cut, nothing answers.
  async stop(): Promise<void> {
    for (const record of this.executors.values()) {
      record.stream = undefined;
      if (record.state === 'running') record.state = 'registering';
    }
    for (const socket of this.sockets) socket.destroy();
    const servers = [this.server, this.socketServer];
    this.server = undefined;
    this.socketServer = undefined;
    for (const server of servers) {
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  // Stops following the executor containers, which run on (the agent process is going away and
  // a restarted one takes them back): nothing waits on them, nothing is removed.
  detachContainers(): void {
    for (const record of this.executors.values()) if (record.process instanceof ExecutorContainer) record.process.detach();
  }

  // While set, every call is answered 503 "Agent has not finished recovery".
  setRecovering(recovering: boolean): void {
    this.unavailable = recovering;
  }

  // Where a task's sandbox will be, for a container id chosen up front (to prepare the sandbox).
  sandboxOf(executorId: string, containerId: string): string {
    return sandboxPath({ workDir: this.options.workDir, agentId: this.agentId, frameworkId: this.frameworkId, executorId, containerId });
  }

  // Launches a task as the agent does: every URI fetched into the sandbox first, then the
  // executor started. A fetch failure starts nothing: the agent's TASK_FAILED is recorded and
  // emitted, and the returned promise rejects with a ContainerLaunchError holding it.
  async launchTask(task: mesos.v1.ITaskInfo, options: { sandboxFiles?: Readonly<Record<string, SandboxFile>>; containerId?: string } = {}): Promise<ExecutorRecord> {
    const executorId = this.checkNew(task);
    const containerId = options.containerId ?? randomUUID();
    const sandbox = this.sandboxOf(executorId, containerId);
    mkdirSync(sandbox, { recursive: true });
    this.fetching.add(executorId);
    try {
      // The container logger refuses a bad override in the task's environment before any fetch.
      if (this.options.containerLogger) taskLogrotateSettings(this.options.containerLogger, task);
      await fetchUris(taskUris(task), {
        sandbox,
        settings: { cacheDir: join(this.options.workDir, 'fetcher-cache'), ...this.options.fetcher },
        onEvent: (event: FetchEvent) => this.emit('fetch', executorId, event),
      });
    } catch (error) {
      const why = error instanceof ContainerLoggerError ? error.message
        : fetchFailureMessage(containerId, error instanceof FetchError ? error.message : `the fetcher failed: ${(error as Error).message}`);
      const status = launchFailedStatus({ taskId: executorId, executorId, agentId: this.agentId, containerId, why });
      const update: ReceivedUpdate = { executorId, status, duplicate: false, viaSubscribe: false };
      const failed: FailedLaunch = { executorId, containerId, containerName: `mesos-${containerId}`, sandbox, task, updates: [update] };
      this.emit('update', update);
      throw new ContainerLaunchError(status.message, failed, { cause: error });
    } finally {
      this.fetching.delete(executorId);
    }
    return this.startExecutor(task, executorId, containerId, options.sandboxFiles);
  }

  // Starts the executor at once, with a sandbox prepared by the caller (sandboxFiles). A task
  // with URIs goes through launchTask, which fetches them first.
  launch(task: mesos.v1.ITaskInfo, options: { sandboxFiles?: Readonly<Record<string, SandboxFile>>; containerId?: string } = {}): ExecutorRecord {
    const executorId = this.checkNew(task);
    if (taskUris(task).length > 0) throw new Error(`Task ${executorId} has URIs to fetch: launch it with launchTask()`);
    return this.startExecutor(task, executorId, options.containerId ?? randomUUID(), options.sandboxFiles);
  }

  private checkNew(task: mesos.v1.ITaskInfo): string {
    const taskId = task.task_id?.value;
    if (!taskId) throw new Error('The TaskInfo has no task_id');
    // A framework's executor image registers with its own ExecutorInfo's id.
    const executorId = usesExecutorImage(task) ? task.executor?.executor_id?.value || taskId : taskId;
    if (this.executors.has(executorId) || this.fetching.has(executorId)) throw new Error(`Task ${executorId} was launched already`);
    return executorId;
  }

  private launchSpec(task: mesos.v1.ITaskInfo, executorId: string, containerId: string, sandboxFiles: Readonly<Record<string, SandboxFile>> | undefined): LaunchSpec {
    return {
      executorPath: this.options.executorPath,
      workDir: this.options.workDir,
      agentId: this.agentId,
      frameworkId: this.frameworkId,
      executorId,
      containerId,
      task,
      agentHost: this.host,
      agentPort: this.portValue,
      checkpoint: this.options.checkpoint ?? false,
      shutdownGracePeriodMs: this.options.shutdownGracePeriodMs ?? 5000,
      recoveryTimeoutMs: this.options.recoveryTimeoutMs ?? 15 * 60_000,
      subscriptionBackoffMaxMs: this.options.subscriptionBackoffMaxMs ?? 2000,
      authToken: this.options.executorTokenKey !== undefined ? executorTokenFor(this.options.executorTokenKey, executorId, containerId) : this.options.authToken,
      domainSocket: this.options.domainSocket,
      dockerSocket: this.options.dockerSocket ?? '/var/run/docker.sock',
      mappedDirectory: this.options.mappedDirectory ?? '/mnt/mesos/sandbox',
      extraFlags: this.options.executorFlags,
      extraEnv: this.options.executorEnv,
      sandboxFiles,
      output: this.options.executorOutput,
      logger: this.options.containerLogger,
    };
  }

  private startExecutor(task: mesos.v1.ITaskInfo, executorId: string, containerId: string, sandboxFiles: Readonly<Record<string, SandboxFile>> | undefined): ExecutorRecord {
    const spec = this.launchSpec(task, executorId, containerId, sandboxFiles);
    const launched = this.spawn(spec);
    const record = this.newRecord(spec, launched, { exited: Promise.resolve(null), taskLaunched: false });
    this.watchExit(record, launched.outputClosed);
    this.executors.set(executorId, record);
    this.emit('launched', record);
    return record;
  }

  // Starts the executor again for the same executor, container and sandbox, as after a crash
  // of the executor process: it must adopt its running container.
  relaunch(executorId: string): ExecutorRecord {
    const record = this.executor(executorId);
    if (record.exitCode === undefined) throw new Error(`The executor of ${executorId} is still running`);
    const launched = this.spawn({ ...record.spec, sandboxFiles: undefined, agentPort: this.portValue });
    record.process = launched.process;
    record.exitCode = undefined;
    this.watchExit(record, launched.outputClosed);
    return record;
  }

  // The executor as a process, or in a container when its ExecutorInfo names an image or the
  // agent runs executors in --docker_mesos_image.
  private spawn(spec: LaunchSpec): { process: ExecutorProcess; sandbox: string; containerName: string; outputClosed?: Promise<void> } {
    if (!usesExecutorImage(spec.task) && this.options.dockerMesosImage === undefined) return launchExecutor(spec);
    const docker = new DockerRuntime(spec.dockerSocket);
    const launched = launchExecutorContainer(spec, docker, this.options.dockerMesosImage, this.options.policy);
    void launched.process.exited.finally(() => docker.close());
    return launched;
  }

  // Takes back an executor started by a previous agent on this work directory (agent recovery).
  // A process is not this process's child: `process` is a handle never spawned (kill() does
  // nothing) and `exited` never settles; the caller watches its pid. A container is followed
  // again: its exit comes as for one started here (the caller has checked its labels). The
  // executor resubscribes by itself; the caller bounds how long that may take.
  recover(recovered: RecoveredExecutor): ExecutorRecord {
    const { executorId, containerId, task } = recovered;
    if (this.executors.has(executorId)) throw new Error(`Task ${executorId} was launched already`);
    const spec = this.launchSpec(task, executorId, containerId, undefined);
    if (recovered.containerDockerId !== undefined) return this.recoverContainer(spec, recovered.containerDockerId);
    const record = this.newRecord(spec, { process: new ChildProcess(), containerName: `mesos-${containerId}`, sandbox: sandboxPath(spec) }, {
      exited: new Promise<number | null>(() => {}),
      taskLaunched: true,
    });
    this.executors.set(executorId, record);
    return record;
  }

  private recoverContainer(spec: LaunchSpec, dockerId: string): ExecutorRecord {
    const docker = new DockerRuntime(spec.dockerSocket);
    const launched = adoptExecutorContainer(spec, docker, dockerId);
    void launched.process.exited.finally(() => docker.close());
    const record = this.newRecord(spec, launched, { exited: Promise.resolve(null), taskLaunched: true });
    this.watchContainerExit(record, false, launched.outputClosed);
    this.executors.set(spec.executorId, record);
    return record;
  }

  // The agent's record of an executor it started, or took back (its task launched already).
  private newRecord(
    spec: LaunchSpec,
    launched: { readonly process: ExecutorProcess; readonly containerName: string; readonly sandbox: string },
    fields: Pick<ExecutorRecord, 'exited' | 'taskLaunched'>,
  ): ExecutorRecord {
    return {
      executorId: spec.executorId,
      frameworkId: this.frameworkId,
      containerId: spec.containerId,
      containerName: launched.containerName,
      sandbox: launched.sandbox,
      task: spec.task,
      process: launched.process,
      spec,
      subscribeCalls: [],
      updates: [],
      state: 'registering',
      stream: undefined,
      exitCode: undefined,
      ...fields,
    };
  }

  // `exited` resolves once the executor has exited and its output is all in the sandbox (the
  // rotating loggers done, within OUTPUT_CLOSE_MS).
  private watchExit(record: ExecutorRecord, outputClosed: Promise<void> = Promise.resolve()): void {
    if (record.process instanceof ExecutorContainer) return this.watchContainerExit(record, true, outputClosed);
    const child = record.process as ChildProcess;
    record.exited = new Promise<number | null>((resolve) => {
      child.on('exit', (code, signal) => {
        record.exitCode = code ?? (signal ? null : code);
        this.emit('executor-exit', record, code, signal);
        const bound = setTimeout(() => resolve(code), OUTPUT_CLOSE_MS);
        void outputClosed.then(() => {
          clearTimeout(bound);
          resolve(code);
        });
      });
    });
  }

  // An executor in a container: its exit is the container's, after its output was copied (and
  // its rotating loggers done, within OUTPUT_CLOSE_MS); one that could not start, or never
  // subscribed in time, fails its task as the agent reports it.
  private watchContainerExit(record: ExecutorRecord, registration = true, outputClosed: Promise<void> = Promise.resolve()): void {
    const container = record.process as ExecutorContainer;
    const stopWatching = registration ? this.watchRegistration(record, container) : () => undefined;
    record.exited = container.exited.then(async ({ code, launchError, refused, detached }) => {
      stopWatching();
      // Let go (detachContainers): it runs on, its end is the next agent's to learn.
      if (record.process !== container || detached) return code;
      record.exitCode = code;
      if (launchError !== undefined) {
        this.agentFailure(record, launchFailedStatus({
          taskId: record.task.task_id?.value ?? record.executorId,
          executorId: record.executorId,
          agentId: this.agentId,
          containerId: record.containerId,
          why: launchError,
          ...(refused ? { reason: mesos.v1.TaskStatus.Reason.REASON_TASK_INVALID } : {}),
        }));
      }
      this.emit('executor-exit', record, code, null);
      await Promise.race([outputClosed, new Promise((resolve) => setTimeout(resolve, OUTPUT_CLOSE_MS).unref())]);
      return code;
    });
  }

  // Returns the function that stops the watch.
  private watchRegistration(record: ExecutorRecord, container: ExecutorProcess): () => void {
    const timeoutMs = this.options.executorRegistrationTimeoutMs ?? 60_000;
    const subscribed = record.subscribeCalls.length;
    const check = (): void => {
      if (record.process !== container || record.exitCode !== undefined || record.subscribeCalls.length > subscribed) return;
      // A stopped agent cannot be subscribed to: its time does not count.
      if (this.server === undefined) {
        timer = setTimeout(check, timeoutMs);
        return;
      }
      container.kill('SIGKILL');
      this.agentFailure(record, registrationTimeoutStatus({ taskId: record.task.task_id?.value ?? record.executorId, executorId: record.executorId, agentId: this.agentId, timeoutMs }));
    };
    let timer = setTimeout(check, timeoutMs);
    return () => clearTimeout(timer);
  }

  // An update the agent itself sends for the task (its executor cannot).
  private agentFailure(record: ExecutorRecord, status: mesos.v1.ITaskStatus): void {
    const update: ReceivedUpdate = { executorId: record.executorId, status, duplicate: false, viaSubscribe: false };
    record.updates.push(update);
    this.emit('update', update);
  }

  // By executor id, or by task id (a framework's executor has an id of its own).
  executor(executorId: string): ExecutorRecord {
    const record = this.executors.get(executorId) ?? [...this.executors.values()].find((candidate) => candidate.task.task_id?.value === executorId);
    if (!record) throw new Error(`No executor ${executorId}`);
    return record;
  }

  kill(taskId: string, gracePeriodMs?: number): boolean {
    const record = this.executor(taskId);
    return this.send(record, {
      type: EventType.KILL,
      kill: {
        task_id: { value: taskId },
        ...(gracePeriodMs !== undefined ? { kill_policy: { grace_period: { nanoseconds: Math.round(gracePeriodMs * 1e6) } } } : {}),
      },
    });
  }

  shutdown(executorId: string): boolean {
    const record = this.executor(executorId);
    record.state = 'terminating';
    return this.send(record, { type: EventType.SHUTDOWN });
  }

  // Cuts the executor's event stream, as a network failure would.
  dropStream(executorId: string): void {
    const record = this.executor(executorId);
    const stream = record.stream;
    record.stream = undefined;
    record.state = 'registering';
    stream?.response.socket?.destroy();
  }

  acknowledge(executorId: string, status: mesos.v1.ITaskStatus): boolean {
    return this.send(this.executor(executorId), {
      type: EventType.ACKNOWLEDGED,
      acknowledged: { task_id: status.task_id!, uuid: status.uuid! },
    });
  }

  // The first update (already received or still to come) that matches.
  waitForUpdate(executorId: string, predicate: (update: ReceivedUpdate) => boolean, timeoutMs = 30_000): Promise<ReceivedUpdate> {
    const record = this.executor(executorId);
    const found = record.updates.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('update', listener);
        reject(new Error(`No matching update from ${executorId} within ${timeoutMs} ms; got: ${record.updates.map((u) => u.status.state).join(', ')}`));
      }, timeoutMs);
      const listener = (update: ReceivedUpdate): void => {
        if (update.executorId !== record.executorId || !predicate(update)) return;
        clearTimeout(timer);
        this.off('update', listener);
        resolve(update);
      };
      this.on('update', listener);
    });
  }

  // Stops and removes a container the executor left behind (what the agent's destroy does).
  async destroyContainer(record: ExecutorRecord): Promise<void> {
    const docker = new DockerRuntime(this.options.dockerSocket ?? '/var/run/docker.sock');
    try {
      await docker.remove(record.containerName);
    } finally {
      docker.close();
    }
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse, domainSocket: boolean): Promise<void> {
    const reply = (status: number, text = '', headers: http.OutgoingHttpHeaders = {}): void => {
      response.writeHead(status, { 'Content-Type': 'text/plain', ...headers });
      response.end(text);
    };
    const path = (request.url ?? '').split('?')[0];
    if (domainSocket && path !== '/slave(1)/api/v1/executor' && path !== '/slave(1)/api/v1') return reply(403);
    if (path !== '/api/v1/executor' && path !== '/slave(1)/api/v1/executor') {
      if (this.options.otherRequests && !domainSocket) return this.options.otherRequests.request(request, response);
      return reply(404);
    }
    if (this.unavailable) {
      this.refusedWhileRecovering += 1;
      return reply(503, 'Agent has not finished recovery');
    }
    if (request.method !== 'POST') return reply(405, '', { Allow: 'POST' });
    const unauthorized = (): void => reply(401, 'Unauthorized', { 'WWW-Authenticate': 'Bearer realm="mesos-agent-executor"' });
    if (this.options.authToken && !bearerMatches(request.headers.authorization, this.options.authToken)) return unauthorized();
    const contentTypeHeader = request.headers['content-type'];
    if (!contentTypeHeader) return reply(400, "Expecting 'Content-Type' to be present");
    const contentType = mediaType(contentTypeHeader);
    if (!contentType) return reply(415, 'Expecting \'Content-Type\' of application/json or application/x-protobuf');
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);

    let call: mesos.v1.executor.Call;
    try {
      call = decodeCall(Buffer.concat(chunks), contentType);
    } catch (error) {
      return reply(400, `Failed to parse body into Call: ${(error as Error).message}`);
    }
    const invalid = validateExecutorCall(call);
    if (invalid) return reply(400, `Failed to validate Executor::Call: ${invalid}`);
    if (this.options.executorTokenKey !== undefined) {
      // The call is accepted only with the token of the executor it names.
      const named = this.executors.get(call.executor_id?.value ?? '');
      if (!named || !bearerMatches(request.headers.authorization, executorTokenFor(this.options.executorTokenKey, named.executorId, named.containerId))) return unauthorized();
    }
    this.calls.push({ call, headers: request.headers, contentType, viaDomainSocket: domainSocket });
    this.emit('call', call, request.headers);

    if (call.type === CallType.HEARTBEAT) return reply(202);
    if (call.framework_id?.value !== this.frameworkId) return reply(400, 'Framework cannot be found');
    const record = this.executors.get(call.executor_id?.value ?? '');
    if (!record) return reply(400, 'Executor cannot be found');

    switch (call.type) {
      case CallType.SUBSCRIBE: {
        const accept = acceptable(request.headers.accept);
        if (!accept) return reply(406, "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'");
        return this.subscribe(record, call, response, accept);
      }
      case CallType.UPDATE:
        if (record.state === 'registering') return reply(403, 'Executor is not subscribed');
        reply(202);
        this.receiveUpdate(record, call.update!.status!, false);
        return;
      case CallType.MESSAGE:
        return reply(202);
      default:
        return reply(501);
    }
  }

  private subscribe(record: ExecutorRecord, call: mesos.v1.executor.ICall, response: http.ServerResponse, contentType: ContentType): void {
    response.writeHead(200, { 'Content-Type': contentType });
    record.subscribeCalls.push(call);
    this.emit('subscribe', record, call);
    if (record.state === 'terminating') {
      response.end(encodeRecord(encodeEvent({ type: EventType.SHUTDOWN }, contentType)));
      return;
    }
    const previous = record.stream;
    record.stream = { response, contentType };
    record.state = 'running';
    previous?.response.end();
    response.on('close', () => {
      if (record.stream?.response === response) {
        record.stream = undefined;
        if (record.state === 'running') record.state = 'registering';
      }
    });

    this.send(record, {
      type: EventType.SUBSCRIBED,
      subscribed: {
        executor_info: usesExecutorImage(record.task) ? { ...record.task.executor!, framework_id: { value: record.frameworkId } } : {
          executor_id: { value: record.executorId },
          framework_id: { value: record.frameworkId },
          type: mesos.v1.ExecutorInfo.Type.CUSTOM,
          name: `Docker executor (Task: ${record.executorId})`,
          command: { value: this.options.executorPath, shell: false },
          ...(record.task.container ? { container: record.task.container } : {}),
        },
        framework_info: {
          user: 'root',
          name: 'local-agent',
          id: { value: record.frameworkId },
          checkpoint: this.options.checkpoint ?? false,
          capabilities: (this.options.frameworkCapabilities ?? []).map((type) => ({ type })),
        },
        agent_info: { hostname: hostname(), port: this.portValue, id: { value: this.agentId } },
        container_id: { value: record.containerId },
      },
    });
    for (const update of call.subscribe?.unacknowledged_updates ?? []) {
      if (update.status) this.receiveUpdate(record, update.status, true);
    }
    if (!record.taskLaunched && !this.options.holdLaunch) {
      record.taskLaunched = true;
      this.send(record, { type: EventType.LAUNCH, launch: { task: record.task } });
    }
  }

  private receiveUpdate(record: ExecutorRecord, status: mesos.v1.ITaskStatus, viaSubscribe: boolean): void {
    const key = Buffer.from(status.uuid ?? []).toString('hex');
    const duplicate = this.seenUuids.has(key);
    this.seenUuids.add(key);
    const update: ReceivedUpdate = { executorId: record.executorId, status, duplicate, viaSubscribe };
    record.updates.push(update);
    this.emit('update', update);
    if (this.autoAcknowledge) this.acknowledge(record.executorId, status);
  }

  // Writes raw bytes on the executor's event stream (for tests that feed it garbage).
  sendRaw(executorId: string, bytes: Uint8Array): boolean {
    const stream = this.executor(executorId).stream;
    if (!stream || stream.response.writableEnded) return false;
    stream.response.write(bytes);
    return true;
  }

  // Sends any event on the executor's stream (for tests that play the agent's part by hand).
  sendEvent(executorId: string, event: mesos.v1.executor.Event.$Properties): boolean {
    return this.send(this.executor(executorId), event);
  }

  private send(record: ExecutorRecord, event: mesos.v1.executor.Event.$Properties): boolean {
    const stream = record.stream;
    if (!stream || stream.response.writableEnded) return false;
    stream.response.write(encodeRecord(encodeEvent(event, stream.contentType)));
    return true;
  }
}

function mediaType(header: string): ContentType | undefined {
  const type = header.split(';')[0]!.trim().toLowerCase();
  return type === JSON_TYPE || type === PROTOBUF_TYPE ? type : undefined;
}

// JSON is preferred when acceptable, as the Mesos agent does; no Accept header means anything.
function acceptable(header: string | undefined): ContentType | undefined {
  if (!header) return JSON_TYPE;
  const types = header.split(',').map((part) => part.split(';')[0]!.trim().toLowerCase());
  if (types.some((type) => type === JSON_TYPE || type === '*/*' || type === 'application/*')) return JSON_TYPE;
  if (types.includes(PROTOBUF_TYPE)) return PROTOBUF_TYPE;
  return undefined;
}
