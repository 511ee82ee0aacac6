// The fetcher's cache for URIs with cache=true: one file per URI (named by the SHA-256 of the
// URI's value, so no credential is in a name), least recently used evicted past a size bound.
// It lives in a directory of the agent's own, outside every sandbox, that must belong to this
// user and be writable by no one else: a cache another user can write to would let them choose
// what lands in every task's sandbox.
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm, utimes, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { FetchProblem } from './fetch-error.js';

export interface CacheEntry {
  readonly key: string;
  readonly size: number;
  readonly lastUsedMs: number;
}

const KEY = /^[0-9a-f]{64}$/;

export function cacheKey(uriValue: string): string {
  return createHash('sha256').update(uriValue, 'utf8').digest('hex');
}

// The entries to remove, least recently used first, so that `incoming` more bytes fit in
// `bound`; undefined when they cannot fit even in an empty cache.
export function planEviction(entries: readonly CacheEntry[], incoming: number, bound: number): string[] | undefined {
  if (incoming > bound) return undefined;
  let total = entries.reduce((sum, entry) => sum + entry.size, 0) + incoming;
  const evict: string[] = [];
  for (const entry of [...entries].sort((a, b) => a.lastUsedMs - b.lastUsedMs || a.key.localeCompare(b.key))) {
    if (total <= bound) break;
    evict.push(entry.key);
    total -= entry.size;
  }
  return evict;
}

export class FetchCache {
  readonly directory: string;
  readonly maxBytes: number;

  constructor(directory: string, maxBytes: number) {
    this.directory = directory;
    this.maxBytes = maxBytes;
  }

  // Creates the directory (0700) when missing, then checks it is ours alone.
  async prepare(): Promise<void> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const stats = await lstat(this.directory);
    const why = stats.isSymbolicLink() ? 'is a symbolic link'
      : !stats.isDirectory() ? 'is not a directory'
        : process.getuid && stats.uid !== process.getuid() ? `belongs to uid ${stats.uid}, not to this user (${process.getuid()})`
          : (stats.mode & 0o022) !== 0 ? `is writable by group or others (mode ${(stats.mode & 0o777).toString(8)})`
            : undefined;
    if (why) throw new FetchProblem(`the fetcher cache directory ${this.directory} ${why}; refusing to use it`, 'ERR_FETCH_CACHE');
  }

  // The cached file for a key, opened for reading, its use recorded; undefined on a miss.
  async lookup(key: string): Promise<{ handle: FileHandle; size: number } | undefined> {
    const path = join(this.directory, key);
    let handle: FileHandle;
    try {
      handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const stats = await handle.stat();
    if (!stats.isFile()) {
      await handle.close();
      return undefined;
    }
    const now = new Date();
    await utimes(path, now, now).catch(() => undefined);
    return { handle, size: stats.size };
  }

  // A new entry: written by the caller under a temporary name, then committed (evicting what
  // must go) or dropped when it cannot fit.
  async create(key: string): Promise<{ handle: FileHandle; commit(size: number): Promise<boolean>; abort(): Promise<void> }> {
    const temporary = join(this.directory, `${key}.tmp-${randomBytes(8).toString('hex')}`);
    const handle = await open(temporary, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    const abort = async (): Promise<void> => {
      await handle.close().catch(() => undefined);
      await rm(temporary, { force: true });
    };
    return {
      handle,
      abort,
      commit: async (size) => {
        const evict = planEviction((await this.entries()).filter((entry) => entry.key !== key), size, this.maxBytes);
        if (evict === undefined) {
          await abort();
          return false;
        }
        for (const old of evict) await rm(join(this.directory, old), { force: true });
        await handle.close();
        await rename(temporary, join(this.directory, key));
        return true;
      },
    };
  }

  async entries(): Promise<CacheEntry[]> {
    const entries: CacheEntry[] = [];
    for (const name of await readdir(this.directory)) {
      if (!KEY.test(name)) continue;
      const stats = await lstat(join(this.directory, name)).catch(() => undefined);
      if (stats?.isFile()) entries.push({ key: name, size: stats.size, lastUsedMs: stats.mtimeMs });
    }
    return entries;
  }
}
