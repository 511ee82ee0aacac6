// Files in the executor's own state directory: written atomically (a fresh, randomly named
// temporary file created exclusively, fsynced unless the caller says not, then renamed over the
// old one) and read without following links, so that even a planted link or a half-written
// file is never taken for state.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomically, writeFileAtomicallyAsync } from '../atomic-write.js';
import { ExecutorError } from '../errors.js';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = constants;

export class PrivateFileError extends ExecutorError<'ERR_PRIVATE_FILE'> {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { name: 'PrivateFileError', code: 'ERR_PRIVATE_FILE', cause: options.cause });
  }
}

export function writePrivateFile(directory: string, name: string, content: Buffer | string): void {
  writeFileAtomically(directory, name, content, { mode: 0o600 });
}

// The same off the event loop; fsynced only when `durable`.
export function savePrivateFile(directory: string, name: string, content: Buffer | string, options: { readonly durable: boolean }): Promise<void> {
  return writeFileAtomicallyAsync(directory, name, content, { mode: 0o600, durable: options.durable });
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
