// The executor's session with the agent: subscribes (and resubscribes after a disconnection with
// every unacknowledged update and task), dispatches events, turns task reports into reliable
// UPDATE calls, and decides when the executor may exit: once the terminal update is acknowledged
// and the container is gone, or when the agent is lost for good.
import { randomUUID } from 'node:crypto';
import { totalmem } from 'node:os';
import type { Writable } from 'node:stream';
import type { ExecutorConfig } from '../config/executor-config.js';
import { formatDuration } from '../config/duration.js';
import type { ContainerRuntime } from '../docker/container-runtime.js';
import type { mesos } from '../proto/generated/mesos.js';
import { errorMessage, log, redact } from '../log.js';
import { scrubInspectData } from '../docker/container-inspect.js';
import { ownerLabels, STATE_DIRECTORY_LABEL } from '../docker/container-owner.js';
import { AgentCallError, type AgentConnection, type Call, type Event, type Subscription } from './agent-connection.js';
import { newTaskStatus, type StatusFields } from './task-status.js';
import { isTerminalState, Reason, stateName, TaskState } from './task-states.js';
import { readCheckpoint, touchCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint.js';
import { removeStateDirectory } from '../state/state-directory.js';
import { checkNeedsSecrets } from './secret-free-task.js';
import { outputAlreadyWritten } from './output-resume.js';
import { LongTimeout, settlesWithin, sleep } from '../timers.js';
import { killGraceMs } from './kill-grace.js';
import { TaskRunner, type KillInProgress } from './task-runner.js';

interface Adoption {
  readonly containerName: string;
  readonly lastState: number | undefined;
  readonly kill: KillInProgress | undefined;
}
import type { KillCause } from './terminal-status.js';
import { UpdateLedger, type Update } from './update-ledger.js';

// Event.Type and Call.Type numbers (executor.proto).
const EventType = { SUBSCRIBED: 1, LAUNCH: 2, KILL: 3, ACKNOWLEDGED: 4, MESSAGE: 5, ERROR: 6, SHUTDOWN: 7, LAUNCH_GROUP: 8, HEARTBEAT: 9 } as const;
const CallType = { SUBSCRIBE: 1, UPDATE: 2, HEARTBEAT: 4 } as const;
const TASK_KILLING_STATE = 2;

const HEARTBEAT_INTERVAL_MS = 30 * 60_000;
// Well inside the orphan sweep's adoption window.
const CHECKPOINT_TOUCH_MS = 5000;
const RESUBSCRIBE_AFTER_REFUSAL_MS = 1000;
const UPDATE_RETRY_MS = 1000;
// Slack beyond the grace period for a container to be stopped and removed before we give up waiting.
const STOP_SLACK_MS = 15_000;

export interface ExecutorDeps {
  readonly config: ExecutorConfig;
  readonly connection: AgentConnection;
  readonly docker: ContainerRuntime;
  readonly stdout: Writable;
  readonly stderr: Writable;
  // This executor's private state directory (checkpoint), out of the container's reach.
  readonly stateDirectory: string;
}

type Phase = 'registering' | 'subscribed' | 'disconnected' | 'stopping';

export class Executor {
  private readonly config: ExecutorConfig;
  private readonly connection: AgentConnection;
  private readonly deps: ExecutorDeps;
  private readonly ledger = new UpdateLedger();
  private phase: Phase = 'registering';
  private subscription: Subscription | undefined;
  private generation = 0;
  private frameworkInfo: mesos.v1.IFrameworkInfo | undefined;
  private containerId: string | undefined;
  private runner: TaskRunner | undefined;
  private readonly tasks = new Map<string, mesos.v1.ITaskInfo>();
  private readonly terminalTasks = new Set<string>();
  private readonly killedBeforeLaunch = new Set<string>();
  private sendChain: Promise<void> = Promise.resolve();
  private recoveryTimer: LongTimeout | undefined;
  private registrationTimer: LongTimeout | undefined;
  private terminalAckTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private livenessTimer: NodeJS.Timeout | undefined;
  private runnerDone = false;
  private lastState: number | undefined;
  private adoption: (Adoption & { task: mesos.v1.ITaskInfo; containerName: string }) | undefined;
  private shutdownTimer: LongTimeout | undefined;
  private shuttingDown = false;
  private exiting = false;
  private resolveExit: (code: number) => void = () => undefined;
  private readonly exited: Promise<number>;

  constructor(deps: ExecutorDeps) {
    this.deps = deps;
    this.config = deps.config;
    this.connection = deps.connection;
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
  }

  // Runs until the executor should exit; resolves with the exit code.
  run(): Promise<number> {
    log.info(`Executor ${this.config.executorId} of framework ${this.config.frameworkId} subscribing to ${this.config.agent.description}`);
    this.restore();
    this.registrationTimer = new LongTimeout(() => {
      this.abandon(`The agent did not accept SUBSCRIBE within ${formatDuration(this.config.registrationTimeoutMs)}`);
    }, this.config.registrationTimeoutMs);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), HEARTBEAT_INTERVAL_MS);
    this.heartbeatTimer.unref();
    this.livenessTimer = setInterval(() => touchCheckpoint(this.deps.stateDirectory), CHECKPOINT_TOUCH_MS);
    this.livenessTimer.unref();
    void this.subscriptionLoop();
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

  private async subscriptionLoop(): Promise<void> {
    while (!this.exiting) {
      const generation = ++this.generation;
      const call = this.subscribeCall();
      const carried = new Set(call.subscribe?.unacknowledged_updates ?? []);
      const subscription = this.connection.subscribe(call, {
        onOpen: () => this.onStreamOpen(generation, carried),
        onEvent: (event) => this.onEvent(event),
      });
      this.subscription = subscription;
      const end = await subscription.done;
      this.subscription = undefined;
      if (this.exiting) return;

      const wasOpen = this.phase === 'subscribed';
      this.clearTerminalAckTimer();
      if (end.kind === 'refused' && permanentRefusal(end.status)) {
        this.abandon(`${end.message}; the agent does not know this executor any more`);
        return;
      }
      if (wasOpen || this.phase === 'disconnected') {
        this.phase = 'disconnected';
        if (wasOpen) log.warn(`Disconnected from agent: ${end.message}`);
        if (!this.config.checkpoint) {
          this.abandon(`Disconnected from the agent (${end.message}) and the framework does not checkpoint`);
          return;
        }
        this.armRecoveryTimer(end.message);
      } else {
        log.warn(`SUBSCRIBE not accepted yet: ${end.message}`);
      }
      await sleep(end.kind === 'refused' && end.status !== undefined
        ? RESUBSCRIBE_AFTER_REFUSAL_MS
        : Math.max(50, Math.random() * this.config.subscriptionBackoffMaxMs));
    }
  }

  private subscribeCall(): Call {
    const unacknowledgedTasks = [...this.tasks.entries()]
      .filter(([taskId]) => !this.ledger.isTaskAcknowledged(taskId))
      .map(([, task]) => task);
    return {
      ...this.ids(),
      type: CallType.SUBSCRIBE,
      subscribe: {
        unacknowledged_tasks: unacknowledgedTasks,
        unacknowledged_updates: this.ledger.unacknowledged(),
      },
    };
  }

  private ids(): Pick<Call, 'executor_id' | 'framework_id'> {
    return { executor_id: { value: this.config.executorId }, framework_id: { value: this.config.frameworkId } };
  }

  private onStreamOpen(generation: number, carried: ReadonlySet<unknown>): void {
    if (generation !== this.generation || this.exiting) return;
    this.phase = 'subscribed';
    this.registrationTimer?.cancel();
    this.recoveryTimer?.cancel();
    this.recoveryTimer = undefined;
    if (carried.size > 0) log.info(`Subscribed, resending ${carried.size} unacknowledged update(s)`);
    // Updates made while the SUBSCRIBE was on its way are not in it: send them now, in order.
    for (const update of this.ledger.unacknowledged()) {
      if (!carried.has(update)) this.sendChain = this.sendChain.then(() => this.post(update, generation));
    }
    this.armTerminalAckTimer();
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
      case EventType.ACKNOWLEDGED:
        return this.onAcknowledged(event.acknowledged?.task_id?.value ?? '', event.acknowledged?.uuid ?? undefined);
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
      shutdownGracePeriodMs: this.config.shutdownGracePeriodMs,
      taskKillingCapable: (this.frameworkInfo?.capabilities ?? []).some((capability) => capability.type === TASK_KILLING_STATE),
      stdout: this.deps.stdout,
      stderr: this.deps.stderr,
      ...(adopt ? { adopt: { lastState: adopt.lastState, written: outputAlreadyWritten(), terminalReported: this.terminalTasks.has(taskId), kill: adopt.kill } } : {}),
      report: (fields) => this.report(taskId, fields),
      changed: () => this.persist(),
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
    for (const update of checkpoint.unacknowledged) this.ledger.add(update);
    for (const id of checkpoint.acknowledgedTasks) this.ledger.markAcknowledged(id);
    this.containerId = checkpoint.containerId ?? this.containerId;
    this.lastState = checkpoint.lastState;
    if (!task || !taskId || !checkpoint.containerName) return;
    this.tasks.set(taskId, task);
    if (checkpoint.terminalReported) this.terminalTasks.add(taskId);
    this.adoption = { task, containerName: checkpoint.containerName, lastState: checkpoint.lastState, kill: checkpoint.kill };
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

  private onAcknowledged(taskId: string, uuid: Uint8Array | undefined): void {
    const update = this.ledger.acknowledge(uuid);
    if (!update) {
      log.warn(`Ignoring an acknowledgement for an unknown update of task ${taskId}`);
      return;
    }
    log.info(`Agent acknowledged ${stateName(update.status.state)} of task ${taskId}`);
    this.persist();
    this.maybeExit();
  }

  private report(taskId: string, fields: StatusFields): void {
    const status = newTaskStatus(taskId, this.config.executorId, {
      ...fields,
      ...(fields.message ? { message: redact(fields.message) } : {}),
      ...(fields.data ? { data: Buffer.from(redact(scrubInspectData(fields.data, secretVariableNames(this.tasks.get(taskId))))) } : {}),
    });
    const update: Update = { status };
    // Coalesced: the task's latest pending update says the same, so nothing is persisted or sent.
    if (!this.ledger.add(update)) return;
    if (isTerminalState(fields.state)) this.terminalTasks.add(taskId);
    if (taskId === this.runner?.taskId) this.lastState = fields.state;
    this.persist();
    log.info(`Task ${taskId} is ${stateName(fields.state)}${fields.message ? `: ${fields.message}` : ''}`);
    if (this.phase === 'subscribed') {
      const generation = this.generation;
      this.sendChain = this.sendChain.then(() => this.post(update, generation));
    }
    this.armTerminalAckTimer();
  }

  // Sends one UPDATE, retrying while the same subscription lasts. Updates leave one at a time,
  // in order; anything not acknowledged goes out again with the next SUBSCRIBE.
  private async post(update: Update, generation: number): Promise<void> {
    for (;;) {
      if (generation !== this.generation || this.phase !== 'subscribed' || this.exiting) return;
      if (!this.ledger.unacknowledged().includes(update)) return;
      try {
        await this.connection.send({ ...this.ids(), type: CallType.UPDATE, update });
        return;
      } catch (error) {
        const status = error instanceof AgentCallError ? error.status : undefined;
        if (status !== undefined && permanentRefusal(status)) {
          log.error(`Agent rejected ${stateName(update.status.state)} of task ${update.status.task_id?.value}: ${errorMessage(error)}`);
          return;
        }
        log.warn(`Could not send ${stateName(update.status.state)}: ${errorMessage(error)}; retrying`);
        await sleep(UPDATE_RETRY_MS);
      }
    }
  }

  private heartbeat(): void {
    if (this.phase !== 'subscribed') return;
    this.sendChain = this.sendChain
      .then(() => this.connection.send({ ...this.ids(), type: CallType.HEARTBEAT }))
      .catch((error) => log.warn(`Heartbeat failed: ${errorMessage(error)}`));
  }

  private shutdown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    const boundMs = this.config.shutdownGracePeriodMs + STOP_SLACK_MS;
    this.shutdownTimer = new LongTimeout(() => {
      log.error(`Shutdown did not complete within ${formatDuration(boundMs)}; exiting`);
      void this.exit(1);
    }, boundMs);
    const runner = this.runner;
    if (runner && !runner.terminal) {
      // Leave time for the forced kill before the agent destroys the container (spec 3.11).
      runner.kill(Math.max(0, this.config.shutdownGracePeriodMs - 2000), 'shutdown');
    }
    this.maybeExit();
  }

  // The agent is gone for good (or refuses us): stop the task and exit without it.
  private abandon(reason: string): void {
    if (this.exiting) return;
    log.error(`${reason}; stopping the task and exiting`);
    const runner = this.runner;
    if (runner && !runner.terminal) {
      runner.kill(Math.max(0, this.config.shutdownGracePeriodMs - 2000), 'agent-lost');
    }
    void this.exit(1);
  }

  // Exit once every task is terminal, every update acknowledged and the container gone (or on
  // SHUTDOWN with nothing launched).
  private maybeExit(): void {
    if (this.exiting) return;
    const containerGone = !this.runner || this.runnerDone;
    const settled = this.allTasksTerminal() && containerGone && this.ledger.size === 0;
    if (settled && (this.tasks.size > 0 || this.shuttingDown)) {
      log.info(this.tasks.size > 0 ? 'Every update is acknowledged and the container is gone; exiting' : 'Nothing to stop; exiting');
      void this.exit(0);
    } else {
      this.armTerminalAckTimer();
    }
  }

  private allTasksTerminal(): boolean {
    return [...this.tasks.keys()].every((id) => this.terminalTasks.has(id));
  }

  // Fail-safe while connected: the terminal update must be acknowledged within a bound.
  private armTerminalAckTimer(): void {
    const waiting = this.tasks.size > 0 && this.allTasksTerminal() && this.ledger.hasUnacknowledgedTerminal();
    if (!waiting || this.phase !== 'subscribed' || this.exiting) {
      if (!waiting) this.clearTerminalAckTimer();
      return;
    }
    if (this.terminalAckTimer !== undefined) return;
    this.terminalAckTimer = setTimeout(() => {
      log.error('Did not receive ACK for the terminal status update from the agent');
      void this.exit(1);
    }, this.config.terminalAckTimeoutMs);
  }

  private clearTerminalAckTimer(): void {
    clearTimeout(this.terminalAckTimer);
    this.terminalAckTimer = undefined;
  }

  private armRecoveryTimer(reason: string): void {
    if (this.recoveryTimer !== undefined) return;
    this.recoveryTimer = new LongTimeout(() => {
      this.abandon(`Recovery timeout of ${formatDuration(this.config.recoveryTimeoutMs)} exceeded following the first connection failure: ${reason}`);
    }, this.config.recoveryTimeoutMs);
  }

  // Waits for the container to be stopped and removed (never exit leaving it behind), then
  // releases every connection and timer.
  private async exit(code: number): Promise<void> {
    if (this.exiting) return;
    this.exiting = true;
    this.phase = 'stopping';
    for (const timer of [this.registrationTimer, this.recoveryTimer, this.shutdownTimer]) timer?.cancel();
    clearTimeout(this.terminalAckTimer);
    clearInterval(this.heartbeatTimer);
    clearInterval(this.livenessTimer);
    this.subscription?.close();
    const runner = this.runner;
    if (runner && !runner.terminal) {
      runner.kill(Math.max(0, this.config.shutdownGracePeriodMs - 2000), 'shutdown');
    }
    if (runner && !(await settlesWithin(runner.done, this.config.shutdownGracePeriodMs + STOP_SLACK_MS))) {
      log.error(`The container of task ${runner.taskId} was not confirmed removed before exit`);
    } else if (runner) {
      // The container is gone: nothing is left to adopt.
      try {
        removeStateDirectory(this.deps.stateDirectory);
      } catch (error) {
        log.warn(`Could not remove the executor's state directory: ${errorMessage(error)}`);
      }
    }
    this.connection.close();
    this.deps.docker.close();
    this.resolveExit(code);
  }

  // Writes the checkpoint an executor started again for this sandbox would adopt the task from.
  private persist(): void {
    const runner = this.runner;
    if (!runner) return;
    try {
      writeCheckpoint(this.deps.stateDirectory, {
        executorId: this.config.executorId,
        frameworkId: this.config.frameworkId,
        pid: process.pid,
        containerName: runner.containerName,
        containerId: this.containerId,
        task: runner.task,
        unacknowledged: this.ledger.unacknowledged(),
        acknowledgedTasks: this.ledger.acknowledgedTaskIds(),
        terminalReported: this.terminalTasks.has(runner.taskId),
        lastState: this.lastState,
        kill: runner.killInProgress,
      });
    } catch (error) {
      log.error(`Could not write the executor checkpoint: ${errorMessage(error)}`);
    }
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
      'org.apache.mesos.framework_id': this.config.frameworkId,
      'org.apache.mesos.executor_id': this.config.executorId,
      'org.apache.mesos.task_id': taskId,
      ...(this.config.agentId ? { 'org.apache.mesos.agent_id': this.config.agentId } : {}),
      ...(this.containerId ? { 'org.apache.mesos.container_id': this.containerId } : {}),
      'org.apache.mesos.sandbox': this.config.sandboxDirectory,
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

// Names of the task's SECRET environment variables, whose values never leave in a status.
function secretVariableNames(task: mesos.v1.ITaskInfo | undefined): Set<string> {
  const variables = task?.command?.environment?.variables ?? [];
  return new Set(variables.filter((variable) => variable.type === 2 && variable.name).map((variable) => variable.name!));
}

// A refusal that retrying cannot cure (the agent does not know us, or our call is malformed).
function permanentRefusal(status: number | undefined): boolean {
  if (status === undefined) return false;
  return status >= 400 && status < 500 && status !== 404 && status !== 408 && status !== 429;
}


export type { KillCause };
