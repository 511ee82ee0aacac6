// The state machine that owns the task: it creates and starts the container, streams its output,
// reports STARTING, RUNNING and exactly one terminal update, applies kills, and removes the
// container at the end. States: starting -> running -> (killing) -> terminated.
import type { Writable } from 'node:stream';
import type { Socket } from 'node:net';
import type { mesos } from '../proto/generated/mesos.js';
import { containerSpec, type ContainerContext } from '../docker/container-spec.js';
import { policyViolation } from '../docker/container-policy.js';
import { realHostPath } from '../docker/real-host-path.js';
import type { ContainerPolicy } from '../config/policy-flags.js';
import { containerAddresses, hasStarted, stopSignal, type ContainerInspect } from '../docker/container-inspect.js';
import { DockerError } from '../docker/docker-error.js';
import type { DockerEngine, WaitResult } from '../docker/engine.js';
import { ensureImage, ImagePullError } from '../docker/image-pull.js';
import { parseImageReference } from '../docker/image-reference.js';
import { demuxOutput } from '../docker/output-demux.js';
import { identityMismatch } from '../docker/container-owner.js';
import { loadRegistryAuth, RegistryAuthError } from '../docker/registry-auth.js';
import { errorMessage, log, registerSecret } from '../log.js';
import { InvalidCheckError } from '../checks/check-definition.js';
import { TaskChecks, type CheckListener } from '../checks/task-checks.js';
import { killGraceMs } from './kill-grace.js';
import { LongTimeout, settlesWithin, sleep, timerMs } from '../timers.js';
import { signalName } from './signals.js';
import { KillEscalation } from './kill-escalation.js';
import { skipFirstBytes } from './skip-bytes.js';
import { taskProblem } from './task-validation.js';
import type { StatusFields } from './task-status.js';
import { isTerminalState, Reason, stateName, TaskState } from './task-states.js';
import { terminalStatus, type ContainerExit, type KillCause } from './terminal-status.js';

export type Phase = 'starting' | 'running' | 'killing' | 'terminated';

export interface TaskRunnerOptions {
  readonly task: mesos.v1.ITaskInfo;
  readonly docker: DockerEngine;
  readonly context: ContainerContext;
  readonly taskKillingCapable: boolean;
  // --docker_config as given, for registry credentials.
  readonly dockerConfig: string | undefined;
  readonly stdout: Writable;
  readonly stderr: Writable;
  // MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: the grace of a health-check kill without a kill policy.
  readonly shutdownGracePeriodMs?: number;
  // Take over the container an earlier executor of this sandbox started, instead of creating one.
  readonly adopt?: Adoption;
  // Operator policy (--allow_privileged and friends); none means the stock executor's parity.
  readonly policy?: ContainerPolicy;
  report(fields: StatusFields): void;
  // Something a restarted executor would need changed (a kill began or shortened): checkpoint it.
  changed?(): void;
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

interface KillRequest {
  cause: KillCause;
  graceMs: number;
}

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
// How long after its output stream ends a container's exit may take to be seen.
const OUTPUT_EXIT_GRACE_MS = 2000;

type OutputStream = AsyncIterable<Buffer> & { destroy(): void };

// The agent's default MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD.
const DEFAULT_SHUTDOWN_GRACE_MS = 5000;

// Docker's events give the signal as a number, or as the name it was asked for.
function eventSignal(signal: string): string {
  const number = Number(signal);
  return Number.isInteger(number) ? (signalName(number) ?? `signal ${number}`) : signal;
}

export class TaskRunner {
  readonly taskId: string;
  readonly task: mesos.v1.ITaskInfo;
  // Settles once the terminal update is reported and the container is gone.
  readonly done: Promise<void>;
  private readonly options: TaskRunnerOptions;
  private readonly docker: DockerEngine;
  private phaseValue: Phase = 'starting';
  private containerId: string | undefined;
  private started = false;
  // Unix seconds just before the start, for reading the container's events.
  private startedAt = 0;
  private killRequest: KillRequest | undefined;
  // Set when an adopted kill already sent the container its stop signal.
  private resumedStopSignalSent = false;
  // When the kill's SIGKILL is due (epoch ms), for the checkpoint.
  private killDeadline: number | undefined;
  // Aborts an image pull only: a kill during the pull abandons it (the task will never run).
  private readonly pullAbort = new AbortController();
  private escalation: KillEscalation | undefined;
  private completionTimer: LongTimeout | undefined;
  private readonly abort = new AbortController();
  // Settles with a reason when waiting for the container's exit is pointless.
  private giveUpWaiting: (reason: string) => void = () => undefined;
  private readonly unconfirmed = new Promise<string>((resolve) => {
    this.giveUpWaiting = resolve;
  });
  private killConfirmTimer: NodeJS.Timeout | undefined;
  // The output stream being copied now, and whether the container's exit has been seen.
  private outputStream: OutputStream | undefined;
  private exitSeen = false;
  private noticeExit: () => void = () => undefined;
  private readonly exitNoticed = new Promise<void>((resolve) => {
    this.noticeExit = resolve;
  });
  // The task's health check and general check, once validated.
  private checks: TaskChecks | undefined;
  // What every health and check update repeats from TASK_RUNNING, and the last health verdict.
  private runningContainerStatus: mesos.v1.IContainerStatus | undefined;
  private lastHealthy: boolean | undefined;
  // Why the health check killed the task, for its terminal update.
  private healthKillDetail: string | undefined;

