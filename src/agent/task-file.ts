// Reads a TaskInfo written in Mesos JSON (the format of the agent's and master's HTTP APIs).
// agent_id may be left out: the local agent fills in its own.
import { readFileSync } from 'node:fs';
import { decodeJsonValue } from '../protocol/codec.js';
import { parseJsonTolerant } from '../protocol/mesos-json.js';
import type { mesos } from '../proto/generated/mesos.js';
import { ExecutorError } from '../errors.js';

export class TaskFileError extends ExecutorError<'ERR_TASK_FILE'> {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { name: 'TaskFileError', code: 'ERR_TASK_FILE', cause: options.cause });
  }
}

export function readTaskInfo(path: string, agentId: string): mesos.v1.TaskInfo {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TaskFileError(`Cannot read TaskInfo file '${path}': ${(error as Error).message}`);
  }
  return parseTaskInfo(text, agentId, path);
}

export function parseTaskInfo(text: string, agentId: string, source = 'TaskInfo'): mesos.v1.TaskInfo {
  let json: unknown;
  try {
    json = parseJsonTolerant(text);
  } catch (error) {
    throw new TaskFileError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new TaskFileError(`${source} must hold a JSON object (a TaskInfo in Mesos JSON)`);
  }
  const withAgent = { agent_id: { value: agentId }, ...(json as Record<string, unknown>) };
  try {
    return decodeJsonValue('mesos.v1.TaskInfo', withAgent);
  } catch (error) {
    throw new TaskFileError(`${source} is not a valid TaskInfo: ${(error as Error).message}`);
  }
}
