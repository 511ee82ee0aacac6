// TaskState numbers of mesos.v1 and which of them end a task (isTerminalState upstream).
export const TaskState = {
  TASK_STAGING: 6,
  TASK_STARTING: 0,
  TASK_RUNNING: 1,
  TASK_KILLING: 8,
  TASK_FINISHED: 2,
  TASK_FAILED: 3,
  TASK_KILLED: 4,
  TASK_ERROR: 7,
  TASK_LOST: 5,
  TASK_DROPPED: 9,
  TASK_UNREACHABLE: 10,
  TASK_GONE: 11,
  TASK_GONE_BY_OPERATOR: 12,
  TASK_UNKNOWN: 13,
} as const;

export type TaskStateValue = (typeof TaskState)[keyof typeof TaskState];

const TERMINAL = new Set<number>([
  TaskState.TASK_FINISHED,
  TaskState.TASK_FAILED,
  TaskState.TASK_KILLED,
  TaskState.TASK_LOST,
  TaskState.TASK_ERROR,
  TaskState.TASK_DROPPED,
  TaskState.TASK_GONE,
  TaskState.TASK_GONE_BY_OPERATOR,
]);

export function isTerminalState(state: number | null | undefined): boolean {
  return state != null && TERMINAL.has(state);
}

export function stateName(state: number | null | undefined): string {
  const entry = Object.entries(TaskState).find(([, value]) => value === state);
  return entry ? entry[0] : `state ${String(state)}`;
}

export const Reason = {
  REASON_CONTAINER_LAUNCH_FAILED: 21,
  REASON_CONTAINER_LIMITATION_MEMORY: 8,
  REASON_MAX_COMPLETION_TIME_REACHED: 33,
  REASON_TASK_INVALID: 14,
  REASON_TASK_KILLED_DURING_LAUNCH: 30,
  REASON_TASK_HEALTH_CHECK_STATUS_UPDATED: 29,
  REASON_TASK_CHECK_STATUS_UPDATED: 28,
  REASON_EXECUTOR_TERMINATED: 1,
} as const;
