// Checks on a TaskInfo that the Mesos master makes and a directly driven agent may not: durations
// must not be negative. Pure; a message names the field and the value.
import type { mesos } from '../proto/generated/mesos.js';
import { formatDuration } from '../config/duration.js';

export function taskProblem(task: mesos.v1.ITaskInfo): string | undefined {
  const checks: Array<[string, number | null | undefined]> = [
    ['kill_policy.grace_period', task.kill_policy?.grace_period?.nanoseconds],
    ['max_completion_time', task.max_completion_time?.nanoseconds],
  ];
  for (const [field, nanoseconds] of checks) {
    if (nanoseconds == null) continue;
    const value = Number(nanoseconds);
    if (!Number.isFinite(value) || value < 0) {
      return `${field} is ${value < 0 ? `-${formatDuration(-value / 1e6)}` : String(nanoseconds)}: expected a non-negative duration`;
    }
  }
  return undefined;
}
