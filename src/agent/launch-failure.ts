// The update a Mesos agent sends itself when a container cannot be launched (spec 3.14): the
// executor never ran, so the agent reports TASK_FAILED from SOURCE_AGENT with
// REASON_CONTAINER_LAUNCH_FAILED and "Failed to launch container: <why>". For a fetch failure
// the fetcher's part reads "Failed to fetch all URIs for container '<ContainerID>'", as in Mesos;
// here it also names the URI (credentials redacted) and why.
import { randomBytes } from 'node:crypto';
import { mesos } from '../proto/generated/mesos.js';

export interface LaunchFailure {
  readonly taskId: string;
  readonly executorId: string;
  readonly agentId: string;
  readonly containerId: string;
  readonly why: string;
  // REASON_CONTAINER_LAUNCH_FAILED unless given (REASON_TASK_INVALID: the operator policy refused it).
  readonly reason?: mesos.v1.TaskStatus.Reason;
}

export function fetchFailureMessage(containerId: string, why: string): string {
  return `Failed to fetch all URIs for container '${containerId}': ${why}`;
}

export function launchFailedStatus(failure: LaunchFailure, nowMs = Date.now()): mesos.v1.TaskStatus {
  return mesos.v1.TaskStatus.fromObject({
    task_id: { value: failure.taskId },
    state: mesos.v1.TaskState.TASK_FAILED,
    source: mesos.v1.TaskStatus.Source.SOURCE_AGENT,
    reason: failure.reason ?? mesos.v1.TaskStatus.Reason.REASON_CONTAINER_LAUNCH_FAILED,
    message: `Failed to launch container: ${failure.why}`,
    agent_id: { value: failure.agentId },
    executor_id: { value: failure.executorId },
    timestamp: nowMs / 1000,
    uuid: randomBytes(16),
  });
}
