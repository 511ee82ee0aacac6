// Creates what the fetcher puts into a sandbox without ever following a link there: every
// directory on the way is checked with lstat (a symbolic link is refused, not followed), files
// are written under a fresh O_EXCL|O_NOFOLLOW temporary name and renamed into place (rename
// replaces a link itself, never what it points at). The sandbox is fresh at fetch time; this is
// strict anyway, because an archive can plant links for its own later entries.
import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { chmod, link, lstat, mkdir, open, rename, rm, symlink, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { FetchProblem } from './fetch-error.js';

// Read-write: an archive is extracted through the descriptor it was downloaded to.
const CREATE = constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export interface PendingFile {
  readonly handle: FileHandle;
  // Gives the file its mode and renames it into place; the handle stays open (close() it).
  commit(mode: number): Promise<void>;
  // Removes the file unless committed, and closes the handle; safe to call more than once.
  close(): Promise<void>;
}

export class SandboxWriter {
  // An absolute, link-free path chosen by the agent: only what lies below it is checked.
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  private absolute(relative: string): string {
    return relative === '' ? this.root : posix.join(this.root, relative);
  }

  // Makes every directory of `relative` (itself included), refusing a link or a non-directory
  // on the way.
  async directory(relative: string, mode = 0o755): Promise<void> {
    let path = '';
    for (const part of relative.split('/').filter(Boolean)) {
      path = path === '' ? part : `${path}/${part}`;
      const stats = await lstatOrUndefined(this.absolute(path));
      if (stats === undefined) {
        await mkdir(this.absolute(path), { mode }).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'EEXIST') throw error;
        });
        const made = await lstat(this.absolute(path));
        if (!made.isDirectory()) throw notDirectory(path, made);
      } else if (!stats.isDirectory()) {
        throw notDirectory(path, stats);
      }
    }
  }

  // A new file for `relative`, written under a temporary name beside it.
  async file(relative: string): Promise<PendingFile> {
    const temporary = await this.temporaryName(relative);
    const handle = await open(this.absolute(temporary), CREATE, 0o600);
    let committed = false;
    let closed = false;
    return {
      handle,
      commit: async (mode) => {
        await handle.chmod(mode & 0o777);
        await this.replace(temporary, relative);
        committed = true;
      },
      close: async () => {
        if (closed) return;
        closed = true;
        await handle.close().catch(() => undefined);
        if (!committed) await rm(this.absolute(temporary), { force: true });
      },
    };
  }

  // A symbolic link (its target already checked by the caller).
  async symlink(relative: string, target: string): Promise<void> {
    const temporary = await this.temporaryName(relative);
    await symlink(target, this.absolute(temporary));
    await this.replace(temporary, relative);
  }

  // A hard link to a regular file extracted before (never to a link, a directory, or anything
  // outside, which the caller's name check already excludes).
  async hardlink(relative: string, target: string): Promise<void> {
    await this.directory(posix.dirname(target) === '.' ? '' : posix.dirname(target));
    const stats = await lstatOrUndefined(this.absolute(target));
    if (stats === undefined || !stats.isFile()) {
      throw new FetchProblem(`archive entry '${relative}' is a hard link to '${target}', which is not a file extracted before it`, 'ERR_FETCH_ARCHIVE');
    }
    const temporary = await this.temporaryName(relative);
    await link(this.absolute(target), this.absolute(temporary));
    await this.replace(temporary, relative);
  }

  async setMode(relative: string, mode: number): Promise<void> {
    const stats = await lstat(this.absolute(relative));
    if (stats.isSymbolicLink()) throw new FetchProblem(`'${relative}' is a symbolic link; refusing to change its mode`, 'ERR_FETCH_SANDBOX');
    await chmod(this.absolute(relative), mode & 0o777);
  }

  private async temporaryName(relative: string): Promise<string> {
    const parent = posix.dirname(relative) === '.' ? '' : posix.dirname(relative);
    await this.directory(parent);
    const name = `.${posix.basename(relative).slice(0, 100)}.fetch-${randomBytes(8).toString('hex')}`;
    return parent === '' ? name : `${parent}/${name}`;
  }

  private async replace(temporary: string, relative: string): Promise<void> {
    try {
      await rename(this.absolute(temporary), this.absolute(relative));
    } catch (error) {
      await rm(this.absolute(temporary), { force: true });
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST') {
        throw new FetchProblem(`'${relative}' is a directory in the sandbox; a file cannot replace it`, 'ERR_FETCH_SANDBOX');
      }
      throw error;
    }
  }
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function notDirectory(path: string, stats: Stats): FetchProblem {
  const what = stats.isSymbolicLink() ? 'a symbolic link; refusing to write through it' : 'not a directory';
  return new FetchProblem(`'${path}' in the sandbox is ${what}`, 'ERR_FETCH_SANDBOX');
}