  constructor(options: TaskRunnerOptions) {
    this.options = options;
    this.task = options.task;
    this.taskId = options.task.task_id?.value ?? '';
    this.docker = options.docker;
    // Started on the next tick, so the owner holds this runner before its first report.
    this.done = Promise.resolve().then(() => this.run());
  }

  get phase(): Phase {
    return this.phaseValue;
  }

  get containerName(): string {
    return this.options.context.containerName;
  }

  // A kill from the framework, shutdown, or a deadline. A later request can only shorten the grace.
  kill(graceMs: number, cause: KillCause): void {
    if (this.phaseValue === 'terminated') return;
    const first = this.killRequest === undefined;
    if (first) {
      this.completionTimer?.cancel();
      this.killRequest = { cause, graceMs };
      if (this.options.taskKillingCapable && cause !== 'max-completion') {
        this.report({ state: TaskState.TASK_KILLING });
      }
      this.phaseValue = 'killing';
      void this.checks?.stop();
      // A pull in progress is abandoned: the task will never run. (Nothing else is aborted: an
      // adoption's watch on the container must live on to see the kill through.)
      this.pullAbort.abort();
    } else if (graceMs < this.killRequest!.graceMs) {
      this.killRequest!.graceMs = graceMs;
    }
    this.killDeadline = Math.min(this.killDeadline ?? Infinity, Date.now() + Math.max(0, graceMs));
    if (this.started) this.escalate(graceMs);
    this.options.changed?.();
  }

  // The kill in progress, for the checkpoint; undefined when there is none.
  get killInProgress(): KillInProgress | undefined {
    if (!this.killRequest || this.killDeadline === undefined || this.phaseValue === 'terminated') return undefined;
    return {
      cause: this.killRequest.cause,
      graceMs: this.killRequest.graceMs,
      deadline: this.killDeadline,
      stopSignalSent: this.escalation?.stopSignalSent ?? false,
    };
  }

  private async run(): Promise<void> {
    try {
      await this.lifecycle();
    } catch (error) {
      // Anything unexpected still ends in one terminal update and no container left behind.
      log.error(`Task ${this.taskId} failed unexpectedly: ${errorMessage(error)}`);
      this.finish({ state: TaskState.TASK_FAILED, message: `Executor error: ${errorMessage(error)}` });
    } finally {
      this.completionTimer?.cancel();
      clearTimeout(this.killConfirmTimer);
      this.escalation?.cancel();
      this.abort.abort();
      this.pullAbort.abort();
      await this.checks?.stop();
      await this.removeContainer();
    }
  }

