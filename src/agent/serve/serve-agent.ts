// The long-running local agent behind `node dist/agent.js serve`: it launches each submitted
// TaskInfo through the LocalAgent (URIs fetched first), many at once, records every update in the
// TaskBook, checkpoints the book before it acknowledges the update (so no update is acknowledged
// and then forgotten), and on a restart over the same work directory takes back the executors that
// still run and reports the others lost, their containers removed. An executor process is known
// by its pid; an executor container (a framework's image, or --docker_mesos_image) by its name
// and Docker id, and its labels.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { ContainerLaunchError, LocalAgent, type ExecutorRecord, type ReceivedUpdate } from '../local-agent.js';
import { ExecutorContainer } from '../executor-container.js';
import { DockerRuntime } from '../../docker/docker-runtime.js';
import { DockerError } from '../../docker/docker-error.js';
import type { ContainerInspect } from '../../docker/container-inspect.js';
import type { ContainerPolicy } from '../../config/policy-flags.js';
import { processLives, thisHost } from '../../docker/container-owner.js';
import { mesos } from '../../proto/generated/mesos.js';
import { decodeJsonValue } from '../../protocol/codec.js';
import { toMesosJson } from '../../protocol/mesos-json.js';
import { withoutSecretValues } from '../../executor/secret-free-task.js';
import type { FetcherSettings } from '../../fetcher/fetcher.js';
import type { LogrotateSettings } from '../logrotate-settings.js';
import { ConfigError } from '../../config/config-error.js';
import { errorMessage } from '../../log.js';
import { isTerminalName, TaskBook, taskUpdate, type TaskEntry, type TaskUpdate } from './task-book.js';
import { prepareCheckpointDirectory, readCheckpoint, writeCheckpoint, type CheckpointedTask } from './serve-checkpoint.js';
import { removeExecutorContainer, removeTaskContainer } from './task-container.js';
import { executorContainerVerdict, type ExecutorContainerIdentity, type ExecutorContainerVerdict } from './executor-container-recovery.js';
import type { TaskExecutor } from './task-book.js';
import { executorTokenKey } from '../executor-token.js';

export interface ServeAgentOptions {
  readonly workDir: string;
  readonly executorPath: string;
  readonly ip: string;
  // The port to listen on (0: any free one), unless a checkpoint names one.
  readonly port: number;
  // The port was not chosen by the operator: a checkpointed one silently wins.
  readonly portIsDefault?: boolean;
  readonly token?: string;
  readonly checkpoint: boolean;
  // How long executors try to reach a restarted agent, and how long it waits for them.
  readonly recoveryTimeoutMs: number;
  readonly subscriptionBackoffMaxMs?: number;
  readonly dockerSocket: string;
  readonly executorFlags?: readonly string[];
  readonly fetcher?: Partial<FetcherSettings>;
  // Rotating sandbox logs (--container_logger=rotate); the loggers outlive the agent.
  readonly containerLogger?: LogrotateSettings | undefined;
  // How often the pids of executors taken back from a previous agent are looked at (not children).
  readonly livenessIntervalMs?: number;
  // Run this executor in a container of this image for every task (--docker_mesos_image).
  readonly dockerMesosImage?: string;
  // The operator policy a framework's executor image must stay inside.
  readonly policy?: ContainerPolicy;
  readonly say?: (line: string) => void;
}

// Requests for everything but the executor API: the HTTP API, and the console's hook behind it.
export interface RequestRouter {
  request(request: http.IncomingMessage, response: http.ServerResponse): void;
  upgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void;
}

export type KillOutcome = 'sent' | 'unknown' | 'terminal';

const { TaskState } = mesos.v1;
const { Reason, Source } = mesos.v1.TaskStatus;

export class ServeAgent {
  readonly book: TaskBook;
  readonly agent: LocalAgent;
  private readonly options: ServeAgentOptions;
  private readonly checkpointDir: string | undefined;
  private readonly tasks = new Map<string, mesos.v1.ITaskInfo>();
  private readonly pendingKills = new Map<string, number | undefined>();
  // Tasks whose executor a previous agent started (not children), and those of them that have not
  // resubscribed yet.
  private readonly adopted = new Set<string>();
  private readonly recovered = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private router: RequestRouter | undefined;
  private readonly say: (line: string) => void;

