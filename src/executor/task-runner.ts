// Runs the task's lifecycle: the decisions are the pure step() of task-machine.ts; this performs
// their effects (Docker calls through the runtime port, status reports, timers, checks, the
// output copy and the exit watch) and turns each outcome into the machine's next event.
import type { Writable } from 'node:stream';
import { mesos } from '../proto/generated/mesos.js';
import { containerSpec, type ContainerContext, type ContainerSpec } from '../docker/container-spec.js';
import { withLogConfig, type LogConfig } from '../docker/container-log-driver.js';
import { containerAddresses, hasStarted, stopSignal, type ContainerInspect } from '../docker/container-inspect.js';
import { identityMismatch } from '../docker/container-owner.js';
import type { ContainerRuntime, ExitWatch, Inspected, OutputStream } from '../docker/container-runtime.js';
import { DockerError } from '../docker/docker-error.js';
import { ensureImage, ImagePullError } from '../docker/image-pull.js';
import { parseImageReference } from '../docker/image-reference.js';
import { loadRegistryAuth, RegistryAuthError } from '../docker/registry-auth.js';
import { policyViolation } from '../docker/container-policy.js';
import { realHostPath } from '../docker/real-host-path.js';
import type { ContainerPolicy } from '../config/policy-flags.js';
import { errorMessage, log, redact, registerSecret } from '../log.js';
import { readMemoryCounters, type MemoryCounters } from '../docker/cgroup-memory.js';
import { writeSandboxFile } from '../sandbox-write.js';
import { OutputCopy } from './output-copy.js';
import { HEALTH_RESULTS_KEPT, postmortem, POSTMORTEM_FILE, type HealthResult, type TimelineEntry } from './postmortem.js';
import { secretVariableNames } from './secret-free-task.js';
import { stateName } from './task-states.js';
import { InvalidCheckError } from '../checks/check-definition.js';
import { TaskChecks, type CheckListener } from '../checks/task-checks.js';
import { killGraceMs } from './kill-grace.js';
import { LongTimeout, sleep } from '../timers.js';
import { abortableSleep, retry } from '../retry.js';
import { signalName } from './signals.js';
import { taskProblem } from './task-validation.js';
import type { StatusFields } from './task-status.js';
import type { ContainerExit, KillCause } from './terminal-status.js';
import { initialState, step, type Kill, type TaskEffect, type TaskEvent, type TaskMachineState, type TimerName } from './task-machine.js';

export interface TaskRunnerOptions {
  readonly task: mesos.v1.ITaskInfo;
  readonly docker: ContainerRuntime;
  readonly context: ContainerContext;
  readonly taskKillingCapable: boolean;
  // --docker_config as given, for registry credentials.
  readonly dockerConfig: string | undefined;
  readonly stdout: Writable;
  readonly stderr: Writable;
  // MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: the grace of a health-check kill without a kill policy.
  readonly shutdownGracePeriodMs?: number;
  // The operator's policy; refusals end the task before anything is pulled or created.
  readonly policy?: ContainerPolicy;
  // The log configuration for a container whose task names none (undefined: the daemon's default).
  readonly logConfig?: () => Promise<LogConfig | undefined>;
  // Take over the container an earlier executor of this sandbox started, instead of creating one.
  readonly adopt?: Adoption;
  // How long the daemon may take to show the exit after SIGKILL (default: the API timeout + 10 s).
  readonly killConfirmMs?: number;
  // The executor's lifetime: aborted, it ends everything this task still waits on.
  readonly signal?: AbortSignal;
  report(fields: StatusFields): void;
  // Something a restarted executor would need changed (a kill began or shortened): checkpoint it.
  changed?(): void;
  readonly now?: () => number;
}

export interface Adoption {
  // The last state the earlier executor reported, so that none is repeated.
  readonly lastState: number | undefined;
  // Container output already in the sandbox files; undefined when it cannot be known.
  readonly written: { readonly stdout: number; readonly stderr: number } | undefined;
  // The terminal update went out already: only the container's removal is left.
  readonly terminalReported: boolean;
  // A kill the earlier executor had begun: it goes on, to the same SIGKILL deadline.
  readonly kill?: KillInProgress | undefined;
}

// What an executor started again needs to carry a kill on (checkpointed).
export interface KillInProgress {
  readonly cause: KillCause;
  readonly graceMs: number;
  // When SIGKILL is due, in epoch milliseconds.
  readonly deadline: number;
  readonly stopSignalSent: boolean;
}

const { TaskState } = mesos.v1;
const { Reason } = mesos.v1.TaskStatus;