  private async lifecycle(): Promise<void> {
    // Validated first, so that every update carries check_status when the task has a check.
    let invalidChecks: string | undefined;
    try {
      this.checks = new TaskChecks(this.task);
    } catch (error) {
      if (!(error instanceof InvalidCheckError)) throw error;
      invalidChecks = error.message;
    }
    if (this.options.adopt) return this.adoptContainer(this.options.adopt);
    this.report({ state: TaskState.TASK_STARTING });
    this.armCompletionTimer();

    const problem = taskProblem(this.task);
    if (problem) {
      this.finish({ state: TaskState.TASK_FAILED, reason: Reason.REASON_TASK_INVALID, message: `Invalid task: ${problem}` });
      return;
    }
    let spec;
    try {
      spec = containerSpec(this.task, this.options.context);
    } catch (error) {
      this.finish({
        state: TaskState.TASK_FAILED,
        reason: Reason.REASON_TASK_INVALID,
        message: `Failed to create docker run options: ${errorMessage(error)}`,
      });
      return;
    }
    spec.secrets.forEach(registerSecret);
    if (invalidChecks) {
      this.finish({ state: TaskState.TASK_FAILED, reason: Reason.REASON_TASK_INVALID, message: `Invalid check definition: ${invalidChecks}` });
      return;
    }
    const refusal = this.options.policy && policyViolation(this.task, spec.body, this.options.policy, this.options.context.sandboxDirectory, realHostPath);
    if (refusal) {
      this.finish({ state: TaskState.TASK_FAILED, reason: Reason.REASON_TASK_INVALID, message: refusal });
      return;
    }

    if (!(await this.imageReady(spec.image))) return;
    if (this.killedBeforeStart('before its container was created')) return;

    try {
      const created = await this.docker.json<{ Id: string }>(
        'POST',
        `/containers/create?name=${encodeURIComponent(spec.name)}`,
        { body: spec.body },
      );
      this.containerId = created.Id;
    } catch (error) {
      this.finish(launchFailure(`Failed to create container ${spec.name}`, error));
      return;
    }
    log.info(`Created container ${spec.name} (${this.containerId.slice(0, 12)}) for task ${this.taskId}`);
    if (this.killedBeforeStart('before its container was started')) return;

    await this.attachAndStart(spec.name, true);
  }

  // Attaches before the start (so every byte of output is captured), registers the exit watch,
  // starts the container and follows it to its end.
  private async attachAndStart(name: string, reportRunning: boolean): Promise<void> {
    let output: Promise<void>;
    let socket: Socket;
    let exit: { result: Promise<WaitResult> };
    try {
      socket = await this.docker.attach(this.containerId!);
      output = this.pumpOutput(socket, { stdout: 0, stderr: 0 }, false);
      exit = await this.docker.waitForExit(this.containerId!, this.abort.signal);
    } catch (error) {
      if (!this.killedBeforeStart('before its container was started')) {
        this.finish(launchFailure(`Failed to attach to container ${name}`, error));
      }
      return;
    }
    if (this.killedBeforeStart('before its container was started')) return;

    try {
      await this.docker.expect('POST', `/containers/${this.containerId}/start`);
    } catch (error) {
      socket.destroy();
      this.finish(launchFailure(`Failed to start container ${name}`, error));
      return;
    }
    this.started = true;
    this.startedAt = Math.floor(Date.now() / 1000) - 1;

    await this.follow(exit, output, reportRunning);
  }