  private constructor(options: ServeAgentOptions, checkpointDir: string | undefined, previous: ReturnType<typeof readCheckpoint>) {
    this.options = options;
    this.checkpointDir = checkpointDir;
    this.say = options.say ?? (() => {});
    this.book = new TaskBook(previous?.tasks.map((task) => task.entry) ?? []);
    for (const saved of previous?.tasks ?? []) this.tasks.set(saved.entry.taskId, decodeJsonValue('mesos.v1.TaskInfo', saved.task));
    const agentId = previous?.agentId ?? `${randomUUID()}-S0`;
    this.agent = new LocalAgent({
      workDir: options.workDir,
      executorPath: options.executorPath,
      host: options.ip,
      port: previous?.port ?? options.port,
      agentId,
      frameworkId: previous?.frameworkId,
      ...(options.token !== undefined ? { executorTokenKey: executorTokenKey(options.token, agentId) } : {}),
      autoAcknowledge: false,
      checkpoint: options.checkpoint,
      recoveryTimeoutMs: options.recoveryTimeoutMs,
      subscriptionBackoffMaxMs: options.subscriptionBackoffMaxMs,
      dockerSocket: options.dockerSocket,
      executorFlags: options.executorFlags,
      fetcher: options.fetcher,
      ...(options.dockerMesosImage !== undefined ? { dockerMesosImage: options.dockerMesosImage } : {}),
      ...(options.policy !== undefined ? { policy: options.policy } : {}),
      containerLogger: options.containerLogger,
      frameworkCapabilities: [mesos.v1.FrameworkInfo.Capability.Type.TASK_KILLING_STATE],
      otherRequests: {
        request: (request, response) => {
          if (this.router) return this.router.request(request, response);
          response.writeHead(503, { 'Content-Type': 'text/plain' }).end('The agent is starting\n');
        },
        upgrade: (request, socket, head) => {
          if (this.router) return this.router.upgrade(request, socket, head);
          socket.destroy();
        },
      },
    });
    this.agent.on('launched', (record: ExecutorRecord) => this.launched(record));
    this.agent.on('update', (update: ReceivedUpdate) => this.received(update));
    this.agent.on('subscribe', (record: ExecutorRecord) => this.subscribed(record));
    this.agent.on('executor-exit', (record: ExecutorRecord, code: number | null, signal: string | null) => {
      this.executorGone(taskOf(record), `Executor exited (${signal ?? `status ${code}`}) before the task ended`, Reason.REASON_EXECUTOR_TERMINATED, TaskState.TASK_FAILED);
    });
  }

  // Takes back what a previous agent on this work directory left (with checkpointing), then
  // listens. A port given that differs from the checkpointed one is refused: running executors
  // know only the old one.
  static async start(options: ServeAgentOptions): Promise<ServeAgent> {
    const directory = options.checkpoint ? prepareCheckpointDirectory(options.workDir) : undefined;
    const previous = directory ? readCheckpoint(directory) : undefined;
    if (previous && !options.portIsDefault && options.port !== previous.port) {
      throw new ConfigError(`The work directory ${options.workDir} was served on port ${previous.port}, where its executors will look for the agent: use --port=${previous.port} or another --work_dir`);
    }
    const serve = new ServeAgent(options, directory, previous);
    await serve.recover();
    await serve.agent.start();
    serve.checkpoint();
    return serve;
  }

  get port(): number {
    return this.agent.port;
  }

  // Where the API (and the console's hook) plug in.
  route(router: RequestRouter): void {
    this.router = router;
  }

  // Accepts a task and starts launching it; throws DuplicateTaskError for a known id.
  submit(task: mesos.v1.TaskInfo): TaskEntry {
    const taskId = task.task_id!.value!;
    const entry = this.book.submit(taskId, task.name ?? '');
    this.tasks.set(taskId, task);
    this.checkpoint();
    this.agent.launchTask(task).catch((error: unknown) => this.launchFailed(taskId, error));
    return entry;
  }

  kill(taskId: string, gracePeriodMs?: number): KillOutcome {
    const entry = this.book.get(taskId);
    if (!entry) return 'unknown';
    if (isTerminalName(entry.state)) return 'terminal';
    // An executor not (yet, or again) subscribed gets it when it subscribes.
    if (!this.connected(taskId) || !this.agent.kill(taskId, gracePeriodMs)) this.pendingKills.set(taskId, gracePeriodMs);
    return 'sent';
  }

