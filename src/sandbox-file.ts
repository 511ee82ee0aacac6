// Reading a file of the sandbox as root: the container owns every name there and can race us, so
// no link is followed (neither the file nor a directory on the way), no FIFO is waited on, and
// the file opened must be a regular file that really lies inside the sandbox. A refusal names
// the sandbox-relative file and why, and says nothing about what a link points at.
import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync, realpathSync, type Stats } from 'node:fs';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { ExecutorError } from './errors.js';

export type SandboxFileErrorCode =
  | 'ERR_SANDBOX_FILE_LINK'
  | 'ERR_SANDBOX_FILE_NOT_REGULAR'
  | 'ERR_SANDBOX_FILE_OUTSIDE'
  | 'ERR_SANDBOX_FILE_TOO_BIG'
  | 'ERR_SANDBOX_FILE_UNREADABLE';

export class SandboxFileError extends ExecutorError<SandboxFileErrorCode> {
  // The file as the task knows it, relative to the sandbox: e.g. ".docker/config.json".
  readonly relative: string;

  constructor(relative: string, why: string, code: SandboxFileErrorCode) {
    super(`sandbox ${relative} ${why}`, { name: 'SandboxFileError', code });
    this.relative = relative;
  }
}

export interface OpenedSandboxFile {
  readonly fd: number;
  readonly size: number;
}

// Opens `relative` in `sandbox` read-only, or returns undefined when it does not exist. The
// caller closes the descriptor.
export function openSandboxFile(sandbox: string, relative: string): OpenedSandboxFile | undefined {
  const clean = normalize(relative);
  if (isAbsolute(clean) || clean === '..' || clean.startsWith(`..${sep}`) || clean === '.') {
    throw new Error(`Not a path inside the sandbox: ${relative}`);
  }
  // The sandbox directory itself comes from the agent; only what lies below it is the task's.
  const root = realpathSync(sandbox);
  const parts = clean.split(sep);
  // A linked directory on the way would be followed by open(2): refuse it by name first.
  for (let i = 1; i < parts.length; i++) {
    const directory = parts.slice(0, i).join('/');
    let stats;
    try {
      stats = lstatSync(join(root, directory));
    } catch (error) {
      if (absent(error)) return undefined;
      throw unreadable(relative, error);
    }
    if (stats.isSymbolicLink()) throw new SandboxFileError(directory, 'is a symbolic link; refusing to follow it', 'ERR_SANDBOX_FILE_LINK');
    if (!stats.isDirectory()) return undefined;
  }

  // A device or FIFO is refused before it is opened for reading at all (opening some devices acts
  // on them, opening a FIFO releases its writers).
  let fd: number;
  try {
    const opened = openRegularNoFollow(join(root, clean));
    if ('refused' in opened) {
      if (opened.refused.isSymbolicLink()) throw new SandboxFileError(relative, 'is a symbolic link; refusing to follow it', 'ERR_SANDBOX_FILE_LINK');
      throw new SandboxFileError(relative, `is not a regular file (${kind(opened.refused)})`, 'ERR_SANDBOX_FILE_NOT_REGULAR');
    }
    fd = opened.fd;
  } catch (error) {
    if (error instanceof SandboxFileError) throw error;
    if (absent(error)) return undefined;
    throw unreadable(relative, error);
  }
  try {
    // A directory on the way swapped for a link after the check above lands outside: the
    // descriptor's own path says where the file really is. (A hard link cannot cross into the
    // sandbox's bind mount from outside it.)
    const opened = readlinkSync(`/proc/self/fd/${fd}`);
    if (!opened.startsWith(`${root}/`)) throw new SandboxFileError(relative, 'is not inside the sandbox (a directory on its path was replaced by a link); refusing to read it', 'ERR_SANDBOX_FILE_OUTSIDE');
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new SandboxFileError(relative, `is not a regular file (${kind(stats)})`, 'ERR_SANDBOX_FILE_NOT_REGULAR');
    return { fd, size: stats.size };
  } catch (error) {
    closeSync(fd);
    if (error instanceof SandboxFileError) throw error;
    throw unreadable(relative, error);
  }
}

// Linux's O_PATH (asm-generic/fcntl.h; the same on x86-64 and arm64): Node's fs.constants does
// not export it.
const O_PATH = 0o10000000;

export type NoFollowOpen = { readonly fd: number; readonly stats: Stats } | { readonly refused: Stats };

// Opens `path` for reading only once it is known to be a regular file (or a directory, when
// `directory` allows one), without following a link as its last name. The name is first opened
// with O_PATH, which acts on nothing (no device opened, no FIFO writer released); that descriptor
// pins the inode, so its fstat cannot be raced, and /proc/self/fd/<n> reopens that very inode.
// Anything else (a link, a FIFO, a device, a socket) comes back as `refused`, never opened for
// reading. Errors of open(2) (ENOENT, ...) are thrown as they are; the caller closes `fd`.
export function openRegularNoFollow(path: string, directory = false): NoFollowOpen {
  const handle = openSync(path, O_PATH | constants.O_NOFOLLOW);
  try {
    const stats = fstatSync(handle);
    if (!stats.isFile() && !(directory && stats.isDirectory())) return { refused: stats };
    return { fd: openSync(`/proc/self/fd/${handle}`, constants.O_RDONLY | constants.O_NOCTTY), stats };
  } finally {
    closeSync(handle);
  }
}

// The whole content of a sandbox file of at most `maxBytes`, or undefined when it does not exist.
export function readSandboxFile(sandbox: string, relative: string, maxBytes: number): Buffer | undefined {
  const opened = openSandboxFile(sandbox, relative);
  if (opened === undefined) return undefined;
  const tooBig = new SandboxFileError(relative, `is larger than the ${maxBytes} bytes it may have`, 'ERR_SANDBOX_FILE_TOO_BIG');
  try {
    if (opened.size > maxBytes) throw tooBig;
    // One byte more than allowed, to notice a file that grew since fstat.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) throw tooBig;
      const read = readSync(opened.fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    return buffer.subarray(0, length);
  } catch (error) {
    if (error instanceof SandboxFileError) throw error;
    throw unreadable(relative, error);
  } finally {
    closeSync(opened.fd);
  }
}

function absent(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

// The errno code only: Node's message carries the absolute path.
function unreadable(relative: string, error: unknown): SandboxFileError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  return new SandboxFileError(relative, `cannot be read (${code})`, 'ERR_SANDBOX_FILE_UNREADABLE');
}

function kind(stats: import('node:fs').Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a file';
}