  // Watches a started container to its end: RUNNING (unless already reported), checks, kills,
  // the exit, the rest of its output, and the one terminal update.
  private async follow(exit: { result: Promise<WaitResult> }, output: Promise<void>, reportRunning: boolean): Promise<void> {
    const inspect = await this.inspect();
    // A kill during the inspect already chose SIGTERM; its deadline stands.
    if (inspect && !this.escalation) {
      this.escalation = new KillEscalation({
        stopSignal: stopSignal(inspect.parsed),
        signal: (signal) => this.signalContainer(signal),
        stopSignalSent: this.resumedStopSignalSent,
      });
    }
    if (this.killRequest) {
      this.escalate(this.killDeadline === undefined ? this.killRequest.graceMs : Math.max(0, this.killDeadline - Date.now()));
    } else if (inspect && hasStarted(inspect.parsed)) {
      this.phaseValue = 'running';
      const running = this.runningStatus(inspect);
      this.runningContainerStatus = running.container_status ?? undefined;
      if (reportRunning) this.report(running);
      this.checks?.start(this.docker, {
        containerId: this.containerId!,
        pid: inspect.parsed.State?.Pid,
        networkMode: inspect.parsed.HostConfig?.NetworkMode,
      }, this.checkListener());
    }

    const waited = await this.waitForExit(exit);
    this.exitSeen = true;
    this.noticeExit();
    // No check result may follow the container's end.
    void this.checks?.stop();
    if (typeof waited === 'string') {
      this.outputStream?.destroy();
      this.finish({ state: TaskState.TASK_FAILED, message: waited });
      return;
    }
    await this.drainOutput(output);
    this.finish(this.terminal(waited));
  }

  // After an executor restart: find the container by name, replay its output past what the
  // sandbox files hold, and follow it as if this executor had started it.
  private async adoptContainer(adoption: Adoption): Promise<void> {
    const name = this.options.context.containerName;
    let found = await this.inspectContainer(name);
    const foreign = found && identityMismatch(found.parsed.Config?.Labels, this.options.context.labels);
    if (foreign) {
      // Not ours: never followed, exec'd into, reported on or removed.
      log.error(`Container ${name} does not carry this task's owner labels (${foreign} differs); it is left alone`);
      found = undefined;
    }
    if (adoption.terminalReported) {
      this.containerId = found?.parsed.Id;
      this.phaseValue = 'terminated';
      return;
    }
    if (!found) {
      this.finish({
        state: TaskState.TASK_FAILED,
        reason: Reason.REASON_EXECUTOR_TERMINATED,
        message: foreign
          ? `The executor restarted and container ${name} is not this task's (its owner labels differ): it was not adopted`
          : `The executor restarted and container ${name} is gone: it was removed while no executor watched it`,
      });
      return;
    }
    this.containerId = found.parsed.Id ?? name;
    const runningReported = adoption.lastState !== undefined && adoption.lastState !== TaskState.TASK_STARTING;
    if (!hasStarted(found.parsed)) {
      // The earlier executor died between create and start: the task has not run yet.
      log.warn(`Container ${name} of task ${this.taskId} was created but never started; starting it`);
      this.armCompletionTimer();
      await this.attachAndStart(name, !runningReported);
      return;
    }
    if (adoption.kill) this.resumeKill(adoption.kill);
    this.started = true;
    const startedMs = Date.parse(found.parsed.State?.StartedAt ?? '');
    this.startedAt = Number.isFinite(startedMs) ? Math.floor(startedMs / 1000) - 1 : 0;
    this.armCompletionTimer(Number.isFinite(startedMs) ? Date.now() - startedMs : 0);
    log.warn(`Adopting container ${name} of task ${this.taskId} (${found.parsed.State?.Status ?? 'unknown state'})`);
    if (!adoption.written) log.warn('The sandbox output files cannot be re-read (not regular files): replayed output may repeat');
    const skip = adoption.written ?? { stdout: 0, stderr: 0 };

    let output: Promise<void>;
    let exit: { result: Promise<WaitResult> };
    try {
      const logs = await this.docker.followLogs(this.containerId);
      output = this.pumpOutput(logs, { ...skip }, true);
      exit = await this.docker.waitForExit(this.containerId, this.abort.signal, 'not-running');
    } catch (error) {
      this.finish(launchFailure(`Failed to re-attach to container ${name}`, error));
      return;
    }
    await this.follow(exit, output, !runningReported);
  }

  // The earlier executor's kill goes on: no second stop signal (a task mid-way through its
  // shutdown would start over), SIGKILL at the same deadline, and no check runs.
  private resumeKill(kill: KillInProgress): void {
    log.warn(`Carrying on the ${kill.cause} kill of task ${this.taskId} begun by the earlier executor`);
    this.killRequest = { cause: kill.cause, graceMs: kill.graceMs };
    this.killDeadline = kill.deadline;
    this.phaseValue = 'killing';
    this.resumedStopSignalSent = kill.stopSignalSent;
  }

