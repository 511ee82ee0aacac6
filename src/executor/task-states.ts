// Which mesos.v1 TaskStates end a task (isTerminalState upstream), and a state's name for logs.
import { mesos } from '../proto/generated/mesos.js';

const { TaskState } = mesos.v1;

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
  const name = state == null ? undefined : (TaskState as Record<number, string | undefined>)[state];
  return name ?? `state ${String(state)}`;
}
