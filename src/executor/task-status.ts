// Builds the TaskStatus of one update as the agent requires it of an executor: a fresh 16-byte
// RFC 4122 v4 uuid, a timestamp, source SOURCE_EXECUTOR and the executor's own id. agent_id is
// left for the agent to fill in, since a wrong one makes it drop the update silently.
import { randomUUID } from 'node:crypto';
import { mesos } from '../proto/generated/mesos.js';

export type StatusFields = Omit<mesos.v1.ITaskStatus, 'uuid' | 'timestamp' | 'source' | 'executor_id' | 'task_id'> & {
  state: number;
};

export function newTaskStatus(
  taskId: string,
  executorId: string,
  fields: StatusFields,
  now: () => number = Date.now,
): mesos.v1.ITaskStatus {
  return {
    ...fields,
    task_id: { value: taskId },
    executor_id: { value: executorId },
    source: mesos.v1.TaskStatus.Source.SOURCE_EXECUTOR,
    timestamp: now() / 1000,
    uuid: uuidBytes(),
  };
}

export function uuidBytes(): Buffer {
  return Buffer.from(randomUUID().replace(/-/g, ''), 'hex');
}
