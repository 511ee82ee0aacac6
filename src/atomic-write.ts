// A file replaced atomically in a directory that may hold planted names: written under a fresh
// random name created exclusively without following links, checked by the caller while open,
// fsynced, renamed over the target (a rename replaces a link at the target, never writes through
// it), and the directory fsynced. The executor's state files and the sandbox's post-mortem both
// go through here.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ExecutorError } from './errors.js';

const { O_CREAT, O_EXCL, O_WRONLY, O_NOFOLLOW, O_RDONLY, O_DIRECTORY } = constants;

// Which step failed, so that callers can say what went wrong in their own words.
export class AtomicWriteError extends ExecutorError<'ERR_ATOMIC_WRITE'> {
  readonly stage: 'create' | 'replace';
  readonly errno: string | undefined;

  constructor(stage: 'create' | 'replace', cause: unknown) {
    const errno = (cause as NodeJS.ErrnoException).code;
    super(`${stage === 'create' ? 'Cannot create' : 'Cannot replace'} the file: ${errno ?? (cause as Error).message}`, { name: 'AtomicWriteError', code: 'ERR_ATOMIC_WRITE', cause });
    this.stage = stage;
    this.errno = errno;
  }
}

export interface AtomicWriteOptions {
  readonly mode: number;
  // Runs on the open temporary file before anything is written; throws to refuse it.
  readonly verify?: (fd: number, temporaryPath: string) => void;
}

export function writeFileAtomically(directory: string, name: string, content: Buffer | string, options: AtomicWriteOptions): void {
  const temporary = temporaryPath(directory, name);
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  let fd: number;
  try {
    fd = openSync(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, options.mode);
  } catch (error) {
    throw new AtomicWriteError('create', error);
  }
  try {
    options.verify?.(fd, temporary);
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
    throw new AtomicWriteError('replace', error);
  }
  syncDirectory(directory);
}

// The same off the event loop, for a directory no one else can write (no check while open).
// Not `durable`, both fsyncs are skipped: the file then survives a crash of this process (the
// rename is atomic either way), not a crash of the machine.
export async function writeFileAtomicallyAsync(directory: string, name: string, content: Buffer | string, options: { readonly mode: number; readonly durable: boolean }): Promise<void> {
  const temporary = temporaryPath(directory, name);
  let handle;
  try {
    handle = await open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, options.mode);
  } catch (error) {
    throw new AtomicWriteError('create', error);
  }
  try {
    await handle.writeFile(content);
    if (options.durable) await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, join(directory, name));
  } catch (error) {
    await rm(temporary, { force: true });
    throw new AtomicWriteError('replace', error);
  }
  if (options.durable) await syncDirectoryAsync(directory);
}

function temporaryPath(directory: string, name: string): string {
  return join(directory, `.${name}.${randomBytes(8).toString('hex')}.tmp`);
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

async function syncDirectoryAsync(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(directory, O_RDONLY | O_DIRECTORY);
    await handle.sync();
  } catch {
    // As above.
  } finally {
    await handle?.close();
  }
}
