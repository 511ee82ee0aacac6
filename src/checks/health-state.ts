// How health check results become health updates and a kill (spec 3.12 "Result interpretation",
// upstream HealthCheckerProcess): failures during the grace period are ignored until the first
// success; every other failure is reported and counted; the first success, and the first after
// failures, is reported; enough consecutive failures kill the task. Pure, so it is table-tested.

export interface HealthState {
  // No success yet: failures inside the grace period are still ignored.
  readonly initializing: boolean;
  readonly consecutiveFailures: number;
}

export interface HealthPolicy {
  // Counted from when the checks started (the delay is part of it); 0 means none.
  readonly gracePeriodMs: number;
  readonly consecutiveFailures: number;
}

export interface HealthDecision {
  readonly state: HealthState;
  // A TASK_RUNNING with `healthy` to send, if any.
  readonly update?: { readonly healthy: boolean; readonly consecutiveFailures: number };
  readonly kill: boolean;
  // The failure fell inside the grace period and was ignored.
  readonly ignored: boolean;
}

export const INITIAL_HEALTH: HealthState = { initializing: true, consecutiveFailures: 0 };

// `elapsedMs` is the time since the checks started.
export function interpretHealth(state: HealthState, healthy: boolean, elapsedMs: number, policy: HealthPolicy): HealthDecision {
  if (healthy) {
    const report = state.initializing || state.consecutiveFailures > 0;
    return {
      state: { initializing: false, consecutiveFailures: 0 },
      ...(report ? { update: { healthy: true, consecutiveFailures: 0 } } : {}),
      kill: false,
      ignored: false,
    };
  }
  if (state.initializing && policy.gracePeriodMs > 0 && elapsedMs <= policy.gracePeriodMs) {
    return { state, kill: false, ignored: true };
  }
  const consecutiveFailures = state.consecutiveFailures + 1;
  return {
    state: { initializing: state.initializing, consecutiveFailures },
    update: { healthy: false, consecutiveFailures },
    kill: consecutiveFailures >= policy.consecutiveFailures,
    ignored: false,
  };
}