  private async inspectContainer(name: string): Promise<{ raw: Buffer; parsed: ContainerInspect } | undefined> {
    try {
      const response = await this.docker.expect('GET', `/containers/${encodeURIComponent(name)}/json`);
      return { raw: response.body, parsed: JSON.parse(response.body.toString('utf8')) as ContainerInspect };
    } catch (error) {
      if (!(error instanceof DockerError && error.notFound)) log.error(`Could not inspect container ${name}: ${errorMessage(error)}`);
      return undefined;
    }
  }

  // The image is used when present, pulled when missing or when force_pull_image is set, with
  // the sandbox's or the operator's registry credentials; progress goes out as TASK_STARTING.
  private async imageReady(image: string): Promise<boolean> {
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
        timeoutMs: this.docker.timeoutMs,
        progressIntervalMs: PULL_PROGRESS_INTERVAL_MS,
      });
      if (pulled) log.info(`Pulled image '${image}' for task ${this.taskId}${auth ? ` with credentials from ${auth.source}` : ''}`);
      return true;
    } catch (error) {
      if (error instanceof ImagePullError && error.kind === 'cancelled') {
        this.killedBeforeStart('while its image was being pulled');
      } else {
        this.finish(launchFailure('Failed to get the image', error, error instanceof ImagePullError || error instanceof RegistryAuthError));
      }
      return false;
    }
  }

  private killedBeforeStart(when: string): boolean {
    if (!this.killRequest) return false;
    this.finish({
      state: this.killRequest.cause === 'max-completion' ? TaskState.TASK_FAILED : TaskState.TASK_KILLED,
      reason: this.killRequest.cause === 'max-completion'
        ? Reason.REASON_MAX_COMPLETION_TIME_REACHED
        : Reason.REASON_TASK_KILLED_DURING_LAUNCH,
      message: `Task was killed ${when}`,
    });
    return true;
  }

  private armCompletionTimer(elapsedMs = 0): void {
    const nanos = Number(this.task.max_completion_time?.nanoseconds ?? 0);
    if (!(nanos > 0)) return;
    this.completionTimer = new LongTimeout(() => this.kill(0, 'max-completion'), nanos / 1e6 - elapsedMs);
  }

  private escalate(graceMs: number): void {
    if (!this.escalation) {
      this.escalation = new KillEscalation({ stopSignal: 'SIGTERM', signal: (signal) => this.signalContainer(signal) });
    }
    this.escalation.request(graceMs);
  }

  private async signalContainer(signal: string): Promise<void> {
    if (!this.containerId) return;
    log.info(`Sending ${signal} to container of task ${this.taskId}`);
    if (signal === 'SIGKILL' && !this.killConfirmTimer) {
      const boundMs = this.docker.timeoutMs + KILL_CONFIRM_SLACK_MS;
      this.killConfirmTimer = setTimeout(() => {
        this.giveUpWaiting(`The Docker daemon did not confirm that the container stopped within ${Math.round(boundMs / 1000)}s of SIGKILL`);
      }, timerMs(boundMs));
    }
    try {
      await this.docker.expect('POST', `/containers/${this.containerId}/kill?signal=${encodeURIComponent(signal)}`);
    } catch (error) {
      // 409: it is no longer running, which is what we wanted.
      if (!(error instanceof DockerError && (error.status === 409 || error.status === 404))) {
        log.warn(`Could not send ${signal} to the container of task ${this.taskId}: ${errorMessage(error)}`);
      }
    }
  }

  private async inspect(): Promise<{ raw: Buffer; parsed: ContainerInspect } | undefined> {
    try {
      const response = await this.docker.expect('GET', `/containers/${this.containerId}/json`);
      return { raw: response.body, parsed: JSON.parse(response.body.toString('utf8')) as ContainerInspect };
    } catch (error) {
      log.warn(`Could not inspect the container of task ${this.taskId}: ${errorMessage(error)}`);
      return undefined;
    }
  }

  private runningStatus(inspect: { raw: Buffer; parsed: ContainerInspect }): StatusFields {
    // `data` carries the inspect output as `docker inspect` prints it: a JSON array.
    const data = Buffer.concat([Buffer.from('['), inspect.raw, Buffer.from(']')]);
    const { ipv4, ipv6 } = containerAddresses(inspect.parsed);
    const fields: StatusFields = { state: TaskState.TASK_RUNNING, data };
    if (ipv4 || ipv6) {
      const template = this.task.container?.network_infos?.[0];
      const networkInfo: mesos.v1.INetworkInfo = {
        ...(template?.name ? { name: template.name } : {}),
        ...(template?.groups?.length ? { groups: template.groups } : {}),
        ...(template?.labels ? { labels: template.labels } : {}),
        ip_addresses: [
          ...(ipv4 ? [{ ip_address: ipv4 }] : []),
          ...(ipv6 ? [{ protocol: 2, ip_address: ipv6 }] : []),
        ],
      };
      fields.container_status = { network_infos: [networkInfo] };
    }
    return fields;
  }

  // The exit status, surviving a broken wait connection by asking the daemon again. Undefined
  // when the daemon cannot tell: unreachable for too long, or silent after SIGKILL.
  private async waitForExit(first: { result: Promise<WaitResult> }): Promise<(ContainerExit & { inspect?: Buffer | undefined }) | string> {
    let pending: { result: Promise<WaitResult> } | undefined = first;
    let lostSince: number | undefined;
    let firstLost: number | undefined;
    for (;;) {
      try {
        if (!pending) throw new Error('no exit watch');
        const result = await Promise.race([pending.result, this.unconfirmed]);
        if (typeof result === 'string') return result;
        let after = await this.inspect();
        // A daemon that vanishes right as the container exits stopped it on its way down.
        const daemonGone = after === undefined && (await this.daemonBack());
        if (daemonGone) after = await this.inspect();
        const stoppedBy = this.killRequest ? undefined : await this.externalStopSignal();
        // The daemon cut the event query short: it was shutting down as the container exited.
        const cutShort = stoppedBy === DAEMON_AWAY;
        if (cutShort) await this.daemonBack();
        return {
          daemonStopped: daemonGone || cutShort,
          stoppedBy: cutShort ? undefined : stoppedBy,
          exitCode: result.statusCode,
          oomKilled: after?.parsed.State?.OOMKilled === true,
          error: result.error ?? (after?.parsed.State?.Error || undefined),
          memoryLimitBytes: after?.parsed.HostConfig?.Memory || undefined,
          inspect: after?.raw,
        };
      } catch (error) {
        lostSince ??= Date.now();
        firstLost ??= lostSince;
        if (Date.now() - lostSince > DAEMON_OUTAGE_MS) {
          return `Lost contact with the Docker daemon for more than ${DAEMON_OUTAGE_MS / 1000}s (${errorMessage(error)}): the container's fate is unknown`;
        }
        log.warn(`Lost the exit watch on the container of task ${this.taskId}: ${errorMessage(error)}; asking again`);
        const late = await Promise.race([sleep(1000), this.unconfirmed]);
        if (typeof late === 'string') return late;
        const now = await this.inspect();
        if (now && now.parsed.State?.Running === false && hasStarted(now.parsed)) {
          const finishedAt = Date.parse(now.parsed.State.FinishedAt ?? '');
          return {
            // It ended while the daemon was away: most likely stopped by the daemon's own shutdown.
            daemonStopped: !(finishedAt < firstLost - DAEMON_CLOCK_SLACK_MS),
            exitCode: now.parsed.State.ExitCode ?? -1,
            oomKilled: now.parsed.State.OOMKilled === true,
            error: now.parsed.State.Error || undefined,
            memoryLimitBytes: now.parsed.HostConfig?.Memory || undefined,
            inspect: now.raw,
          };
        }
        try {
          pending = await this.docker.waitForExit(this.containerId!, this.abort.signal, 'not-running');
          lostSince = undefined;
        } catch (again) {
          pending = undefined;
          log.warn(`Cannot watch the container of task ${this.taskId}: ${errorMessage(again)}`);
        }
      }
    }
  }

  // A signal sent to the container by someone other than this executor (docker stop or kill by
  // hand, a daemon shutdown), from the daemon's own event log.
  private async externalStopSignal(): Promise<string | undefined> {
    const filters = encodeURIComponent(JSON.stringify({ container: [this.containerId], type: ['container'], event: ['kill'] }));
    // A past `until` answers at once (a future one would hold the answer until then).
    const until = (Date.now() / 1000).toFixed(3);
    try {
      const response = await this.docker.expect('GET', `/events?since=${this.startedAt}&until=${until}&filters=${filters}`);
      const events = response.body.toString('utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { Actor?: { Attributes?: Record<string, string> } });
      const signal = events[0]?.Actor?.Attributes?.signal;
      return signal === undefined ? undefined : eventSignal(signal);
    } catch (error) {
      log.warn(`Could not read the container's events: ${errorMessage(error)}`);
      return error instanceof DockerError && error.code !== 'ERR_DOCKER_TIMEOUT' && error.status === undefined ? DAEMON_AWAY : undefined;
    }
  }

  // Waits (within the outage bound) for an unreachable daemon to answer again; true if it had gone.
  private async daemonBack(): Promise<boolean> {
    const deadline = Date.now() + DAEMON_OUTAGE_MS;
    let away = false;
    while (Date.now() < deadline) {
      try {
        await this.docker.ping();
        return away;
      } catch {
        away = true;
        const late = await Promise.race([sleep(1000), this.unconfirmed]);
        if (typeof late === 'string') return true;
      }
    }
    return away;
  }

  // Copies the container's output into the sandbox until the container has stopped. If the
  // stream breaks first (the daemon went away, or was restarted with live-restore), it resumes
  // from the log driver's copy, past the bytes already written: nothing lost, nothing repeated.
  private async pumpOutput(first: OutputStream, written: { stdout: number; stderr: number }, replay: boolean): Promise<void> {
    let stream = first;
    let skip = replay ? { ...written } : { stdout: 0, stderr: 0 };
    for (;;) {
      this.outputStream = stream;
      // A replayed stream starts from the container's first byte; a live one where we are.
      const totals = { stdoutBytes: 0, stderrBytes: 0 };
      let broken = false;
      try {
        await demuxOutput(stream, skipFirstBytes(this.options.stdout, skip.stdout), skipFirstBytes(this.options.stderr, skip.stderr), totals);
      } catch (error) {
        broken = true;
        log.warn(`The output stream of task ${this.taskId} broke: ${errorMessage(error)}`);
      }
      written.stdout = replay ? Math.max(skip.stdout, totals.stdoutBytes) : written.stdout + totals.stdoutBytes;
      written.stderr = replay ? Math.max(skip.stderr, totals.stderrBytes) : written.stderr + totals.stderrBytes;
      // Ending with the container is the normal end; the exit is seen within moments of it.
      if (!this.exitSeen) await Promise.race([this.exitNoticed, sleep(OUTPUT_EXIT_GRACE_MS)]);
      if (this.exitSeen && !broken) return;
      if (this.abort.signal.aborted || this.phaseValue === 'terminated' || !this.containerId) return;
      log.warn(`The output stream of task ${this.taskId} ended before the container did; resuming from its log`);
      await this.daemonBack();
      try {
        stream = await this.docker.followLogs(this.containerId);
      } catch (error) {
        log.error(`Cannot resume the output of task ${this.taskId}: ${errorMessage(error)}; output written since is missing from the sandbox`);
        return;
      }
      replay = true;
      skip = { ...written };
    }
  }

  private async drainOutput(output: Promise<void>): Promise<void> {
    if (!(await settlesWithin(output, OUTPUT_DRAIN_TIMEOUT_MS))) {
      log.error(`The output stream of task ${this.taskId} did not end within ${OUTPUT_DRAIN_TIMEOUT_MS} ms of the container's exit; closing it`);
      this.outputStream?.destroy();
    }
  }

  private terminal(exit: ContainerExit & { inspect?: Buffer | undefined }): StatusFields {
    const kill = this.killRequest
      ? {
        cause: this.killRequest.cause,
        graceMs: this.killRequest.graceMs,
        stopSignal: this.escalation?.stopSignalSent ? this.escalation.stopSignal : 'SIGKILL',
        sigkillSent: this.escalation?.sigkillSent ?? false,
        detail: this.killRequest.cause === 'health-check' ? this.healthKillDetail : undefined,
      }
      : undefined;
    // The final inspect rides along, for a post-mortem of how the container ended.
    const data = exit.inspect ? Buffer.concat([Buffer.from('['), exit.inspect, Buffer.from(']')]) : undefined;
    return { ...terminalStatus(exit, kill), ...(data ? { data } : {}) };
  }

  private finish(fields: StatusFields): void {
    if (this.phaseValue === 'terminated') return;
    if (!isTerminalState(fields.state)) throw new Error(`finish() needs a terminal state, got ${stateName(fields.state)}`);
    this.phaseValue = 'terminated';
    this.report(fields);
  }

  // With a general check, every update carries the current check_status (spec 3.13).
  private report(fields: StatusFields): void {
    const checkStatus = fields.check_status ? undefined : this.checks?.currentCheckStatus;
    this.options.report(checkStatus ? { ...fields, check_status: checkStatus } : fields);
  }

  // Check results become TASK_RUNNING updates while the task runs, never once it is being killed.
  private checkListener(): CheckListener {
    const running = (): StatusFields => ({
      state: TaskState.TASK_RUNNING,
      ...(this.runningContainerStatus ? { container_status: this.runningContainerStatus } : {}),
    });
    return {
      onHealth: (healthy, message) => {
        if (this.phaseValue !== 'running') return;
        this.lastHealthy = healthy;
        this.report({ ...running(), healthy, reason: Reason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED, ...(message ? { message } : {}) });
      },
      onHealthKill: (detail) => {
        if (this.phaseValue !== 'running') return;
        this.healthKillDetail = detail;
        const graceMs = killGraceMs(undefined, this.task.kill_policy ?? undefined, this.options.shutdownGracePeriodMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
        log.warn(`Killing task ${this.taskId}: ${detail}`);
        this.kill(graceMs, 'health-check');
      },
      onCheckStatus: (checkStatus) => {
        if (this.phaseValue !== 'running') return;
        const healthy = this.lastHealthy === undefined ? {} : { healthy: this.lastHealthy };
        this.report({ ...running(), ...healthy, reason: Reason.REASON_TASK_CHECK_STATUS_UPDATED, check_status: checkStatus });
      },
    };
  }

  // Removes the container; while the daemon is unreachable (restarting) it keeps trying, within
  // the outage bound, so that nothing is left behind.
  private async removeContainer(): Promise<void> {
    if (!this.containerId) return;
    const deadline = Date.now() + DAEMON_OUTAGE_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.docker.expect('DELETE', `/containers/${this.containerId}?v=1&force=1`);
        log.info(`Removed the container of task ${this.taskId}`);
        return;
      } catch (error) {
        if (error instanceof DockerError && error.notFound) return;
        const unreachable = error instanceof DockerError && error.code === 'ERR_DOCKER_UNREACHABLE';
        if ((!unreachable && attempt >= REMOVE_ATTEMPTS) || Date.now() > deadline) {
          log.error(`Could not remove the container of task ${this.taskId}: ${errorMessage(error)}; giving up`);
          return;
        }
        log.warn(`Could not remove the container of task ${this.taskId} yet: ${errorMessage(error)}`);
        await sleep(unreachable ? 1000 : 1000 * attempt);
      }
    }
  }
}

function launchFailure(what: string, error: unknown, selfExplaining = false): StatusFields {
  return {
    state: TaskState.TASK_FAILED,
    reason: Reason.REASON_CONTAINER_LAUNCH_FAILED,
    message: selfExplaining ? errorMessage(error) : `${what}: ${errorMessage(error)}`,
  };
}
