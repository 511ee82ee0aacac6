// Where the executor keeps what it must read back (its checkpoint, its lock token): a directory
// on the host that only the executor's user can reach, never the sandbox, which the container
// owns. Each executor run gets a subdirectory named by a digest of its identity, so nothing a
// framework chooses (ids with '/' or '..') picks a path.
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ExecutorError } from '../errors.js';

export const DEFAULT_STATE_DIR = '/var/lib/mesos-docker-executor';

export interface ExecutorIdentity {
  readonly frameworkId: string;
  readonly executorId: string;
  readonly sandboxDirectory: string;
}

export class StateDirectoryError extends ExecutorError<'ERR_STATE_DIRECTORY'> {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { name: 'StateDirectoryError', code: 'ERR_STATE_DIRECTORY', cause: options.cause });
  }
}

export function executorStatePath(root: string, identity: ExecutorIdentity): string {
  const digest = createHash('sha256')
    .update([identity.frameworkId, identity.executorId, identity.sandboxDirectory].join('\0'))
    .digest('hex');
  return join(root, 'executors', digest);
}

// Creates (or checks) the root and this executor's directory: real directories, not links,
// owned by this user, writable by nobody else; this executor's own one is private (0700).
export function prepareStateDirectory(root: string, identity: ExecutorIdentity, uid = process.getuid?.() ?? 0): string {
  if (!isAbsolute(root)) throw new StateDirectoryError(`Invalid --state_dir '${root}': expected an absolute path`);
  const executors = join(root, 'executors');
  const own = executorStatePath(root, identity);
  for (const [path, mode] of [[root, 0o022], [executors, 0o077], [own, 0o077]] as const) {
    try {
      mkdirSync(path, { mode: 0o700 });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && path === root) {
        mkdirSync(root, { recursive: true, mode: 0o700 });
      } else if (code !== 'EEXIST') {
        throw new StateDirectoryError(`Cannot create the state directory ${path}: ${code ?? (error as Error).message}; give a writable one with --state_dir`);
      }
    }
    checkDirectory(path, uid, mode);
  }
  return own;
}

// Once the container is gone nothing is left to adopt.
export function removeStateDirectory(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

function checkDirectory(path: string, uid: number, forbiddenMode: number): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink() || !stat.isDirectory()) {
    throw new StateDirectoryError(`The state directory ${path} is not a directory (a link or a file is refused)`);
  }
  if (stat.uid !== uid) {
    throw new StateDirectoryError(`The state directory ${path} belongs to uid ${stat.uid}, not to this executor's uid ${uid}`);
  }
  if ((stat.mode & forbiddenMode) !== 0) {
    throw new StateDirectoryError(`The state directory ${path} has mode ${(stat.mode & 0o777).toString(8)}: others may write to it; make it 0700`);
  }
}
