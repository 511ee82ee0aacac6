// The executor as a composition root: the update channel to the agent, one task runner (the
// task's lifecycle), the checkpoint an executor started again adopts the task from, and the
// decision of when to exit: once the terminal update is acknowledged and the container is gone,
// or when the agent is lost for good.
import { randomUUID } from 'node:crypto';
import { totalmem } from 'node:os';
import type { Writable } from 'node:stream';
import type { ExecutorConfig } from '../config/executor-config.js';
import { formatDuration } from '../config/duration.js';
import type { ContainerRuntime } from '../docker/container-runtime.js';
import { mesos } from '../proto/generated/mesos.js';
import { errorMessage, log, redact } from '../log.js';
import { scrubInspectData } from '../docker/container-inspect.js';
import { identityLabels, ownerLabels, STATE_DIRECTORY_LABEL } from '../docker/container-owner.js';
import { containerLogConfig, type LogConfig } from '../docker/container-log-driver.js';
import type { AgentConnection, Event } from './agent-connection.js';
import { newTaskStatus, type StatusFields } from './task-status.js';
import { isTerminalState, stateName } from './task-states.js';
import { readCheckpoint, saveCheckpoint, touchCheckpoint, type Checkpoint } from './checkpoint.js';
import { CoalescingWriter } from '../state/coalescing-writer.js';
import { removeStateDirectory } from '../state/state-directory.js';
import { checkNeedsSecrets, secretVariableNames } from './secret-free-task.js';
import { outputAlreadyWritten } from './output-resume.js';
import { LongTimeout, settlesWithin } from '../timers.js';
import { killGraceMs } from './kill-grace.js';
import { TaskRunner, type KillInProgress } from './task-runner.js';
import type { KillCause } from './terminal-status.js';
import { UpdateChannel } from './update-channel.js';

const { TaskState } = mesos.v1;
const { Reason } = mesos.v1.TaskStatus;
const EventType = mesos.v1.executor.Event.Type;
const TASK_KILLING_STATE = mesos.v1.FrameworkInfo.Capability.Type.TASK_KILLING_STATE;

// Well inside the orphan sweep's adoption window.
const CHECKPOINT_TOUCH_MS = 5000;
// Slack beyond the grace period for a container to be stopped and removed before we give up waiting.
const STOP_SLACK_MS = 15_000;
// Spec 3.11: the forced kill must come before the agent destroys the container.
const SHUTDOWN_KILL_MARGIN_MS = 2000;

interface Adoption {
  readonly task: mesos.v1.ITaskInfo;
  readonly containerName: string;
  readonly lastState: number | undefined;
  readonly terminalReported: boolean;
  readonly kill: KillInProgress | undefined;
}

export interface ExecutorDeps {
  readonly config: ExecutorConfig;
  readonly connection: AgentConnection;
  readonly docker: ContainerRuntime;
  readonly stdout: Writable;
  readonly stderr: Writable;
  // This executor's private state directory (checkpoint), out of the container's reach.
  readonly stateDirectory: string;
}

export class Executor {
  private readonly config: ExecutorConfig;
  private readonly deps: ExecutorDeps;
  private readonly channel: UpdateChannel;
  // The checkpoint, rewritten off the event loop after every change.
  private readonly checkpoints: CoalescingWriter;
  private frameworkInfo: mesos.v1.IFrameworkInfo | undefined;
  private containerId: string | undefined;
  private runner: TaskRunner | undefined;
  private runnerDone = false;
  private readonly tasks = new Map<string, mesos.v1.ITaskInfo>();
  // Tasks that ended without a runner (refused, killed before launch), or before this executor
  // restarted; the runner's own task is terminal when the runner says so.
  private readonly endedTasks = new Set<string>();
  private readonly killedBeforeLaunch = new Set<string>();
  // The last state reported for the runner's task, so an adopting executor does not repeat it.
  private lastState: number | undefined;
  private adoption: Adoption | undefined;
  private livenessTimer: NodeJS.Timeout | undefined;
  // The log configuration of the task's container, decided once (it may ask the daemon).
  private logConfig: Promise<LogConfig | undefined> | undefined;
  private shutdownTimer: LongTimeout | undefined;
  private shuttingDown = false;
  private exiting = false;
  // The root of cancellation: aborted when the executor exits, it ends whatever still waits.
  private readonly lifetime = new AbortController();
  private resolveExit: (code: number) => void = () => undefined;
  private readonly exited: Promise<number>;