// How long the container's output may keep flowing after its exit before we stop waiting for it.
const OUTPUT_DRAIN_TIMEOUT_MS = 15_000;
const REMOVE_ATTEMPTS = 3;
// Pull progress is reported at most this often (each report is a reliable update).
const PULL_PROGRESS_INTERVAL_MS = 5000;
// How long the daemon may be unreachable while we wait for the container's exit.
const DAEMON_OUTAGE_MS = 120_000;
// What externalStopSignal() says when the daemon went away while it asked.
const DAEMON_AWAY = 'daemon-away';
// Exits this long before we lost the daemon are taken as the task's own.
const DAEMON_CLOCK_SLACK_MS = 2000;
// Beyond the API timeout, how long SIGKILL may take to show as an exit.
const KILL_CONFIRM_SLACK_MS = 10_000;
// The agent's default MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD.
const DEFAULT_SHUTDOWN_GRACE_MS = 5000;
// How often an unreachable daemon is asked again.
const DAEMON_POLL_MS = 1000;
// How often the container's memory counters are read while nothing else asks: OOM kills are seen
// through the daemon's `oom` events, and the counters are read whenever those could have been
// missed (see followOomEvents); this bounds the age of the post-mortem's snapshot and how late an
// OOM kill is seen by an event stream that hangs without breaking. A reading wakes the executor.
const MEMORY_SAMPLE_MS = 10_000;
// How long after an OOM the main process's exit may take to show, to tell whether it was the victim.
const OOM_VICTIM_WINDOW_MS = 300;
// Status updates kept for the post-mortem.
const TIMELINE_KEPT = 50;

type Exit = ContainerExit & { inspect?: Buffer | undefined };

export class TaskRunner {
  readonly taskId: string;
  readonly task: mesos.v1.ITaskInfo;
  // Settles once the terminal update is reported and the container is gone.
  readonly done: Promise<void>;
  private readonly options: TaskRunnerOptions;
  private readonly docker: ContainerRuntime;
  private readonly now: () => number;
  private state: TaskMachineState;
  private readonly queue: TaskEvent[] = [];
  private stepping = false;
  private resolveDone: () => void = () => undefined;
  private readonly timers = new Map<TimerName, LongTimeout>();
  // The tree of cancellation: the executor's signal (options.signal) ends the task's, which ends
  // the current pull's. The task's cuts short every stream and watch once the task has ended; a
  // kill abandons only the pull.
  private readonly release = new AbortController();
  private readonly pullAbort = new AbortController();
  private spec: ContainerSpec | undefined;
  // The task's health check and general check, once validated.
  private checks: TaskChecks | undefined;
  private invalidChecks: string | undefined;
  // The copy of the container's output, and the exit watch registered before the start.
  private readonly output: OutputCopy;
  private exitWatch: ExitWatch | undefined;
  private exitWatched = false;
  // Unix seconds just before the start, for reading the container's events.
  private startedAt = 0;
  private lastInspect: ContainerInspect | undefined;
  // What every health and check update repeats from TASK_RUNNING, and the last health verdict.
  private runningContainerStatus: mesos.v1.IContainerStatus | undefined;
  private lastHealthy: boolean | undefined;
  // The memory watch: the daemon's `oom` events and the cgroup's counters.
  private memoryWatched = false;
  private memoryTimer: NodeJS.Timeout | undefined;
  private memory: { at: string; counters: MemoryCounters } | undefined;
  private oomNoticed = false;
  private oomNotice: Promise<void> = Promise.resolve();
  private oomKillsReported = 0;
  // For the post-mortem.
  private readonly timeline: TimelineEntry[] = [];
  private readonly healthResults: HealthResult[] = [];

  constructor(options: TaskRunnerOptions) {
    this.options = options;
    this.task = options.task;
    this.taskId = options.task.task_id?.value ?? '';
    this.docker = options.docker;
    this.now = options.now ?? Date.now;
    const nanos = Number(options.task.max_completion_time?.nanoseconds ?? 0);
    this.state = initialState({
      taskKillingCapable: options.taskKillingCapable,
      maxCompletionMs: nanos > 0 ? nanos / 1e6 : undefined,
      killConfirmMs: options.killConfirmMs ?? options.docker.timeoutMs + KILL_CONFIRM_SLACK_MS,
    });
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    childOf(this.release, options.signal);
    childOf(this.pullAbort, this.release.signal);
    this.output = new OutputCopy({
      taskId: this.taskId,
      stdout: options.stdout,
      stderr: options.stderr,
      signal: this.release.signal,
      resume: () => this.resumeOutput(),
    });
    // Validated first, so that every update carries check_status when the task has a check.
    try {
      this.checks = new TaskChecks(this.task);
    } catch (error) {
      if (!(error instanceof InvalidCheckError)) throw error;
      this.invalidChecks = error.message;
    }
    // Started on the next tick, so the owner holds this runner before its first report.
    queueMicrotask(() => {
      if (options.adopt) void this.adopt(options.adopt);
      else this.dispatch({ type: 'launch' });
    });
  }

  get containerName(): string {
    return this.options.context.containerName;
  }

  // The terminal update is decided (and reported, or reported by an earlier executor).
  get terminal(): boolean {
    return this.state.terminal !== undefined;
  }

