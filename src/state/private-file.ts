// Files in the executor's own state directory: written atomically (a fresh, randomly named
// temporary file created exclusively, fsynced, then renamed over the old one) and read without
// following links, so that even a planted link or a half-written file is never taken for state.
import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ExecutorError } from '../errors.js';

const { O_CREAT, O_EXCL, O_WRONLY, O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = constants;

export class PrivateFileError extends ExecutorError<'ERR_PRIVATE_FILE'> {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { name: 'PrivateFileError', code: 'ERR_PRIVATE_FILE', cause: options.cause });
  }
}

export function writePrivateFile(directory: string, name: string, content: Buffer | string): void {
  const temporary = join(directory, `.${name}.${randomBytes(8).toString('hex')}.tmp`);
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const fd = openSync(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temporary, join(directory, name));
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  syncDirectory(directory);
}

// The file's bytes, or undefined when there is none. Anything but a regular file of at most
// maxBytes is refused.
export function readPrivateFile(directory: string, name: string, maxBytes: number): Buffer | undefined {
  const path = join(directory, name);
  let fd: number;
  try {
    fd = openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new PrivateFileError(`${path} is a symbolic link; state files never are`);
    throw new PrivateFileError(`Cannot open ${path}: ${code ?? (error as Error).message}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new PrivateFileError(`${path} is not a regular file`);
    if (stat.size > maxBytes) throw new PrivateFileError(`${path} holds ${stat.size} bytes, more than the ${maxBytes} a state file may`);
    const buffer = Buffer.alloc(stat.size);
    let offset = 0;
    while (offset < buffer.length) {
      const read = readSync(fd, buffer, offset, buffer.length - offset, offset);
      if (read === 0) break;
      offset += read;
    }
    return buffer.subarray(0, offset);
  } finally {
    closeSync(fd);
  }
}

// A rename is durable only once its directory is.
function syncDirectory(directory: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(directory, O_RDONLY | O_DIRECTORY);
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself has happened.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
