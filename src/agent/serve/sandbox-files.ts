// /files/read and /files/browse on a sandbox the container owns, as root: every name on the way is
// checked not to be a link before it is used, the last one is opened for reading only once its
// O_PATH descriptor shows a regular file or a directory (no FIFO or device is ever opened), and
// the descriptor's own path must be exactly the one asked for, so that a directory swapped for a
// link meanwhile is caught. What a link points at is never read nor told.
import { closeSync, fstatSync, lstatSync, readdirSync, readFileSync, readlinkSync, readSync, realpathSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { openRegularNoFollow } from '../../sandbox-file.js';
import type { SandboxLocation } from './sandbox-path.js';

// Mesos caps a read at 16 pages.
export const MAX_READ_LENGTH = 16 * 4096;

export class SandboxAccessError extends Error {
  readonly status: 400 | 403 | 404;

  constructor(status: 400 | 403 | 404, message: string) {
    super(message);
    this.name = 'SandboxAccessError';
    this.status = status;
  }
}

export interface ReadResult {
  readonly data: string;
  readonly offset: number;
}

export interface BrowseEntry {
  readonly path: string;
  readonly nlink: number;
  readonly size: number;
  readonly mtime: number;
  readonly mode: string;
  readonly uid: string;
  readonly gid: string;
}

// Mesos's read: offset -1 gives the size; past the end, no data; at most MAX_READ_LENGTH bytes.
// The bytes are UTF-8 text; a character cut by the end of the range is left for the next read,
// so that offset + the byte length of `data` is where the next read starts.
export function readSandboxRange(location: SandboxLocation, offset: number, length: number | undefined): ReadResult {
  const fd = openInSandbox(location, 'file');
  try {
    const size = fstatSync(fd).size;
    if (offset === -1 || offset >= size) return { data: '', offset: offset === -1 ? size : size };
    const wanted = Math.min(length ?? MAX_READ_LENGTH, MAX_READ_LENGTH, size - offset);
    const buffer = Buffer.alloc(wanted);
    let got = 0;
    while (got < wanted) {
      const read = readSync(fd, buffer, got, wanted - got, offset + got);
      if (read === 0) break;
      got += read;
    }
    const bytes = buffer.subarray(0, offset + got < size ? completeCharacters(buffer.subarray(0, got)) : got);
    return { data: bytes.toString('utf8'), offset };
  } finally {
    closeSync(fd);
  }
}

// Entries of a directory (or the one entry of a file), links listed as links, never followed.
export function browseSandbox(location: SandboxLocation): BrowseEntry[] {
  const fd = openInSandbox(location, 'any');
  try {
    const stats = fstatSync(fd);
    const here = [location.prefix, ...location.names].join('/');
    if (!stats.isDirectory()) return [entry(here, stats)];
    const directory = `/proc/self/fd/${fd}`;
    const entries: BrowseEntry[] = [];
    for (const name of readdirSync(directory).sort()) {
      try {
        entries.push(entry(`${here}/${name}`, lstatSync(join(directory, name))));
      } catch {
        // Removed meanwhile.
      }
    }
    return entries;
  } finally {
    closeSync(fd);
  }
}

function openInSandbox(location: SandboxLocation, want: 'file' | 'any'): number {
  const shown = location.names.length === 0 ? 'the sandbox' : `'${location.names.join('/')}'`;
  let root: string;
  try {
    root = realpathSync(location.sandbox);
  } catch {
    throw new SandboxAccessError(404, `The sandbox of task '${location.taskId}' does not exist`);
  }
  let path = root;
  for (const [i, name] of location.names.entries()) {
    path = join(path, name);
    let stats: Stats;
    try {
      stats = lstatSync(path);
    } catch {
      throw new SandboxAccessError(404, `No file ${shown} in the sandbox of task '${location.taskId}'`);
    }
    if (stats.isSymbolicLink()) throw new SandboxAccessError(403, `${shown} is or passes through a symbolic link; links in a sandbox are not followed`);
    if (i < location.names.length - 1 && !stats.isDirectory()) throw new SandboxAccessError(404, `No file ${shown} in the sandbox of task '${location.taskId}'`);
    if (i === location.names.length - 1 && !stats.isFile() && !stats.isDirectory()) {
      throw new SandboxAccessError(403, `${shown} is not a regular file or a directory`);
    }
  }
  // Opened for reading only once its descriptor shows a regular file or a directory: the name
  // may have been swapped for a FIFO or a device since the check above.
  let fd: number;
  try {
    const opened = openRegularNoFollow(path, true);
    if ('refused' in opened) {
      if (opened.refused.isSymbolicLink()) throw new SandboxAccessError(403, `${shown} is a symbolic link; links in a sandbox are not followed`);
      throw new SandboxAccessError(403, `${shown} is not a regular file or a directory`);
    }
    fd = opened.fd;
  } catch (error) {
    if (error instanceof SandboxAccessError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new SandboxAccessError(404, `Cannot open ${shown} (${code ?? 'error'})`);
  }
  try {
    if (readlinkSync(`/proc/self/fd/${fd}`) !== path) throw new SandboxAccessError(403, `${shown} is not inside the sandbox (a directory on its path was replaced by a link)`);
    const stats = fstatSync(fd);
    if (want === 'file' && stats.isDirectory()) throw new SandboxAccessError(400, `${shown} is a directory: browse it with /files/browse`);
    if (!stats.isFile() && !stats.isDirectory()) throw new SandboxAccessError(403, `${shown} is not a regular file or a directory`);
    return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

// How many leading bytes hold only whole UTF-8 characters (a sequence begun in the last three
// bytes and not finished is cut).
export function completeCharacters(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

function entry(path: string, stats: Stats): BrowseEntry {
  return {
    path,
    nlink: stats.nlink,
    size: stats.size,
    mtime: Math.floor(stats.mtimeMs / 1000),
    mode: modeString(stats),
    uid: accountName('/etc/passwd', stats.uid),
    gid: accountName('/etc/group', stats.gid),
  };
}

// As `ls -l` writes it (and Mesos's browse): type, then rwx for user, group and others.
export function modeString(stats: Pick<Stats, 'mode' | 'isDirectory' | 'isSymbolicLink' | 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice'>): string {
  const type = stats.isDirectory() ? 'd' : stats.isSymbolicLink() ? 'l' : stats.isFIFO() ? 'p' : stats.isSocket() ? 's' : stats.isCharacterDevice() ? 'c' : stats.isBlockDevice() ? 'b' : '-';
  let bits = '';
  for (let shift = 6; shift >= 0; shift -= 3) {
    const triple = (stats.mode >> shift) & 7;
    bits += `${triple & 4 ? 'r' : '-'}${triple & 2 ? 'w' : '-'}${triple & 1 ? 'x' : '-'}`;
  }
  return type + bits;
}

const accounts = new Map<string, Map<number, string>>();

// The user or group name of an id, as Mesos's browse gives it; the number when there is none.
function accountName(file: string, id: number): string {
  let names = accounts.get(file);
  if (!names) {
    names = new Map();
    try {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        const [name, , number] = line.split(':');
        if (name && number !== undefined && /^[0-9]+$/.test(number)) names.set(Number(number), name);
      }
    } catch {
      // No such file: numbers it is.
    }
    accounts.set(file, names);
  }
  return names.get(id) ?? String(id);
}