  constructor(deps: ExecutorDeps) {
    this.deps = deps;
    this.config = deps.config;
    this.checkpoints = new CoalescingWriter(() => this.writeCheckpoint(), (error) => {
      log.error(`Could not write the executor checkpoint: ${errorMessage(error)}`);
    });
    this.channel = new UpdateChannel({
      connection: deps.connection,
      executorId: this.config.executorId,
      frameworkId: this.config.frameworkId,
      checkpoint: this.config.checkpoint,
      registrationTimeoutMs: this.config.registrationTimeoutMs,
      recoveryTimeoutMs: this.config.recoveryTimeoutMs,
      subscriptionBackoffMaxMs: this.config.subscriptionBackoffMaxMs,
      terminalAckTimeoutMs: this.config.terminalAckTimeoutMs,
      // A checkpointing framework's update is on disk before it is sent: an executor started
      // again after a crash then neither repeats nor misses it. Without checkpointing no agent
      // starts an executor again, and the update does not wait for the disk.
      ...(this.config.checkpoint ? { durable: () => this.checkpoints.flushed() } : {}),
      unacknowledgedTasks: (acknowledged) => [...this.tasks.entries()].filter(([taskId]) => !acknowledged(taskId)).map(([, task]) => task),
      allTasksTerminal: () => this.tasks.size > 0 && this.allTasksTerminal(),
      onEvent: (event) => this.onEvent(event),
      onAcknowledged: () => {
        this.persist();
        this.maybeExit();
      },
      onLost: (reason) => this.abandon(reason),
      onTerminalUnacknowledged: () => void this.exit(1),
    });
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
  }

  // Runs until the executor should exit; resolves with the exit code.
  run(): Promise<number> {
    log.info(`Executor ${this.config.executorId} of framework ${this.config.frameworkId} subscribing to ${this.config.agent.description}`);
    this.restore();
    // Asked while the subscription is on its way, so that the create does not wait for it.
    if (!this.adoption) void this.containerLogConfig();
    this.livenessTimer = setInterval(() => touchCheckpoint(this.deps.stateDirectory), CHECKPOINT_TOUCH_MS);
    this.livenessTimer.unref();
    this.channel.open();
    return this.exited;
  }

  // SIGTERM/SIGINT: stop the task as for SHUTDOWN; a second signal stops it at once.
  terminate(signal: string): void {
    if (this.shuttingDown) {
      log.warn(`Received ${signal} again: stopping the container now`);
      this.runner?.kill(0, 'shutdown');
      return;
    }
    log.warn(`Received ${signal}: stopping the task and exiting`);
    this.shutdown();
  }

  private onEvent(event: Event): void {
    if (this.exiting) return;
    switch (event.type) {
      case EventType.SUBSCRIBED:
        return this.onSubscribed(event.subscribed);
      case EventType.LAUNCH:
        return this.onLaunch(event.launch?.task ?? undefined);
      case EventType.LAUNCH_GROUP:
        return this.onLaunchGroup(event.launch_group?.task_group?.tasks ?? []);
      case EventType.KILL:
        return this.onKill(event.kill?.task_id?.value ?? '', event.kill?.kill_policy ?? undefined);
      case EventType.SHUTDOWN:
        log.info('Received SHUTDOWN from the agent');
        return this.shutdown();
      case EventType.MESSAGE:
        log.info('Ignoring a framework message: this executor has no use for them');
        return;
      case EventType.ERROR:
        log.error(`Agent reported an error: ${event.error?.message ?? '(no message)'}`);
        return;
      case EventType.HEARTBEAT:
        return;
      default:
        log.warn(`Ignoring an event of unknown type ${String(event.type)}`);
    }
  }

  private onSubscribed(subscribed: mesos.v1.executor.Event.ISubscribed | null | undefined): void {
    this.frameworkInfo = subscribed?.framework_info ?? this.frameworkInfo;
    this.containerId = subscribed?.container_id?.value ?? this.containerId;
    const agent = subscribed?.agent_info;
    log.info(`Subscribed to agent ${agent?.id?.value ?? ''} on ${agent?.hostname ?? 'unknown host'}${this.containerId ? ` as container ${this.containerId}` : ''}`);
    const adoption = this.adoption;
    if (adoption && !this.runner) {
      this.adoption = undefined;
      // A task already reported terminal only needs its container gone (the runner removes it).
      this.startRunner(adoption.task, adoption);
    }
  }

