// The long-running local agent behind `node dist/agent.js serve`: it launches each submitted
// TaskInfo through the LocalAgent (URIs fetched first), many at once, records every update in the
// TaskBook, checkpoints the book before it acknowledges the update (so no update is acknowledged
// and then forgotten), and on a restart over the same work directory takes back the executors that
// still run and reports the others lost, their containers removed.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { ContainerLaunchError, LocalAgent, type ExecutorRecord, type ReceivedUpdate } from '../local-agent.js';
import { DockerRuntime } from '../../docker/docker-runtime.js';
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
import { removeTaskContainer } from './task-container.js';
import { executorToken } from './access.js';

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
      ...(options.token !== undefined ? { authToken: executorToken(options.token, agentId) } : {}),
      autoAcknowledge: false,
      checkpoint: options.checkpoint,
      recoveryTimeoutMs: options.recoveryTimeoutMs,
      subscriptionBackoffMaxMs: options.subscriptionBackoffMaxMs,
      dockerSocket: options.dockerSocket,
      executorFlags: options.executorFlags,
      fetcher: options.fetcher,
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
      this.executorGone(record.executorId, `Executor exited (${signal ?? `status ${code}`}) before the task ended`, Reason.REASON_EXECUTOR_TERMINATED, TaskState.TASK_FAILED);
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

  // Stops serving (executors keep running, as when the agent process dies) and its timers.
  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.agent.stop();
  }

  private connected(taskId: string): boolean {
    try {
      return this.agent.executor(taskId).stream !== undefined;
    } catch {
      return false;
    }
  }

  private launched(record: ExecutorRecord): void {
    const pid = record.process.pid;
    // Executors outlive the agent (they resubscribe to the next one): they must not keep it alive.
    record.process.unref();
    this.book.launched(record.executorId, {
      executorId: record.executorId,
      containerId: record.containerId,
      containerName: record.containerName,
      sandbox: record.sandbox,
      ...(pid !== undefined ? { pid, pidStart: thisHost.processStart(pid) ?? '' } : {}),
    });
    this.checkpoint();
    this.say(`task ${record.executorId}: executor launched, container ${record.containerName}, sandbox ${record.sandbox}`);
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
  // may be what was lost).
  private received(update: ReceivedUpdate): void {
    // The agent's own TASK_FAILED for a failed fetch is recorded by launchFailed.
    if (update.status.source === Source.SOURCE_AGENT) return;
    if (!this.book.get(update.executorId)) return;
    const fresh = this.book.record(update.executorId, taskUpdate(update.status));
    if (fresh) {
      this.checkpoint();
      const entry = this.book.get(update.executorId)!;
      this.say(`task ${entry.taskId}: ${entry.state}${entry.message ? ` ${entry.message}` : ''}`);
    }
    this.agent.acknowledge(update.executorId, update.status);
  }

  private subscribed(record: ExecutorRecord): void {
    this.recovered.delete(record.executorId);
    if (!this.pendingKills.has(record.executorId)) return;
    const grace = this.pendingKills.get(record.executorId);
    this.pendingKills.delete(record.executorId);
    // The event stream opens right after this event.
    queueMicrotask(() => {
      if (!this.agent.kill(record.executorId, grace)) this.pendingKills.set(record.executorId, grace);
    });
  }

  // A task whose executor is gone without a terminal update: reported by the agent (LOST, or
  // FAILED for one seen to exit), and its container removed.
  private executorGone(taskId: string, message: string, reason: number, state = TaskState.TASK_LOST): void {
    const entry = this.book.get(taskId);
    if (!entry || isTerminalName(entry.state)) return;
    this.recovered.delete(taskId);
    this.agentUpdate(taskId, state, reason, message);
    this.checkpoint();
    this.say(`task ${taskId}: ${entry.state} ${message}`);
    const executor = entry.executor;
    if (!executor) return;
    const docker = new DockerRuntime(this.options.dockerSocket);
    removeTaskContainer(docker, { ...executor, frameworkId: this.agent.frameworkId })
      .then((outcome) => {
        if (outcome === 'removed') this.say(`task ${taskId}: removed its container ${executor.containerName}`);
        else if (outcome !== 'absent') this.say(`task ${taskId}: left its container ${executor.containerName} (${outcome})`);
      })
      .catch((error: unknown) => this.say(`task ${taskId}: could not remove its container ${executor.containerName}: ${errorMessage(error)}`))
      .finally(() => docker.close());
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
        if (executor?.pid !== undefined && processLives(executor.pid, executor.pidStart)) process.kill(executor.pid, 'SIGKILL');
        this.executorGone(taskId, `The executor did not resubscribe within ${this.options.recoveryTimeoutMs} ms of the agent's restart`, Reason.REASON_EXECUTOR_REREGISTRATION_TIMEOUT);
      }
    });
    this.watchRecoveredExecutors();
  }

  // Executors taken back are not children, so no exit event comes: their pids are looked at.
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

