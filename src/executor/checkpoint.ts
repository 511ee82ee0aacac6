// The executor's checkpoint, in its private state directory (never the sandbox, which the
// container can write): enough for an executor started again for the same executor and sandbox
// (after a crash, or an OOM kill of the executor itself) to adopt the running container and carry
// on. Private (0600), written atomically, and free of secret values.
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeMessage, encodeMessage } from '../protocol/codec.js';
import type { mesos } from '../proto/generated/mesos.js';
import { readPrivateFile, savePrivateFile, writePrivateFile } from '../state/private-file.js';
import { withoutSecretValues } from './secret-free-task.js';
import type { Update } from './update-ledger.js';
import type { KillInProgress } from './task-runner.js';
import type { KillCause } from './terminal-status.js';
import { ExecutorError } from '../errors.js';

export const CHECKPOINT_NAME = 'checkpoint.json';
const VERSION = 2;
// Far above what a bounded update ledger writes; a bigger file is not ours.
const MAX_CHECKPOINT_BYTES = 64 * 1024 * 1024;

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
  // A kill under way, which an adopting executor carries on.
  readonly kill?: KillInProgress | undefined;
}

export class CheckpointError extends ExecutorError<'ERR_CHECKPOINT'> {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { name: 'CheckpointError', code: 'ERR_CHECKPOINT', cause: options.cause });
  }
}

export function checkpointPath(stateDirectory: string): string {
  return join(stateDirectory, CHECKPOINT_NAME);
}

export function writeCheckpoint(stateDirectory: string, checkpoint: Checkpoint): void {
  writePrivateFile(stateDirectory, CHECKPOINT_NAME, checkpointText(checkpoint));
}

// The same off the event loop; fsynced (file and directory) only when `durable`.
export function saveCheckpoint(stateDirectory: string, checkpoint: Checkpoint, options: { readonly durable: boolean }): Promise<void> {
  return savePrivateFile(stateDirectory, CHECKPOINT_NAME, checkpointText(checkpoint), options);
}

function checkpointText(checkpoint: Checkpoint): string {
  const body = {
    version: VERSION,
    executor_id: checkpoint.executorId,
    framework_id: checkpoint.frameworkId,
    pid: checkpoint.pid,
    container_name: checkpoint.containerName,
    container_id: checkpoint.containerId,
    task: checkpoint.task ? encodeMessage('mesos.v1.TaskInfo', withoutSecretValues(checkpoint.task) as mesos.v1.TaskInfo.$Properties, 'application/x-protobuf').toString('base64') : undefined,
    unacknowledged: checkpoint.unacknowledged.map((update) => encodeMessage('mesos.v1.executor.Call.Update', update, 'application/x-protobuf').toString('base64')),
    acknowledged_tasks: checkpoint.acknowledgedTasks,
    terminal_reported: checkpoint.terminalReported,
    last_state: checkpoint.lastState,
    kill: checkpoint.kill,
  };
  return JSON.stringify(body);
}

export function readCheckpoint(stateDirectory: string): Checkpoint | undefined {
  const path = checkpointPath(stateDirectory);
  let body: Record<string, unknown>;
  try {
    const bytes = readPrivateFile(stateDirectory, CHECKPOINT_NAME, MAX_CHECKPOINT_BYTES);
    if (bytes === undefined) return undefined;
    body = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    // The reason, never the file's bytes.
    throw new CheckpointError(`Checkpoint ${path} is unreadable: ${error instanceof SyntaxError ? 'not valid JSON' : (error as Error).message}`);
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
      kill: killInProgress(body.kill),
    };
  } catch (error) {
    throw new CheckpointError(`Checkpoint ${path} is corrupt: ${(error as Error).message}`);
  }
}

// Marks the checkpoint's owner as alive (its age tells the orphan sweep how long ago it died).
export function touchCheckpoint(stateDirectory: string): void {
  const now = new Date();
  utimes(checkpointPath(stateDirectory), now, now).catch(() => {
    // Not written yet.
  });
}

const KILL_CAUSES: readonly KillCause[] = ['framework', 'shutdown', 'agent-lost', 'health-check', 'max-completion', 'oom'];

function killInProgress(value: unknown): KillInProgress | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const kill = value as Record<string, unknown>;
  if (!KILL_CAUSES.includes(kill.cause as KillCause) || typeof kill.graceMs !== 'number' || typeof kill.deadline !== 'number') return undefined;
  return { cause: kill.cause as KillCause, graceMs: kill.graceMs, deadline: kill.deadline, stopSignalSent: kill.stopSignalSent === true };
}
