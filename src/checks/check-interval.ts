// The shortest time between two attempts of a check. Mesos refuses only negative intervals, so
// interval_seconds 0 is valid input; taken literally it would run the check back to back, each
// failure a reliable status update: intervals below this floor are raised to it.
import { log } from '../log.js';

export const MIN_CHECK_INTERVAL_MS = 1000;

export function flooredInterval(intervalMs: number): number {
  return Math.max(intervalMs, MIN_CHECK_INTERVAL_MS);
}

// One log line per check whose interval was raised; `seconds` is the field as the task gave it.
export function noteIntervalFloor(field: string, seconds: number | null | undefined): void {
  if (seconds != null && seconds * 1000 < MIN_CHECK_INTERVAL_MS) {
    log.info(`${field}.interval_seconds is ${seconds}: raised to the ${MIN_CHECK_INTERVAL_MS / 1000}s floor between check attempts`);
  }
}