  private onLaunch(task: mesos.v1.ITaskInfo | undefined): void {
    const taskId = task?.task_id?.value;
    if (!task || !taskId) {
      log.error('Ignoring a LAUNCH without a task id');
      return;
    }
    if (this.tasks.has(taskId)) {
      log.warn(`Ignoring a repeated LAUNCH of task ${taskId}`);
      return;
    }
    this.tasks.set(taskId, task);
    if (this.runner) {
      this.report(taskId, { state: TaskState.TASK_FAILED, reason: Reason.REASON_TASK_INVALID, message: 'Attempted to run multiple tasks using a "docker" executor' });
      return;
    }
    if (this.shuttingDown) {
      this.report(taskId, { state: TaskState.TASK_KILLED, reason: Reason.REASON_TASK_KILLED_DURING_LAUNCH, message: 'The executor is shutting down' });
      return;
    }
    if (this.killedBeforeLaunch.has(taskId)) {
      this.report(taskId, { state: TaskState.TASK_KILLED, reason: Reason.REASON_TASK_KILLED_DURING_LAUNCH, message: 'Task was killed before it was launched' });
      return;
    }
    log.info(`Launching task ${taskId}`);
    this.startRunner(task, undefined);
  }

  private startRunner(task: mesos.v1.ITaskInfo, adopt: Adoption | undefined): void {
    const taskId = task.task_id?.value ?? '';
    this.runner = new TaskRunner({
      task,
      docker: this.deps.docker,
      context: {
        containerName: adopt?.containerName ?? this.containerName(),
        sandboxDirectory: this.config.sandboxDirectory,
        mappedDirectory: this.config.mappedDirectory,
        taskEnvironment: this.config.taskEnvironment,
        cgroupsEnableCfs: this.config.cgroupsEnableCfs,
        labels: this.containerLabels(taskId),
        defaultContainerDns: this.config.defaultContainerDns,
        hostMemoryBytes: totalmem(),
      },
      dockerConfig: this.config.dockerConfig,
      policy: this.config.policy,
      logConfig: () => this.containerLogConfig(),
      shutdownGracePeriodMs: this.config.shutdownGracePeriodMs,
      taskKillingCapable: (this.frameworkInfo?.capabilities ?? []).some((capability) => capability.type === TASK_KILLING_STATE),
      stdout: this.deps.stdout,
      stderr: this.deps.stderr,
      ...(adopt ? { adopt: { lastState: adopt.lastState, written: outputAlreadyWritten(), terminalReported: adopt.terminalReported, kill: adopt.kill } } : {}),
      report: (fields) => this.report(taskId, fields),
      changed: () => this.persist(),
      signal: this.lifetime.signal,
    });
    this.runner.done.then(() => {
      this.runnerDone = true;
      this.maybeExit();
    });
  }

  // An earlier executor of this sandbox left a checkpoint: take over its updates and task, and
  // (once subscribed) its container. Without a checkpoint, this is a fresh start.
  private restore(): void {
    let checkpoint: Checkpoint | undefined;
    try {
      checkpoint = readCheckpoint(this.deps.stateDirectory);
    } catch (error) {
      log.error(`${errorMessage(error)}; starting afresh`);
      return;
    }
    if (!checkpoint || checkpoint.pid === process.pid) return;
    if (checkpoint.executorId !== this.config.executorId || checkpoint.frameworkId !== this.config.frameworkId) {
      log.warn(`Ignoring the checkpoint of executor ${checkpoint.executorId} of framework ${checkpoint.frameworkId} in this sandbox`);
      return;
    }
    const task = checkpoint.task ? withoutBlindChecks(checkpoint.task) : undefined;
    const taskId = task?.task_id?.value;
    log.warn(`Restarted: taking over from executor pid ${checkpoint.pid}${taskId ? ` task ${taskId}` : ''} with ${checkpoint.unacknowledged.length} unacknowledged update(s)`);
    for (const update of checkpoint.unacknowledged) this.channel.ledger.add(update);
    for (const id of checkpoint.acknowledgedTasks) this.channel.ledger.markAcknowledged(id);
    this.containerId = checkpoint.containerId ?? this.containerId;
    this.lastState = checkpoint.lastState;
    if (!task || !taskId || !checkpoint.containerName) return;
    this.tasks.set(taskId, task);
    if (checkpoint.terminalReported) this.endedTasks.add(taskId);
    this.adoption = { task, containerName: checkpoint.containerName, lastState: checkpoint.lastState, terminalReported: checkpoint.terminalReported, kill: checkpoint.kill };
  }

