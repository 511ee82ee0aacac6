// The serve agent's checkpoint: its identity, its port and its task book, in <work_dir>/meta/serve
// (a private directory, 0700, outside every sandbox), replaced atomically after every change, so a
// restarted agent on the same work directory takes back its executors and tasks. The TaskInfo
// kept has no secret value, and the updates no `data`.
import { lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readPrivateFile, writePrivateFile } from '../../state/private-file.js';
import { ConfigError } from '../../config/config-error.js';
import type { TaskEntry } from './task-book.js';

const FILE = 'agent.json';
const MAX_BYTES = 256 * 1024 * 1024;

export interface CheckpointedTask {
  readonly entry: TaskEntry;
  // The TaskInfo in Mesos JSON, secret values emptied.
  readonly task: Record<string, unknown>;
}

export interface ServeCheckpoint {
  readonly agentId: string;
  readonly frameworkId: string;
  readonly port: number;
  readonly tasks: readonly CheckpointedTask[];
}

export function checkpointDirectory(workDir: string): string {
  return join(workDir, 'meta', 'serve');
}

// Creates (or checks) the directory: a real directory of this user that nobody else may enter.
export function prepareCheckpointDirectory(workDir: string, uid = process.getuid?.() ?? 0): string {
  const directory = checkpointDirectory(workDir);
  mkdirSync(join(workDir, 'meta'), { recursive: true, mode: 0o700 });
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  for (const path of [join(workDir, 'meta'), directory]) {
    const stats = lstatSync(path);
    if (stats.isSymbolicLink() || !stats.isDirectory()) throw new ConfigError(`${path} is not a directory (a link or a file is refused)`);
    if (stats.uid !== uid) throw new ConfigError(`${path} belongs to uid ${stats.uid}, not to this agent's uid ${uid}`);
    if ((stats.mode & 0o077) !== 0 && path === directory) throw new ConfigError(`${path} has mode ${(stats.mode & 0o777).toString(8)}: make it 0700`);
  }
  return directory;
}

export function writeCheckpoint(directory: string, checkpoint: ServeCheckpoint): void {
  writePrivateFile(directory, FILE, JSON.stringify({ version: 1, ...checkpoint }));
}

// The checkpoint, or undefined when this work directory has none.
export function readCheckpoint(directory: string): ServeCheckpoint | undefined {
  const bytes = readPrivateFile(directory, FILE, MAX_BYTES);
  if (bytes === undefined) return undefined;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`The checkpoint ${join(directory, FILE)} is not valid JSON (${(error as Error).message}): move it away to start afresh`);
  }
  if (json.version !== 1 || typeof json.agentId !== 'string' || typeof json.frameworkId !== 'string' || !Number.isInteger(json.port) || !Array.isArray(json.tasks)) {
    throw new ConfigError(`The checkpoint ${join(directory, FILE)} is not one this agent wrote: move it away to start afresh`);
  }
  return json as unknown as ServeCheckpoint;
}
