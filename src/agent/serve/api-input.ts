// The HTTP API's inputs checked into values, each refusal one line naming the value and what was
// expected: task ids (which name sandbox directories), kill bodies, /files query parameters.
import { parseJsonTolerant } from '../../protocol/mesos-json.js';

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

const MAX_ID_LENGTH = 255;

// As Mesos validates ids: they become a directory name in the sandbox path.
export function checkTaskId(id: string): string | undefined {
  if (id === '') return 'task_id.value is empty: expected a task id';
  if (id.length > MAX_ID_LENGTH) return `task_id.value is ${id.length} characters long: expected at most ${MAX_ID_LENGTH}`;
  if (id === '.' || id === '..') return `task_id.value '${id}' is not allowed: it would name a directory above the sandbox`;
  if (/[/\\\u0000-\u001f\u007f\s]/u.test(id)) return `task_id.value '${JSON.stringify(id).slice(1, -1)}' holds '/', '\\', a space or a control character: expected none`;
  return undefined;
}

// KILL's optional body, as a scheduler's KILL call carries it: {"kill_policy": {"grace_period": {"nanoseconds": N}}}.
export function parseKillBody(body: Buffer): Checked<number | undefined> {
  if (body.length === 0) return { ok: true, value: undefined };
  let json: unknown;
  try {
    json = parseJsonTolerant(body.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `The kill body is not valid JSON: ${(error as Error).message}` };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { ok: false, reason: 'The kill body must be a JSON object such as {"kill_policy": {"grace_period": {"nanoseconds": 3000000000}}}' };
  const policy = (json as Record<string, unknown>).kill_policy;
  if (policy === undefined) return { ok: true, value: undefined };
  const nanos = (policy as { grace_period?: { nanoseconds?: unknown } } | null)?.grace_period?.nanoseconds;
  const value = typeof nanos === 'string' && /^[0-9]+$/.test(nanos) ? Number(nanos) : nanos;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    return { ok: false, reason: `kill_policy.grace_period.nanoseconds is ${JSON.stringify(nanos) ?? 'missing'}: expected a non-negative integer` };
  }
  return { ok: true, value: value / 1e6 };
}

export interface ReadQuery {
  readonly path: string;
  readonly offset: number;
  readonly length: number | undefined;
}

// /files/read: path and offset required (offset -1 asks for the size), length optional.
export function parseReadQuery(query: URLSearchParams): Checked<ReadQuery> {
  const path = query.get('path');
  if (path === null || path === '') return { ok: false, reason: "Expecting 'path' to be a sandbox path or /tasks/<taskId>/..." };
  const offsetText = query.get('offset');
  if (offsetText === null) return { ok: false, reason: "Expecting 'offset': a byte offset, or -1 for the file's size" };
  const offset = integer(offsetText);
  if (offset === undefined || offset < -1) return { ok: false, reason: `Failed to parse offset '${offsetText}': expected an integer of -1 or more` };
  const lengthText = query.get('length');
  if (lengthText === null) return { ok: true, value: { path, offset, length: undefined } };
  const length = integer(lengthText);
  // Mesos takes -1 as "to the end".
  if (length === undefined || length < -1) return { ok: false, reason: `Failed to parse length '${lengthText}': expected a non-negative integer` };
  return { ok: true, value: { path, offset, length: length === -1 ? undefined : length } };
}

export function parseBrowseQuery(query: URLSearchParams): Checked<string> {
  const path = query.get('path');
  if (path === null || path === '') return { ok: false, reason: "Expecting 'path' to be a sandbox path or /tasks/<taskId>/..." };
  return { ok: true, value: path };
}

function integer(text: string): number | undefined {
  if (!/^-?[0-9]{1,15}$/.test(text)) return undefined;
  return Number(text);
}