  private onLaunchGroup(tasks: readonly mesos.v1.ITaskInfo[]): void {
    for (const task of tasks) {
      const taskId = task.task_id?.value;
      if (!taskId || this.tasks.has(taskId)) continue;
      this.tasks.set(taskId, task);
      this.report(taskId, {
        state: TaskState.TASK_FAILED,
        reason: Reason.REASON_TASK_INVALID,
        message: 'LAUNCH_GROUP is not supported by the Docker executor: launch task groups with the default executor',
      });
    }
  }

  private onKill(taskId: string, policy: mesos.v1.IKillPolicy | undefined): void {
    const runner = this.runner;
    if (!runner || runner.taskId !== taskId) {
      if (this.tasks.has(taskId)) {
        log.info(`Task ${taskId} is already terminal; ignoring KILL`);
      } else {
        log.warn(`Received KILL for task ${taskId}, which this executor has not launched; it will be killed if it arrives`);
        this.killedBeforeLaunch.add(taskId);
      }
      return;
    }
    const requested = policy?.grace_period?.nanoseconds;
    if (requested != null && Number(requested) < 0) log.warn(`KILL for task ${taskId} carries a negative grace period (${String(requested)}ns): killing at once`);
    const graceMs = killGraceMs(policy, runner.task.kill_policy ?? undefined, this.config.shutdownGracePeriodMs);
    log.info(`Killing task ${taskId} with a grace period of ${formatDuration(graceMs)}`);
    runner.kill(graceMs, 'framework');
  }

  private report(taskId: string, fields: StatusFields): void {
    const status = newTaskStatus(taskId, this.config.executorId, {
      ...fields,
      ...(fields.message ? { message: redact(fields.message) } : {}),
      ...(fields.data ? { data: Buffer.from(redact(scrubInspectData(fields.data, secretVariableNames(this.tasks.get(taskId))))) } : {}),
    });
    // Coalesced: the task's latest pending update says the same, so nothing is persisted or sent.
    if (!this.channel.send({ status })) return;
    if (isTerminalState(fields.state) && taskId !== this.runner?.taskId) this.endedTasks.add(taskId);
    if (taskId === this.runner?.taskId) this.lastState = fields.state;
    this.persist();
    log.info(`Task ${taskId} is ${stateName(fields.state)}${fields.message ? `: ${fields.message}` : ''}`);
    this.channel.refresh();
  }

