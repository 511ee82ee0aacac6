// The update a Mesos agent sends when an executor does not subscribe within
// --executor_registration_timeout (spec 3.3): it destroys the container and fails the task from
// SOURCE_AGENT with REASON_EXECUTOR_REGISTRATION_TIMEOUT.
import { randomBytes } from 'node:crypto';
import { formatDuration } from '../config/duration.js';
import { mesos } from '../proto/generated/mesos.js';

export function registrationTimeoutStatus(
  failure: { readonly taskId: string; readonly executorId: string; readonly agentId: string; readonly timeoutMs: number },
  nowMs = Date.now(),
): mesos.v1.TaskStatus {
  return mesos.v1.TaskStatus.fromObject({
    task_id: { value: failure.taskId },
    state: mesos.v1.TaskState.TASK_FAILED,
    source: mesos.v1.TaskStatus.Source.SOURCE_AGENT,
    reason: mesos.v1.TaskStatus.Reason.REASON_EXECUTOR_REGISTRATION_TIMEOUT,
    message: `Executor did not register within ${formatDuration(failure.timeoutMs)}`,
    agent_id: { value: failure.agentId },
    executor_id: { value: failure.executorId },
    timestamp: nowMs / 1000,
    uuid: randomBytes(16),
  });
}