  sandboxes(): Map<string, string> {
    const sandboxes = new Map<string, string>();
    for (const entry of this.book.all()) if (entry.executor) sandboxes.set(entry.taskId, entry.executor.sandbox);
    return sandboxes;
  }

  // Stops serving (executors keep running, as when the agent process dies), its timers and its
  // watch of executor containers (which would keep the process alive).
  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.agent.stop();
    this.agent.detachContainers();
  }

  private connected(taskId: string): boolean {
    try {
      return this.agent.executor(taskId).stream !== undefined;
    } catch {
      return false;
    }
  }

  private launched(record: ExecutorRecord): void {
    const taskId = taskOf(record);
    const executorProcess = record.process;
    // Executors outlive the agent (they resubscribe to the next one): they must not keep it alive.
    executorProcess.unref();
    const executor: TaskExecutor = {
      executorId: record.executorId,
      containerId: record.containerId,
      containerName: record.containerName,
      sandbox: record.sandbox,
    };
    if (executorProcess instanceof ExecutorContainer) {
      // Known by its name at once, by its id once created (checkpointed then too).
      this.book.launched(taskId, { ...executor, container: { name: executorProcess.name } });
      void executorProcess.created.then((id) => {
        const entry = this.book.get(taskId);
        if (id === undefined || !entry?.executor || isTerminalName(entry.state)) return;
        entry.executor = { ...entry.executor, container: { name: executorProcess.name, id } };
        this.checkpoint();
      });
    } else {
      const pid = executorProcess.pid;
      this.book.launched(taskId, { ...executor, ...(pid !== undefined ? { pid, pidStart: thisHost.processStart(pid) ?? '' } : {}) });
    }
    this.checkpoint();
    this.say(`task ${taskId}: executor launched, ${executorProcess instanceof ExecutorContainer ? `in its container ${executorProcess.name}, ` : ''}container ${record.containerName}, sandbox ${record.sandbox}`);
  }

  private launchFailed(taskId: string, error: unknown): void {
    if (error instanceof ContainerLaunchError) {
      const failed = error.launch;
      this.book.launched(taskId, { executorId: failed.executorId, containerId: failed.containerId, containerName: failed.containerName, sandbox: failed.sandbox });
      for (const update of failed.updates) this.book.record(taskId, taskUpdate(update.status));
    } else {
      this.agentUpdate(taskId, TaskState.TASK_FAILED, Reason.REASON_CONTAINER_LAUNCH_FAILED, `Failed to launch container: ${errorMessage(error)}`);
    }
    this.checkpoint();
    this.say(`task ${taskId}: launch failed: ${this.book.get(taskId)?.message ?? errorMessage(error)}`);
  }

  // Checkpointed, then acknowledged (a resend is acknowledged again: its first acknowledgement
  // may be what was lost). The agent's own updates (a container that could not start, an
  // executor that never subscribed) are recorded as they are; not a fetch failure's, which
  // comes before any executor record and is recorded by launchFailed.
  private received(update: ReceivedUpdate): void {
    const record = this.record(update.executorId);
    if (!record) return;
    const taskId = taskOf(record);
    if (!this.book.get(taskId)) return;
    const fresh = this.book.record(taskId, taskUpdate(update.status));
    if (fresh) {
      this.checkpoint();
      const entry = this.book.get(taskId)!;
      this.say(`task ${entry.taskId}: ${entry.state}${entry.message ? ` ${entry.message}` : ''}`);
    }
    // (The agent's own go to no stream: it has none with an executor that never subscribed.)
    this.agent.acknowledge(update.executorId, update.status);
  }

  private subscribed(record: ExecutorRecord): void {
    const taskId = taskOf(record);
    this.recovered.delete(taskId);
    if (!this.pendingKills.has(taskId)) return;
    const grace = this.pendingKills.get(taskId);
    this.pendingKills.delete(taskId);
    // The event stream opens right after this event.
    queueMicrotask(() => {
      if (!this.agent.kill(taskId, grace)) this.pendingKills.set(taskId, grace);
    });
  }

  private record(executorId: string): ExecutorRecord | undefined {
    try {
      return this.agent.executor(executorId);
    } catch {
      return undefined;
    }
  }

  // A task whose executor is gone without a terminal update: reported by the agent (LOST, or
  // FAILED for one seen to exit), and its container removed (and its executor's container, when
  // that exited while no agent watched it).
  private executorGone(taskId: string, message: string, reason: number, state = TaskState.TASK_LOST, exitedExecutorContainer = false): void {
    const entry = this.book.get(taskId);
    if (!entry || isTerminalName(entry.state)) return;
    this.recovered.delete(taskId);
    this.agentUpdate(taskId, state, reason, message);
    this.checkpoint();
    this.say(`task ${taskId}: ${entry.state} ${message}`);
    const executor = entry.executor;
    if (!executor) return;
    const docker = new DockerRuntime(this.options.dockerSocket);
    const removal = async (name: string, remove: () => Promise<string>): Promise<void> => {
      try {
        const outcome = await remove();
        if (outcome === 'removed') this.say(`task ${taskId}: removed its container ${name}`);
        else if (outcome !== 'absent') this.say(`task ${taskId}: left its container ${name} (${outcome})`);
      } catch (error) {
        this.say(`task ${taskId}: could not remove its container ${name}: ${errorMessage(error)}`);
      }
    };
    const container = executor.container;
    void (async () => {
      // The task container first: its owner labels name the executor, whose end this confirms.
      await removal(executor.containerName, () => removeTaskContainer(docker, { ...executor, frameworkId: this.agent.frameworkId }));
      if (exitedExecutorContainer && container) await removal(container.name, () => removeExecutorContainer(docker, container.name, this.executorIdentity(taskId, executor)));
    })().finally(() => docker.close());
  }

  private executorIdentity(taskId: string, executor: TaskExecutor): ExecutorContainerIdentity {
    return {
      frameworkId: this.agent.frameworkId,
      agentId: this.agent.agentId,
      executorId: executor.executorId,
      taskId,
      containerId: executor.containerId,
      sandbox: executor.sandbox,
      ...(executor.container?.id !== undefined ? { dockerId: executor.container.id } : {}),
    };
  }

  private agentUpdate(taskId: string, state: number, reason: number, message: string): void {
    const update: TaskUpdate = taskUpdate({ task_id: { value: taskId }, state, reason, message, source: Source.SOURCE_AGENT, timestamp: Date.now() / 1000 });
    this.book.record(taskId, update);
  }

  // Every unfinished task of the previous agent: its executor taken back when its process lives
  // (it resubscribes within the recovery timeout, or is reported lost), else reported lost now.
  private async recover(): Promise<void> {
    for (const entry of this.book.all()) {
      if (isTerminalName(entry.state)) continue;
      const executor = entry.executor;
      const task = this.tasks.get(entry.taskId);
      if (executor?.container && task) {
        await this.recoverContainer(entry.taskId, executor, task);
        continue;
      }
      if (!executor || !task || executor.pid === undefined) {
        this.agentUpdate(entry.taskId, TaskState.TASK_LOST, Reason.REASON_EXECUTOR_TERMINATED, 'The agent restarted before the task\'s executor started');
        continue;
      }
      if (!processLives(executor.pid, executor.pidStart)) {
        this.executorGone(entry.taskId, `The executor (pid ${executor.pid}) ended while the agent was down`, Reason.REASON_EXECUTOR_TERMINATED);
        continue;
      }
      this.agent.recover({ executorId: executor.executorId, containerId: executor.containerId, task });
      this.adopted.add(entry.taskId);
      this.recovered.add(entry.taskId);
      this.say(`task ${entry.taskId}: waiting for executor pid ${executor.pid} to resubscribe`);
    }
    if (this.recovered.size === 0) return;
    this.later(this.options.recoveryTimeoutMs, () => {
      for (const taskId of [...this.recovered]) {
        const executor = this.book.get(taskId)?.executor;
        if (executor?.container) this.agent.executor(executor.executorId).process.kill('SIGKILL');
        else if (executor?.pid !== undefined && processLives(executor.pid, executor.pidStart)) process.kill(executor.pid, 'SIGKILL');
        this.executorGone(taskId, `The executor did not resubscribe within ${this.options.recoveryTimeoutMs} ms of the agent's restart`, Reason.REASON_EXECUTOR_REREGISTRATION_TIMEOUT);
      }
    });
    this.watchRecoveredExecutors();
  }

  // An executor container of the previous agent: taken back when it runs and is this agent's (its
  // exit then comes as an executor-exit event), else its task is lost; one that exited is
  // removed, after its labels are checked.
  private async recoverContainer(taskId: string, executor: TaskExecutor, task: mesos.v1.ITaskInfo): Promise<void> {
    const container = executor.container!;
    const identity = this.executorIdentity(taskId, executor);
    let verdict: ExecutorContainerVerdict;
    const docker = new DockerRuntime(this.options.dockerSocket);
    try {
      verdict = executorContainerVerdict(await inspectOrUndefined(docker, container.id ?? container.name), identity);
    } catch (error) {
      // Docker cannot say: the executor cannot be followed, and nothing is removed.
      this.agentUpdate(taskId, TaskState.TASK_LOST, Reason.REASON_EXECUTOR_TERMINATED, `The executor's container ${container.name} could not be inspected after the agent's restart: ${errorMessage(error)}`);
      return;
    } finally {
      docker.close();
    }
    switch (verdict.kind) {
      case 'running':
        this.recovered.add(taskId);
        // Its output is followed again before the agent listens (and it can resubscribe).
        await (this.agent.recover({ executorId: executor.executorId, containerId: executor.containerId, task, containerDockerId: verdict.dockerId }).process as ExecutorContainer).created;
        this.say(`task ${taskId}: waiting for the executor in ${container.name} to resubscribe`);
        return;
      case 'exited':
        this.executorGone(taskId, `The executor's container ${container.name} exited${verdict.exitCode !== undefined ? ` (status ${verdict.exitCode})` : ''} while the agent was down`, Reason.REASON_EXECUTOR_TERMINATED, TaskState.TASK_LOST, true);
        return;
      case 'absent':
        this.executorGone(taskId, `The executor's container ${container.name} is gone`, Reason.REASON_EXECUTOR_TERMINATED);
        return;
      case 'not-ours':
        this.executorGone(taskId, `The container ${container.name} is not this task's executor container (${verdict.why}); it was left alone`, Reason.REASON_EXECUTOR_TERMINATED);
    }
  }

  // Executors taken back are not children, so no exit event comes: their pids are looked at.
  // (An executor container's exit comes as an event: it is not in `adopted`.)
  private watchRecoveredExecutors(): void {
    for (const taskId of this.adopted) if (isTerminalName(this.book.get(taskId)!.state)) this.adopted.delete(taskId);
    if (this.adopted.size === 0) return;
    this.later(this.options.livenessIntervalMs ?? 1000, () => {
      for (const taskId of this.adopted) {
        const entry = this.book.get(taskId)!;
        const executor = entry.executor!;
        if (isTerminalName(entry.state) || processLives(executor.pid!, executor.pidStart)) continue;
        this.executorGone(entry.taskId, `The executor (pid ${executor.pid}) ended before the task did`, Reason.REASON_EXECUTOR_TERMINATED, TaskState.TASK_FAILED);
      }
      this.watchRecoveredExecutors();
    });
  }

  private later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private checkpoint(): void {
    if (!this.checkpointDir) return;
    const tasks: CheckpointedTask[] = this.book.all().map((entry) => {
      const task = this.tasks.get(entry.taskId);
      return { entry, task: task ? toMesosJson('mesos.v1.TaskInfo', withoutSecretValues(task)) : {} };
    });
    writeCheckpoint(this.checkpointDir, { agentId: this.agent.agentId, frameworkId: this.agent.frameworkId, port: this.agent.port, tasks });
  }
}


async function inspectOrUndefined(docker: DockerRuntime, idOrName: string): Promise<ContainerInspect | undefined> {
  try {
    return (await docker.inspect(idOrName)).parsed;
  } catch (error) {
    if (error instanceof DockerError && error.notFound) return undefined;
    throw error;
  }
}

// The task an executor runs: a framework's executor has an id of its own.
function taskOf(record: ExecutorRecord): string {
  return record.task.task_id?.value ?? record.executorId;
}