  private shutdown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    const boundMs = this.config.shutdownGracePeriodMs + STOP_SLACK_MS;
    this.shutdownTimer = new LongTimeout(() => {
      log.error(`Shutdown did not complete within ${formatDuration(boundMs)}; exiting`);
      void this.exit(1);
    }, boundMs);
    this.stopTask('shutdown');
    this.maybeExit();
  }

  // The agent is gone for good (or refuses us): stop the task and exit without it.
  private abandon(reason: string): void {
    if (this.exiting) return;
    log.error(`${reason}; stopping the task and exiting`);
    this.stopTask('agent-lost');
    void this.exit(1);
  }

  private stopTask(cause: KillCause): void {
    const runner = this.runner;
    if (runner && !runner.terminal) runner.kill(Math.max(0, this.config.shutdownGracePeriodMs - SHUTDOWN_KILL_MARGIN_MS), cause);
  }

  // Exit once every task is terminal, every update acknowledged and the container gone (or on
  // SHUTDOWN with nothing launched).
  private maybeExit(): void {
    if (this.exiting) return;
    const containerGone = !this.runner || this.runnerDone;
    const settled = this.allTasksTerminal() && containerGone && this.channel.ledger.size === 0;
    if (settled && (this.tasks.size > 0 || this.shuttingDown)) {
      log.info(this.tasks.size > 0 ? 'Every update is acknowledged and the container is gone; exiting' : 'Nothing to stop; exiting');
      void this.exit(0);
    } else {
      this.channel.refresh();
    }
  }

  private allTasksTerminal(): boolean {
    return [...this.tasks.keys()].every((id) => (id === this.runner?.taskId ? this.runner.terminal : this.endedTasks.has(id)));
  }

  // Waits for the container to be stopped and removed (never exit leaving it behind), then
  // releases every connection and timer.
  private async exit(code: number): Promise<void> {
    if (this.exiting) return;
    this.exiting = true;
    this.shutdownTimer?.cancel();
    clearInterval(this.livenessTimer);
    this.channel.close();
    this.stopTask('shutdown');
    const runner = this.runner;
    const removed = runner ? await settlesWithin(runner.done, this.config.shutdownGracePeriodMs + STOP_SLACK_MS) : false;
    // The last change lands (and, with the container gone, before the directory goes).
    await this.checkpoints.close();
    if (runner && !removed) {
      log.error(`The container of task ${runner.taskId} was not confirmed removed before exit`);
    } else if (runner) {
      // The container is gone: nothing is left to adopt.
      try {
        removeStateDirectory(this.deps.stateDirectory);
      } catch (error) {
        log.warn(`Could not remove the executor's state directory: ${errorMessage(error)}`);
      }
    }
    this.lifetime.abort(new Error('The executor is exiting'));
    this.deps.docker.close();
    this.resolveExit(code);
  }

  // Asks for the checkpoint an executor started again for this sandbox would adopt the task from;
  // it is written off the event loop, with every change of the same turn.
  private persist(): void {
    if (this.runner) this.checkpoints.request();
  }

  // The state as it is now; durable (fsynced) only for a checkpointing framework. Without one,
  // the file still serves the orphan sweep, which dates the executor's death by its age, and an
  // executor started again by hand: written without fsync, it survives a crash of the executor
  // but not of the machine, after which there is no container to adopt.
  private writeCheckpoint(): Promise<void> {
    const runner = this.runner!;
    return saveCheckpoint(this.deps.stateDirectory, {
      executorId: this.config.executorId,
      frameworkId: this.config.frameworkId,
      pid: process.pid,
      containerName: runner.containerName,
      containerId: this.containerId,
      task: runner.task,
      unacknowledged: this.channel.ledger.unacknowledged(),
      acknowledgedTasks: this.channel.ledger.acknowledgedTaskIds(),
      terminalReported: runner.terminal,
      lastState: this.lastState,
      kill: runner.killInProgress,
    }, { durable: this.config.checkpoint });
  }

  // The daemon's default driver is asked only when the choice depends on it; when it cannot be
  // told, the daemon's default stays.
  private containerLogConfig(): Promise<LogConfig | undefined> {
    const choice = this.config.containerLogDriver;
    this.logConfig ??= choice !== 'auto'
      ? Promise.resolve(containerLogConfig(choice, undefined))
      : this.deps.docker.loggingDriver(this.lifetime.signal).then(
        (driver) => containerLogConfig(choice, driver),
        (error: unknown) => {
          log.warn(`Could not ask the Docker daemon for its default log driver: ${errorMessage(error)}; the task's container keeps the daemon's default`);
          return undefined;
        },
      );
    return this.logConfig;
  }

  private containerName(): string {
    if (this.config.containerName) return this.config.containerName;
    if (this.containerId) return `mesos-${this.containerId}`;
    const name = `mesos-${randomUUID()}`;
    log.warn(`SUBSCRIBED carried no container id and --container was not given; naming the container ${name}`);
    return name;
  }

  private containerLabels(taskId: string): Record<string, string> {
    return {
      ...identityLabels({
        frameworkId: this.config.frameworkId,
        executorId: this.config.executorId,
        taskId,
        agentId: this.config.agentId || undefined,
        containerId: this.containerId || undefined,
        sandbox: this.config.sandboxDirectory,
      }),
      [STATE_DIRECTORY_LABEL]: this.deps.stateDirectory,
      ...ownerLabels(),
    };
  }
}

// A check whose command needs a SECRET value cannot run from the checkpointed TaskInfo (which
// holds no secret value): an executor started again runs the task without it rather than
// running it with empty secrets and killing a healthy task.
function withoutBlindChecks(task: mesos.v1.ITaskInfo): mesos.v1.ITaskInfo {
  const health = task.health_check?.command;
  const check = task.check?.command?.command;
  const dropHealth = checkNeedsSecrets(health);
  const dropCheck = checkNeedsSecrets(check);
  if (!dropHealth && !dropCheck) return task;
  log.warn(`After the restart, the task's ${[dropHealth && 'health check', dropCheck && 'check'].filter(Boolean).join(' and ')} cannot run: SECRET values are never kept on disk`);
  const { health_check: healthCheck, check: generalCheck, ...rest } = task;
  return { ...rest, ...(dropHealth ? {} : { health_check: healthCheck }), ...(dropCheck ? {} : { check: generalCheck }) };
}