  // A kill from the framework, shutdown, or a deadline. A later request can only shorten the grace.
  kill(graceMs: number, cause: KillCause): void {
    this.dispatch({ type: 'kill', graceMs, cause });
  }

  // The kill in progress, for the checkpoint; undefined when there is none.
  get killInProgress(): KillInProgress | undefined {
    const kill = this.state.kill;
    if (!kill || this.state.terminal !== undefined) return undefined;
    return { cause: kill.cause, graceMs: kill.graceMs, deadline: kill.deadline, stopSignalSent: kill.stopSignalSent };
  }

  // Events are stepped one at a time, in order, even when an effect raises the next one.
  private dispatch(event: TaskEvent): void {
    this.queue.push(event);
    if (this.stepping) return;
    this.stepping = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        const result = step(this.state, next, this.now());
        this.state = result.state;
        for (const effect of result.effects) this.perform(effect);
      }
    } finally {
      this.stepping = false;
    }
  }

  // An effect's asynchronous outcome becomes the next event; an unexpected error fails the task.
  private settle(work: Promise<TaskEvent | undefined>): void {
    work.then(
      (event) => event && this.dispatch(event),
      (error: unknown) => {
        log.error(`Task ${this.taskId} failed unexpectedly: ${errorMessage(error)}`);
        this.dispatch({ type: 'failed', message: errorMessage(error) });
      },
    );
  }

  private perform(effect: TaskEffect): void {
    switch (effect.type) {
      case 'report':
        return this.report(effect.fields);
      case 'validate':
        return this.dispatch(this.validate());
      case 'pull':
        return this.settle(this.pull());
      case 'abort-pull':
        return this.pullAbort.abort();
      case 'create':
        return this.settle(this.create());
      case 'watch':
        return this.settle(effect.how === 'attach' ? this.attach() : this.followLogs());
      case 'start':
        return this.settle(this.start());
      case 'inspect':
        return this.settle(this.inspectAfterStart());
      case 'signal':
        return void this.signalContainer(effect.signal);
      case 'set-timer':
        return this.setTimer(effect.name, effect.ms);
      case 'cancel-timer':
        this.timers.get(effect.name)?.cancel();
        this.timers.delete(effect.name);
        return;
      case 'start-checks':
        return this.startChecks();
      case 'stop-checks':
        return void this.checks?.stop();
      case 'drain-output':
        return this.settle(this.drainOutput());
      case 'close-output':
        this.output.close();
        return;
      case 'remove':
        return this.settle(this.removeContainer());
      case 'checkpoint':
        return this.options.changed?.();
      case 'done':
        return this.resolveDone();
      case 'refused':
        return log.error(`Task ${this.taskId}: illegal transition refused (${effect.why})`);
    }
  }

  private setTimer(name: TimerName, ms: number): void {
    this.timers.get(name)?.cancel();
    this.timers.set(name, new LongTimeout(() => {
      this.timers.delete(name);
      this.dispatch({ type: 'timer', name });
    }, ms));
  }

  // With a general check, every update carries the current check_status (spec 3.13).
  private report(fields: StatusFields): void {
    this.timeline.push(timelineEntry(fields, this.now()));
    // Bounded for a long life of health updates: the first entry and the latest ones.
    if (this.timeline.length > TIMELINE_KEPT) this.timeline.splice(1, 1);
    const checkStatus = fields.check_status ? undefined : this.checks?.currentCheckStatus;
    this.options.report(checkStatus ? { ...fields, check_status: checkStatus } : fields);
  }

  private validate(): TaskEvent {
    const invalid = (message: string): TaskEvent => ({ type: 'invalid', fields: { state: TaskState.TASK_FAILED, reason: Reason.REASON_TASK_INVALID, message } });
    const problem = taskProblem(this.task);
    if (problem) return invalid(`Invalid task: ${problem}`);
    try {
      this.spec = containerSpec(this.task, this.options.context);
    } catch (error) {
      return invalid(`Failed to create docker run options: ${errorMessage(error)}`);
    }
    this.spec.secrets.forEach(registerSecret);
    if (this.invalidChecks) return invalid(`Invalid check definition: ${this.invalidChecks}`);
    const refusal = this.options.policy && policyViolation(this.task, this.spec.body, this.options.policy, this.options.context.sandboxDirectory, realHostPath);
    if (refusal) return invalid(refusal);
    return { type: 'validated' };
  }

  // The image is used when present, pulled when missing or when force_pull_image is set, with
  // the sandbox's or the operator's registry credentials; progress goes out as TASK_STARTING.
  private async pull(): Promise<TaskEvent> {
    const image = this.spec!.image;
    try {
      const auth = loadRegistryAuth(parseImageReference(image), {
        sandboxDirectory: this.options.context.sandboxDirectory,
        dockerConfig: this.options.dockerConfig,
      });
      const { pulled } = await ensureImage(this.docker, image, {
        forcePull: this.task.container?.docker?.force_pull_image === true,
        auth,
        onProgress: (message) => this.report({ state: TaskState.TASK_STARTING, message }),
        signal: this.pullAbort.signal,
        progressIntervalMs: PULL_PROGRESS_INTERVAL_MS,
      });
      if (pulled) log.info(`Pulled image '${image}' for task ${this.taskId}${auth ? ` with credentials from ${auth.source}` : ''}`);
      return { type: 'image-ready' };
    } catch (error) {
      const cancelled = error instanceof ImagePullError && error.kind === 'cancelled';
      return { type: 'image-failed', cancelled, fields: launchFailure('Failed to get the image', error, error instanceof ImagePullError || error instanceof RegistryAuthError) };
    }
  }

  private async create(): Promise<TaskEvent> {
    const spec = this.spec!;
    try {
      const containerId = await this.docker.create(spec.name, withLogConfig(spec.body, await this.options.logConfig?.()));
      log.info(`Created container ${spec.name} (${containerId.slice(0, 12)}) for task ${this.taskId}`);
      return { type: 'created', containerId };
    } catch (error) {
      return { type: 'launch-failed', stage: 'create', fields: launchFailure(`Failed to create container ${spec.name}`, error) };
    }
  }

  // Attaches before the start (so every byte of output is captured) and registers the exit watch.
  private async attach(): Promise<TaskEvent> {
    const id = this.state.containerId!;
    try {
      const socket = await this.docker.attach(id, this.release.signal);
      this.output.begin(socket, { stdout: 0, stderr: 0 }, false);
      this.exitWatch = await this.docker.wait(id, 'next-exit', this.release.signal);
      return { type: 'watching' };
    } catch (error) {
      return { type: 'launch-failed', stage: 'attach', fields: launchFailure(`Failed to attach to container ${this.containerName}`, error) };
    }
  }

  // After an executor restart: replay the container's output past what the sandbox files hold,
  // and watch for its exit as if this executor had started it.
  private async followLogs(): Promise<TaskEvent> {
    const id = this.state.containerId!;
    const written = this.options.adopt?.written;
    if (!written) log.warn('The sandbox output files cannot be re-read (not regular files): replayed output may repeat');
    try {
      const logs = await this.docker.logs(id, this.release.signal);
      this.output.begin(logs, { ...(written ?? { stdout: 0, stderr: 0 }) }, true);
      this.exitWatch = await this.docker.wait(id, 'not-running', this.release.signal);
      return { type: 'watching' };
    } catch (error) {
      return { type: 'launch-failed', stage: 'attach', fields: launchFailure(`Failed to re-attach to container ${this.containerName}`, error) };
    }
  }

  private async start(): Promise<TaskEvent> {
    try {
      await this.docker.start(this.state.containerId!);
    } catch (error) {
      this.output.close();
      return { type: 'launch-failed', stage: 'start', fields: launchFailure(`Failed to start container ${this.containerName}`, error) };
    }
    this.startedAt = Math.floor(this.now() / 1000) - 1;
    return { type: 'started' };
  }

  // The inspect behind TASK_RUNNING; then the exit is watched (so RUNNING always comes first).
  private async inspectAfterStart(): Promise<TaskEvent> {
    const inspect = await this.inspect();
    this.lastInspect = inspect?.parsed;
    let running: StatusFields | undefined;
    if (inspect) {
      running = runningStatus(inspect, this.task);
      this.runningContainerStatus = running.container_status ?? undefined;
    }
    queueMicrotask(() => {
      this.watchExit();
      this.watchMemory();
    });
    return { type: 'inspected', stopSignal: inspect ? stopSignal(inspect.parsed) : undefined, hasStarted: inspect ? hasStarted(inspect.parsed) : false, running };
  }

  private watchExit(): void {
    if (this.exitWatched || this.state.terminal !== undefined) return;
    this.exitWatched = true;
    this.settle(this.waitForExit().then((waited): TaskEvent => {
      this.output.noticeExit();
      return typeof waited === 'string' ? { type: 'exit-unknown', message: waited } : { type: 'exited', exit: waited };
    }));
  }

  // An executor started again for this sandbox: find the container by name, check that it is this
  // task's, and take it over.
  private async adopt(adoption: Adoption): Promise<void> {
    const name = this.containerName;
    let found: Inspected | undefined;
    try {
      found = await this.docker.inspect(name);
    } catch (error) {
      if (!(error instanceof DockerError && error.notFound)) log.error(`Could not inspect container ${name}: ${errorMessage(error)}`);
    }
    const foreign = found && identityMismatch(found.parsed.Config?.Labels, this.options.context.labels);
    if (foreign) {
      // Not ours: never followed, exec'd into, reported on or removed.
      log.error(`Container ${name} does not carry this task's owner labels (${foreign} differs); it is left alone`);
    }
    const containerId = found?.parsed.Id ?? name;
    const startedMs = Date.parse(found?.parsed.State?.StartedAt ?? '');
    const finding = foreign
      ? { found: 'foreign' as const, name }
      : !found
        ? { found: 'gone' as const }
        : hasStarted(found.parsed)
          ? { found: 'started' as const, containerId, startedAtMs: Number.isFinite(startedMs) ? startedMs : undefined }
          : { found: 'created' as const, containerId };
    if (found && !foreign && !adoption.terminalReported) {
      log.warn(finding.found === 'created'
        ? `Container ${name} of task ${this.taskId} was created but never started; starting it`
        : `Adopting container ${name} of task ${this.taskId} (${found.parsed.State?.Status ?? 'unknown state'})`);
      if (adoption.kill) log.warn(`Carrying on the ${adoption.kill.cause} kill of task ${this.taskId} begun by the earlier executor`);
      this.startedAt = Number.isFinite(startedMs) ? Math.floor(startedMs / 1000) - 1 : 0;
    }
    const kill: Kill | undefined = adoption.kill ? { ...adoption.kill, sigkillSent: false } : undefined;
    this.dispatch({ type: 'adopt', finding, name, lastState: adoption.lastState, terminalReported: adoption.terminalReported, kill });
  }

  private async signalContainer(signal: string): Promise<void> {
    const id = this.state.containerId;
    if (!id) return;
    // The post-mortem's memory snapshot, as the container is stopped.
    this.sampleMemory();
    log.info(`Sending ${signal} to container of task ${this.taskId}`);
    try {
      await this.docker.kill(id, signal);
    } catch (error) {
      // 409: it is no longer running, which is what we wanted.
      if (!(error instanceof DockerError && (error.status === 409 || error.status === 404))) {
        log.warn(`Could not send ${signal} to the container of task ${this.taskId}: ${errorMessage(error)}`);
      }
    }
  }

  private async inspect(): Promise<Inspected | undefined> {
    try {
      return await this.docker.inspect(this.state.containerId!);
    } catch (error) {
      log.warn(`Could not inspect the container of task ${this.taskId}: ${errorMessage(error)}`);
      return undefined;
    }
  }

  private startChecks(): void {
    const inspect = this.lastInspect;
    if (!this.checks || !inspect) return;
    this.checks.start(this.docker, {
      containerId: this.state.containerId!,
      pid: inspect.State?.Pid,
      networkMode: inspect.HostConfig?.NetworkMode,
    }, this.checkListener());
  }

  // Check results become TASK_RUNNING updates while the task runs, never once it is being killed.
  private checkListener(): CheckListener {
    const running = (): StatusFields => ({
      state: TaskState.TASK_RUNNING,
      ...(this.runningContainerStatus ? { container_status: this.runningContainerStatus } : {}),
    });
    const live = (): boolean => this.state.phase === 'running' && !this.state.kill;
    return {
      onHealth: (healthy, message) => {
        if (!live()) return;
        this.lastHealthy = healthy;
        this.healthResults.push({ at: isoTime(this.now()), healthy, ...(message ? { message: redact(message) } : {}) });
        if (this.healthResults.length > HEALTH_RESULTS_KEPT) this.healthResults.shift();
        this.dispatch({ type: 'check-update', fields: { ...running(), healthy, reason: Reason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED, ...(message ? { message } : {}) } });
      },
      onHealthKill: (detail) => {
        if (!live()) return;
        const graceMs = killGraceMs(undefined, this.task.kill_policy ?? undefined, this.options.shutdownGracePeriodMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
        log.warn(`Killing task ${this.taskId}: ${detail}`);
        this.dispatch({ type: 'kill', graceMs, cause: 'health-check', detail });
      },
      onCheckStatus: (checkStatus) => {
        if (!live()) return;
        const healthy = this.lastHealthy === undefined ? {} : { healthy: this.lastHealthy };
        this.dispatch({ type: 'check-update', fields: { ...running(), ...healthy, reason: Reason.REASON_TASK_CHECK_STATUS_UPDATED, check_status: checkStatus } });
      },
    };
  }

  // The exit status, surviving a broken wait connection by asking the daemon again; a string
  // when the daemon cannot tell (unreachable for too long).
  private async waitForExit(): Promise<Exit | string> {
    let pending: ExitWatch | undefined = this.exitWatch;
    let lostSince: number | undefined;
    let firstLost: number | undefined;
    const id = this.state.containerId!;
    for (;;) {
      try {
        if (!pending) throw new Error('no exit watch');
        const result = await pending.result;
        // Asked together: both answers lie on the way to the terminal update.
        const pastNow = this.pastEvents();
        let after = await this.inspect();
        // A daemon that vanishes right as the container exits stopped it on its way down.
        const daemonGone = after === undefined && (await this.daemonBack());
        if (daemonGone) after = await this.inspect();
        // Asked again once the daemon is back: the first answer may have been cut short by its going.
        const past = daemonGone ? await this.pastEvents() : await pastNow;
        const stoppedBy = this.state.kill ? undefined : past.signal;
        // The daemon cut the event query short: it was shutting down as the container exited.
        const cutShort = stoppedBy === DAEMON_AWAY;
        if (cutShort) await this.daemonBack();
        return {
          daemonStopped: daemonGone || cutShort,
          stoppedBy: cutShort ? undefined : stoppedBy,
          exitCode: result.statusCode,
          oomKilled: after?.parsed.State?.OOMKilled === true,
          oomKills: this.oomKillsAtEnd(past.oomEvents),
          error: result.error ?? (after?.parsed.State?.Error || undefined),
          memoryLimitBytes: after?.parsed.HostConfig?.Memory || undefined,
          ...exitTimes(after?.parsed),
          inspect: after?.raw,
        };
      } catch (error) {
        if (this.release.signal.aborted) return 'The task ended while its exit was awaited';
        lostSince ??= this.now();
        firstLost ??= lostSince;
        if (this.now() - lostSince > DAEMON_OUTAGE_MS) {
          return `Lost contact with the Docker daemon for more than ${DAEMON_OUTAGE_MS / 1000}s (${errorMessage(error)}): the container's fate is unknown`;
        }
        log.warn(`Lost the exit watch on the container of task ${this.taskId}: ${errorMessage(error)}; asking again`);
        await abortableSleep(DAEMON_POLL_MS, this.release.signal);
        if (this.release.signal.aborted) return 'The task ended while its exit was awaited';
        const now = await this.inspect();
        if (now && now.parsed.State?.Running === false && hasStarted(now.parsed)) {
          const finishedAt = Date.parse(now.parsed.State.FinishedAt ?? '');
          return {
            // It ended while the daemon was away: most likely stopped by the daemon's own shutdown.
            daemonStopped: !(finishedAt < firstLost - DAEMON_CLOCK_SLACK_MS),
            exitCode: now.parsed.State.ExitCode ?? -1,
            oomKilled: now.parsed.State.OOMKilled === true,
            oomKills: this.oomKillsAtEnd(0),
            error: now.parsed.State.Error || undefined,
            memoryLimitBytes: now.parsed.HostConfig?.Memory || undefined,
            ...exitTimes(now.parsed),
            inspect: now.raw,
          };
        }
        try {
          pending = await this.docker.wait(id, 'not-running', this.release.signal);
          lostSince = undefined;
        } catch (again) {
          pending = undefined;
          log.warn(`Cannot watch the container of task ${this.taskId}: ${errorMessage(again)}`);
        }
      }
    }
  }

  // From the daemon's own event log: the first signal sent to the container (by someone else
  // than this executor when it did not kill it: docker stop or kill by hand, a daemon shutdown),
  // and how many `oom` events it had.
  private async pastEvents(): Promise<{ signal: string | undefined; oomEvents: number }> {
    // A past `until` answers at once (a future one would hold the answer until then).
    const until = this.now() / 1000;
    try {
      const events = await this.docker.events(this.state.containerId!, ['kill', 'oom'], this.startedAt, until);
      const signal = events.find((event) => event.action === 'kill')?.attributes.signal;
      return { signal: signal === undefined ? undefined : eventSignal(signal), oomEvents: events.filter((event) => event.action === 'oom').length };
    } catch (error) {
      log.warn(`Could not read the container's events: ${errorMessage(error)}`);
      const away = error instanceof DockerError && error.code !== 'ERR_DOCKER_TIMEOUT' && error.status === undefined;
      return { signal: away ? DAEMON_AWAY : undefined, oomEvents: 0 };
    }
  }

  // Watches for OOM kills in the container while it runs: the daemon's `oom` events (from the
  // start, so that one an earlier executor missed is replayed) and the cgroup's counters.
  private watchMemory(): void {
    if (this.memoryWatched || !this.state.containerId || this.state.terminal !== undefined || this.release.signal.aborted) return;
    this.memoryWatched = true;
    void this.followOomEvents(this.state.containerId);
    this.sampleMemory();
    this.memoryTimer = setInterval(() => this.sampleMemory(), MEMORY_SAMPLE_MS);
    this.memoryTimer.unref();
    this.release.signal.addEventListener('abort', () => clearInterval(this.memoryTimer), { once: true });
  }

  // An OOM kill while the stream is down (the daemon restarting) raises no event, even replayed:
  // after a loss the counters are read at each attempt, and once more when the stream has held
  // for a poll interval (the daemon is back and sends what follows).
  private async followOomEvents(id: string): Promise<void> {
    let since = this.startedAt;
    let lost = false;
    while (!this.release.signal.aborted) {
      const recheck = lost ? setTimeout(() => this.sampleMemory(), DAEMON_POLL_MS) : undefined;
      try {
        await this.docker.followEvents(id, ['oom'], since, (event) => {
          if (event.action !== 'oom') return;
          since = Math.max(since, event.time);
          void this.noticeOom();
        }, this.release.signal);
      } catch (error) {
        if (this.release.signal.aborted) return;
        log.warn(`Lost the event stream of the container of task ${this.taskId}: ${errorMessage(error)}; following it again`);
      } finally {
        clearTimeout(recheck);
      }
      lost = true;
      this.sampleMemory();
      await abortableSleep(DAEMON_POLL_MS, this.release.signal);
    }
  }

  // The counters as they are now; undefined once the cgroup is gone (with the container).
  private sampleMemory(): MemoryCounters | undefined {
    const id = this.state.containerId;
    if (!id || this.release.signal.aborted) return undefined;
    const counters = readMemoryCounters({ containerId: id, cgroupParent: this.lastInspect?.HostConfig?.CgroupParent });
    if (!counters) return undefined;
    this.memory = { at: isoTime(this.now()), counters };
    if ((counters.oomKills ?? 0) > this.oomKillsReported) void this.noticeOom();
    return counters;
  }

  // An OOM kill in the container: the machine destroys the container at once. Whether the main
  // process was the victim shows as its exit within moments (then 137, SIGKILL).
  private noticeOom(): Promise<void> {
    // One at a time: a later notice (the daemon sends two events for one kill) waits for the first's verdict.
    this.oomNotice = this.oomNotice.then(() => this.oneOomNotice()).catch((error: unknown) => {
      log.error(`Could not act on the OOM kill in the container of task ${this.taskId}: ${errorMessage(error)}`);
    });
    return this.oomNotice;
  }

  private async oneOomNotice(): Promise<void> {
    const first = !this.oomNoticed;
    this.oomNoticed = true;
    let victim: 'main' | 'other' | undefined;
    if (first) {
      const exited = this.exitWatch
        ? await Promise.race([this.exitWatch.result.then((result) => result.statusCode, () => undefined), sleep(OOM_VICTIM_WINDOW_MS).then(() => undefined)])
        : undefined;
      victim = !this.exitWatch ? undefined : exited === undefined || exited !== 137 ? 'other' : 'main';
    }
    const counters = this.release.signal.aborted ? undefined : readMemoryCounters({ containerId: this.state.containerId!, cgroupParent: this.lastInspect?.HostConfig?.CgroupParent });
    if (counters) this.memory = { at: isoTime(this.now()), counters };
    const kills = Math.max(counters?.oomKills ?? this.memory?.counters.oomKills ?? 0, 1);
    if (!first && kills <= this.oomKillsReported) return;
    this.oomKillsReported = Math.max(this.oomKillsReported, kills);
    const limitBytes = counters?.limitBytes ?? (this.lastInspect?.HostConfig?.Memory || undefined);
    if (first) log.warn(`The kernel's OOM killer killed ${victim === 'main' ? 'the main process' : 'a process'} in the container of task ${this.taskId}${limitBytes ? ` (memory limit ${limitBytes} bytes)` : ''}`);
    this.dispatch({ type: 'oom', oom: { kills, victim, limitBytes } });
  }

  // OOM kills at the end: the cgroup's count when it was read, else one if the daemon saw any.
  private oomKillsAtEnd(oomEvents: number): number {
    this.sampleMemory();
    return Math.max(this.memory?.counters.oomKills ?? 0, this.oomNoticed || oomEvents > 0 ? 1 : 0);
  }

  // Waits (within the outage bound) for an unreachable daemon to answer again; true if it had gone.
  private async daemonBack(): Promise<boolean> {
    const deadline = this.now() + DAEMON_OUTAGE_MS;
    let away = false;
    try {
      await retry(() => this.docker.ping(), () => {
        away = true;
        return this.now() < deadline ? DAEMON_POLL_MS : undefined;
      }, this.release.signal);
    } catch {
      // Still away at the bound, or the task ended meanwhile.
    }
    return away;
  }

  private async drainOutput(): Promise<TaskEvent> {
    await this.output.drain(OUTPUT_DRAIN_TIMEOUT_MS);
    return { type: 'output-drained', stderrTail: this.output.stderrTail.lastWords(redact) };
  }

  // The container's log from its first byte, for an output stream that ended before the container.
  private async resumeOutput(): Promise<OutputStream | undefined> {
    const id = this.state.containerId;
    if (this.release.signal.aborted || this.state.terminal !== undefined || !id) return undefined;
    log.warn(`The output stream of task ${this.taskId} ended before the container did; resuming from its log`);
    await this.daemonBack();
    return this.docker.logs(id, this.release.signal);
  }

  // Lets go of every stream and watch, then removes the container; while the daemon is
  // unreachable (restarting) it keeps trying, within the outage bound, so nothing is left behind.
  private async removeContainer(): Promise<TaskEvent> {
    // The terminal update reported just before goes out on the next tick: it is not held up by
    // the work of letting go of every stream and starting the removal.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.release.abort();
    this.output.close();
    await this.checks?.stop();
    const id = this.state.containerId;
    if (!id) return { type: 'removed' };
    const deadline = this.now() + DAEMON_OUTAGE_MS;
    try {
      // The task's own signal is aborted by now: only the executor's end cuts this short.
      await retry(() => this.docker.remove(id), (attempt, error) => {
        const unreachable = error instanceof DockerError && error.code === 'ERR_DOCKER_UNREACHABLE';
        if ((!unreachable && attempt >= REMOVE_ATTEMPTS) || this.now() > deadline) return undefined;
        log.warn(`Could not remove the container of task ${this.taskId} yet: ${errorMessage(error)}`);
        return unreachable ? DAEMON_POLL_MS : 1000 * attempt;
      }, this.options.signal);
      log.info(`Removed the container of task ${this.taskId}`);
      this.writePostmortem(isoTime(this.now()));
    } catch (error) {
      log.error(`Could not remove the container of task ${this.taskId}: ${errorMessage(error)}; giving up`);
      this.writePostmortem(undefined);
    }
    return { type: 'removed' };
  }

  // After an abnormal end, what is known of it goes to the sandbox (the container is gone by now).
  private writePostmortem(removedAt: string | undefined): void {
    const terminal = this.state.terminal;
    if (!terminal || terminal.state === TaskState.TASK_FINISHED || this.options.adopt?.terminalReported) return;
    const content = postmortem({
      taskId: this.taskId,
      containerName: this.containerName,
      containerId: this.state.containerId,
      terminal: [...this.timeline].reverse().find((entry) => entry.state === stateName(terminal.state)),
      labels: terminal.labels?.labels ?? [],
      removedAt,
      timeline: this.timeline,
      healthChecks: this.healthResults,
      memory: this.memory,
      memoryLimitBytes: this.lastInspect?.HostConfig?.Memory || undefined,
      oom: this.state.oom,
      output: { stdout: this.output.stdoutTail.text(redact), stderr: this.output.stderrTail.text(redact) },
      inspect: this.state.exit?.inspect,
      secretNames: secretVariableNames(this.task),
    }, redact);
    try {
      writeSandboxFile(this.options.context.sandboxDirectory, POSTMORTEM_FILE, content);
    } catch (error) {
      log.warn(`Could not write ${POSTMORTEM_FILE} for task ${this.taskId}: ${errorMessage(error)}`);
    }
  }
}

