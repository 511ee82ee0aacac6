// The executor's checkpoint in the sandbox: enough for an executor started again for the same
// executor and sandbox (after a crash, or an OOM kill of the executor itself) to adopt the
// running container and carry on. Private (0600), written atomically, and free of secrets.
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeMessage, encodeMessage } from '../protocol/codec.js';
import type { mesos } from '../proto/generated/mesos.js';
import type { Update } from './update-ledger.js';

import { CHECKPOINT_NAME } from '../docker/orphan-sweep.js';
const VERSION = 1;

export interface Checkpoint {
  readonly executorId: string;
  readonly frameworkId: string;
  readonly pid: number;
  readonly containerName: string | undefined;
  readonly containerId: string | undefined;
  readonly task: mesos.v1.ITaskInfo | undefined;
  readonly unacknowledged: readonly Update[];
  readonly acknowledgedTasks: readonly string[];
  readonly terminalReported: boolean;
  // The last state reported for the task, so an adopting executor does not repeat it.
  readonly lastState: number | undefined;
}

export class CheckpointError extends Error {
  readonly code = 'ERR_CHECKPOINT';
}

export function checkpointPath(sandbox: string): string {
  return join(sandbox, CHECKPOINT_NAME);
}

export function writeCheckpoint(sandbox: string, checkpoint: Checkpoint): void {
  const path = checkpointPath(sandbox);
  const body = {
    version: VERSION,
    executor_id: checkpoint.executorId,
    framework_id: checkpoint.frameworkId,
    pid: checkpoint.pid,
    container_name: checkpoint.containerName,
    container_id: checkpoint.containerId,
    task: checkpoint.task ? encodeMessage('mesos.v1.TaskInfo', withoutSecrets(checkpoint.task) as mesos.v1.TaskInfo.$Properties, 'application/x-protobuf').toString('base64') : undefined,
    unacknowledged: checkpoint.unacknowledged.map((update) => encodeMessage('mesos.v1.executor.Call.Update', update, 'application/x-protobuf').toString('base64')),
    acknowledged_tasks: checkpoint.acknowledgedTasks,
    terminal_reported: checkpoint.terminalReported,
    last_state: checkpoint.lastState,
  };
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(body), { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

export function readCheckpoint(sandbox: string): Checkpoint | undefined {
  const path = checkpointPath(sandbox);
  if (!existsSync(path)) return undefined;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new CheckpointError(`Checkpoint ${path} is unreadable: ${(error as Error).message}`);
  }
  if (body.version !== VERSION || typeof body.executor_id !== 'string' || typeof body.framework_id !== 'string') {
    throw new CheckpointError(`Checkpoint ${path} is not a version ${VERSION} executor checkpoint`);
  }
  try {
    return {
      executorId: body.executor_id,
      frameworkId: body.framework_id,
      pid: Number(body.pid),
      containerName: typeof body.container_name === 'string' ? body.container_name : undefined,
      containerId: typeof body.container_id === 'string' ? body.container_id : undefined,
      task: typeof body.task === 'string' ? decodeMessage('mesos.v1.TaskInfo', Buffer.from(body.task, 'base64'), 'application/x-protobuf') : undefined,
      unacknowledged: (Array.isArray(body.unacknowledged) ? body.unacknowledged : []).map(
        (text) => decodeMessage('mesos.v1.executor.Call.Update', Buffer.from(String(text), 'base64'), 'application/x-protobuf') as Update,
      ),
      acknowledgedTasks: Array.isArray(body.acknowledged_tasks) ? body.acknowledged_tasks.map(String) : [],
      terminalReported: body.terminal_reported === true,
      lastState: typeof body.last_state === 'number' ? body.last_state : undefined,
    };
  } catch (error) {
    throw new CheckpointError(`Checkpoint ${path} is corrupt: ${(error as Error).message}`);
  }
}

// Marks the checkpoint's owner as alive (its age tells the orphan sweep how long ago it died).
export function touchCheckpoint(sandbox: string): void {
  const now = new Date();
  try {
    utimesSync(checkpointPath(sandbox), now, now);
  } catch {
    // Not written yet.
  }
}

export function removeCheckpoint(sandbox: string): void {
  rmSync(checkpointPath(sandbox), { force: true });
}

// The TaskInfo as checkpointed: values of SECRET environment variables dropped.
function withoutSecrets(task: mesos.v1.ITaskInfo): mesos.v1.ITaskInfo {
  const variables = task.command?.environment?.variables;
  if (!variables?.some((variable) => variable.type === 2)) return task;
  return {
    ...task,
    command: {
      ...task.command,
      environment: {
        variables: variables.map((variable) => (variable.type === 2 ? { name: variable.name, type: 2, secret: { type: 2, value: { data: Buffer.alloc(0) } } } : variable)),
      },
    },
  };
}
