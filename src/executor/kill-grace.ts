// Grace for a kill (spec 3.9): the KILL's own policy, else the task's, else the shutdown grace.
import type { mesos } from '../proto/generated/mesos.js';

export function killGraceMs(
  override: mesos.v1.IKillPolicy | undefined,
  taskPolicy: mesos.v1.IKillPolicy | undefined,
  shutdownGracePeriodMs: number,
): number {
  const nanos = override?.grace_period?.nanoseconds ?? taskPolicy?.grace_period?.nanoseconds;
  if (nanos == null) return shutdownGracePeriodMs;
  return Math.max(0, Number(nanos) / 1e6);
}
