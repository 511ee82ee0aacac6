// Writing a file into the sandbox as root: the container owns every name there, so the file is
// written under a fresh random name created exclusively without following links, checked to lie
// in the sandbox's real directory, fsynced, and renamed over the target. A rename replaces a
// link planted at the target instead of writing through it; a directory there makes it fail.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, openSync, readlinkSync, realpathSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SandboxFileError } from './sandbox-file.js';

const { O_CREAT, O_EXCL, O_WRONLY, O_NOFOLLOW } = constants;

// `name` is a plain file name directly in the sandbox.
export function writeSandboxFile(sandbox: string, name: string, content: string | Buffer): void {
  if (basename(name) !== name || name === '.' || name === '..') throw new Error(`Not a file name in the sandbox: ${name}`);
  // The sandbox directory itself comes from the agent; only what lies below it is the task's.
  const root = realpathSync(sandbox);
  const temporary = `.${name}.${randomBytes(8).toString('hex')}.tmp`;
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  let fd: number;
  try {
    fd = openSync(join(root, temporary), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
  } catch (error) {
    throw new SandboxFileError(name, `cannot be created (${(error as NodeJS.ErrnoException).code ?? 'error'})`, 'ERR_SANDBOX_FILE_UNREADABLE');
  }
  try {
    if (readlinkSync(`/proc/self/fd/${fd}`) !== join(root, temporary)) {
      throw new SandboxFileError(name, 'would not be written inside the sandbox; refusing to write it', 'ERR_SANDBOX_FILE_OUTSIDE');
    }
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(join(root, temporary), { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(join(root, temporary), join(root, name));
  } catch (error) {
    rmSync(join(root, temporary), { force: true });
    throw new SandboxFileError(name, `cannot be replaced (${(error as NodeJS.ErrnoException).code ?? 'error'})`, 'ERR_SANDBOX_FILE_UNREADABLE');
  }
}
