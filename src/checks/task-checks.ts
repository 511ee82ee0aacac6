// The checks of one task: its health check (spec 3.12) and its general check (spec 3.13), from
// validation at launch to the last attempt. The task runner reports what this decides: health
// updates, check status updates, the check_status every update carries, and a kill after too
// many consecutive health failures.
import type { ContainerRuntime } from '../docker/container-runtime.js';
import type { mesos } from '../proto/generated/mesos.js';
import { log, registerSecret } from '../log.js';
import {
  checkDefinition,
  describeProbe,
  healthCheckDefinition,
  type GeneralCheckDefinition,
  type HealthCheckDefinition,
  type ProbeDefinition,
} from './check-definition.js';
import { noteIntervalFloor } from './check-interval.js';
import { CheckScheduler } from './check-scheduler.js';
import { checkStatusAfter, emptyCheckStatus, sameCheckStatus, type CheckStatus } from './check-status.js';
import { commandProbe } from './command-probe.js';
import { INITIAL_HEALTH, interpretHealth, type HealthState } from './health-state.js';
import { httpProbe, tcpProbe } from './network-probe.js';
import { describeResult, isHealthy, type ProbeResult } from './probe-result.js';

// The running container, from the inspect behind TASK_RUNNING.
export interface CheckTarget {
  readonly containerId: string;
  // State.Pid: the container's main process on the host.
  readonly pid: number | undefined;
  // HostConfig.NetworkMode.
  readonly networkMode: string | undefined;
}

export interface CheckListener {
  // A health result worth a TASK_RUNNING (spec 3.12); message says why it is unhealthy.
  onHealth(healthy: boolean, message: string | undefined): void;
  // Enough consecutive failures: kill the task; message names the check and its last result.
  onHealthKill(message: string): void;
  // The general check's status changed.
  onCheckStatus(status: CheckStatus): void;
}

export class TaskChecks {
  private readonly health: HealthCheckDefinition | undefined;
  private readonly check: GeneralCheckDefinition | undefined;
  private checkStatus: CheckStatus | undefined;
  private healthState: HealthState = INITIAL_HEALTH;
  private startedAt = 0;
  private schedulers: CheckScheduler[] = [];
  private stopped = false;

  // Throws InvalidCheckError for a definition that cannot run.
  constructor(task: mesos.v1.ITaskInfo) {
    this.health = task.health_check ? healthCheckDefinition(task.health_check) : undefined;
    this.check = task.check ? checkDefinition(task.check) : undefined;
    if (this.check) this.checkStatus = emptyCheckStatus(this.check.probe.type);
    noteIntervalFloor('health_check', task.health_check?.interval_seconds);
    noteIntervalFloor('check', task.check?.interval_seconds);
    for (const probe of [this.health?.probe, this.check?.probe]) {
      if (probe?.type === 'COMMAND') probe.secrets.forEach(registerSecret);
    }
  }

  get any(): boolean {
    return this.health !== undefined || this.check !== undefined;
  }

  // The check_status every update of a task with a general check carries (a copy).
  get currentCheckStatus(): CheckStatus | undefined {
    return this.checkStatus ? structuredClone(this.checkStatus) : undefined;
  }

  start(docker: ContainerRuntime, target: CheckTarget, listener: CheckListener): void {
    if (this.stopped || this.schedulers.length > 0) return;
    this.startedAt = Date.now();
    const health = this.health;
    if (health) {
      this.schedule(docker, target, health, (result) => this.onHealthResult(health, result, listener));
      log.info(`Started the ${describeProbe(health.probe)} health check`);
    }
    const check = this.check;
    if (check) {
      this.schedule(docker, target, check, (result) => this.onCheckResult(check, result, listener));
      log.info(`Started the ${describeProbe(check.probe)} check`);
    }
  }

  // Stops every check; settles once no attempt is in flight (its processes are gone).
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.schedulers.map((scheduler) => scheduler.stop()));
  }

  private schedule(
    docker: ContainerRuntime,
    target: CheckTarget,
    definition: HealthCheckDefinition | GeneralCheckDefinition,
    onResult: (result: ProbeResult) => void,
  ): void {
    const scheduler = new CheckScheduler({
      delayMs: definition.delayMs,
      intervalMs: definition.intervalMs,
      timeoutMs: definition.timeoutMs,
      probe: (signal) => runProbe(docker, target, definition.probe, definition.timeoutMs, signal),
      onResult,
    });
    this.schedulers.push(scheduler);
    scheduler.start();
  }

  private onHealthResult(health: HealthCheckDefinition, result: ProbeResult, listener: CheckListener): void {
    if (this.stopped || result.kind === 'skipped') return;
    const decision = interpretHealth(this.healthState, isHealthy(result), Date.now() - this.startedAt, health);
    this.healthState = decision.state;
    const what = `${describeProbe(health.probe)} health check`;
    if (decision.ignored) {
      log.info(`Ignoring a failure of the ${what} in its grace period: ${describeResult(result)}`);
      return;
    }
    if (!decision.update) return;
    const failure = decision.update.healthy
      ? undefined
      : `The ${what} failed (${decision.update.consecutiveFailures} consecutive): ${describeResult(result)}`;
    log.info(decision.update.healthy ? `The ${what} passed: the task is healthy` : failure!);
    listener.onHealth(decision.update.healthy, failure);
    if (decision.kill && !this.stopped) {
      listener.onHealthKill(
        `the ${what} failed ${decision.update.consecutiveFailures} consecutive time${decision.update.consecutiveFailures === 1 ? '' : 's'}, last: ${describeResult(result)}`,
      );
    }
  }

  private onCheckResult(check: GeneralCheckDefinition, result: ProbeResult, listener: CheckListener): void {
    if (this.stopped) return;
    const next = checkStatusAfter(check.probe.type, result);
    if (!next || (this.checkStatus && sameCheckStatus(this.checkStatus, next))) return;
    // Logged on a change only: a check failing the same way each time does not fill the log.
    if (result.kind === 'error' || result.kind === 'timeout') {
      log.warn(`The ${describeProbe(check.probe)} check could not give a result: ${describeResult(result)}`);
    }
    this.checkStatus = next;
    listener.onCheckStatus(structuredClone(next));
  }
}

// One attempt of a check against the running container.
function runProbe(
  docker: ContainerRuntime,
  target: CheckTarget,
  probe: ProbeDefinition,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<ProbeResult> {
  const network = { hostNetwork: target.networkMode === 'host', pid: target.pid };
  switch (probe.type) {
    case 'COMMAND':
      return commandProbe(docker, target, probe, signal);
    case 'HTTP':
      return httpProbe(network, probe, timeoutMs, signal);
    case 'TCP':
      return tcpProbe(network, probe, signal);
  }
}
