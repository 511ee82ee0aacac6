// The files of one sandbox log (`stdout`, and after rotation `stdout.1`, `stdout.2`, ...), each
// named by its identity rather than its name: rotation renames files, so a name says nothing
// about which bytes it holds, while (device, inode, birth time) stays with the file. Names are
// only listed and lstat'ed here, never followed: the container owns the sandbox.
import { lstatSync, readdirSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';

export type LogStream = 'stdout' | 'stderr';

// One file of a log as found in the sandbox.
export interface LogFile {
  readonly name: string;
  // `dev:ino:birthNs`; the birth time keeps a reused inode from passing for the deleted file.
  readonly id: string;
  readonly birthNs: bigint;
  // 0 for the live file, N for `stdout.N`.
  readonly index: number;
  readonly size: number;
}

export function fileIdentity(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}:${stats.birthtimeNs}`;
}

// The birth time a position's file id carries, or undefined for a malformed id.
export function birthOf(id: string): bigint | undefined {
  const match = /^[0-9]+:[0-9]+:([0-9]+)$/.exec(id);
  return match ? BigInt(match[1]!) : undefined;
}

export interface LogListing {
  // Regular files only, newest first.
  readonly files: LogFile[];
  // Names of the log that are there but refused (a link, a FIFO, a directory).
  readonly refused: string[];
}

// The log's files as they are now. A file that vanishes while listed is left out.
export function listLogFiles(sandbox: string, stream: LogStream): LogListing {
  const pattern = new RegExp(`^${stream}(?:\\.([1-9][0-9]{0,5}))?$`);
  const files: LogFile[] = [];
  const refused: string[] = [];
  let names: string[];
  try {
    names = readdirSync(sandbox);
  } catch {
    return { files, refused };
  }
  for (const name of names) {
    const match = pattern.exec(name);
    if (!match) continue;
    let stats: BigIntStats;
    try {
      stats = lstatSync(join(sandbox, name), { bigint: true });
    } catch {
      continue;
    }
    if (!stats.isFile()) {
      refused.push(name);
      continue;
    }
    files.push({ name, id: fileIdentity(stats), birthNs: stats.birthtimeNs, index: match[1] ? Number(match[1]) : 0, size: Number(stats.size) });
  }
  files.sort((a, b) => a.index - b.index);
  return { files, refused };
}

// The file written after the one with `id` (born `birthNs`), or undefined while it is not there.
// While the file is listed, rotation order is the index order. Once it has left the listing
// (rotated off the end), every file born no earlier is later: the oldest of them follows. Birth
// times alone cannot order files: the kernel stamps them at a coarse tick, so files created in
// one burst of rotations share one.
export function successorOf(listing: LogListing, id: string, birthNs: bigint): LogFile | undefined {
  const files = listing.files;
  const at = files.findIndex((file) => file.id === id);
  if (at !== -1) return at > 0 ? files[at - 1] : undefined;
  const later = files.filter((file) => file.birthNs >= birthNs);
  return later[later.length - 1];
}