// Aborts `child` when `parent` aborts.
function childOf(child: AbortController, parent: AbortSignal | undefined): void {
  if (!parent) return;
  if (parent.aborted) child.abort(parent.reason);
  else parent.addEventListener('abort', () => child.abort(parent.reason), { once: true });
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

function timelineEntry(fields: StatusFields, now: number): TimelineEntry {
  const reason = fields.reason == null ? undefined : Reason[fields.reason] as string | undefined;
  return {
    at: isoTime(now),
    state: stateName(fields.state),
    ...(reason ? { reason } : {}),
    ...(fields.message ? { message: redact(fields.message) } : {}),
    ...(fields.healthy != null ? { healthy: fields.healthy } : {}),
  };
}

// Create, start and exit times from the final inspect.
function exitTimes(inspect: ContainerInspect | undefined): Pick<ContainerExit, 'createdAt' | 'startedAt' | 'finishedAt'> {
  return { createdAt: inspect?.Created, startedAt: inspect?.State?.StartedAt, finishedAt: inspect?.State?.FinishedAt };
}

// Docker's events give the signal as a number, or as the name it was asked for.
function eventSignal(signal: string): string {
  const number = Number(signal);
  return Number.isInteger(number) ? (signalName(number) ?? `signal ${number}`) : signal;
}

function runningStatus(inspect: Inspected, task: mesos.v1.ITaskInfo): StatusFields {
  // `data` carries the inspect output as `docker inspect` prints it: a JSON array.
  const data = Buffer.concat([Buffer.from('['), inspect.raw, Buffer.from(']')]);
  const { ipv4, ipv6 } = containerAddresses(inspect.parsed);
  const fields: StatusFields = { state: TaskState.TASK_RUNNING, data };
  if (ipv4 || ipv6) {
    const template = task.container?.network_infos?.[0];
    const networkInfo: mesos.v1.INetworkInfo = {
      ...(template?.name ? { name: template.name } : {}),
      ...(template?.groups?.length ? { groups: template.groups } : {}),
      ...(template?.labels ? { labels: template.labels } : {}),
      ip_addresses: [
        ...(ipv4 ? [{ ip_address: ipv4 }] : []),
        ...(ipv6 ? [{ protocol: mesos.v1.NetworkInfo.Protocol.IPv6, ip_address: ipv6 }] : []),
      ],
    };
    fields.container_status = { network_infos: [networkInfo] };
  }
  return fields;
}

function launchFailure(what: string, error: unknown, selfExplaining = false): StatusFields {
  return {
    state: TaskState.TASK_FAILED,
    reason: Reason.REASON_CONTAINER_LAUNCH_FAILED,
    message: selfExplaining ? errorMessage(error) : `${what}: ${errorMessage(error)}`,
  };
}

