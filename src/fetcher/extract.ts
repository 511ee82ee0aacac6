// Extracts a fetched archive into the sandbox, as the Mesos fetcher does (tar and zip archives
// into the sandbox root; a .gz file beside itself without the suffix), with every entry checked
// first and every write made by the SandboxWriter. The archive is read through a descriptor
// this process holds, never reopened by name.
import type { FileHandle } from 'node:fs/promises';
import type { ArchiveKind } from './archive-kind.js';
import { gunzippedName } from './archive-kind.js';
import { decompress, type Compression } from './decompressor.js';
import { entryPath, hardlinkTarget, symlinkTarget } from './entry-path.js';
import { FetchProblem } from './fetch-error.js';
import type { SandboxWriter } from './sandbox-writer.js';
import { readTar, type TarEntry } from './tar-reader.js';
import { readZip } from './zip-reader.js';
import { formatByteSize } from './byte-size.js';

export interface ExtractOptions {
  // Bound on the bytes of all files written (a small archive can expand a millionfold).
  readonly maxBytes: number;
  readonly maxEntries: number;
  readonly signal: AbortSignal;
}

export interface Extracted {
  readonly entries: number;
  readonly bytes: number;
}

const COMPRESSION: Record<Exclude<ArchiveKind, 'zip' | 'gz'>, Compression> = {
  tar: 'none', 'tar.gz': 'gzip', 'tar.bz2': 'bzip2', 'tar.xz': 'xz',
};

// `archivePath` is where the archive lies in the sandbox (relative): a .gz file is written beside it.
export async function extractArchive(kind: ArchiveKind, archive: FileHandle, archiveSize: number, archivePath: string, writer: SandboxWriter, options: ExtractOptions): Promise<Extracted> {
  const counter = new Counter(options);
  if (kind === 'gz') {
    const decompressed = decompress(archive.createReadStream({ start: 0, autoClose: false }), 'gzip');
    const target = gunzippedName(archivePath);
    counter.entry();
    let error: unknown;
    try {
      await writeFile(writer, target, 0o644, decompressed.stream, counter, options.signal);
    } catch (caught) {
      error = caught;
    }
    await decompressed.finish(error);
    return counter.result();
  }
  if (kind === 'zip') {
    for await (const entry of readZip(archive, archiveSize)) await extractEntry(entry, writer, counter, options.signal);
    return counter.result();
  }
  const decompressed = decompress(archive.createReadStream({ start: 0, autoClose: false }), COMPRESSION[kind]);
  let error: unknown;
  try {
    for await (const entry of readTar(decompressed.stream)) await extractEntry(entry, writer, counter, options.signal);
  } catch (caught) {
    error = caught;
  }
  await decompressed.finish(error);
  return counter.result();
}

async function extractEntry(entry: TarEntry, writer: SandboxWriter, counter: Counter, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  const path = entryPath(entry.name);
  counter.entry();
  if (path === '') return;
  switch (entry.type) {
    case 'directory':
      return writer.directory(path, dirMode(entry.mode));
    case 'symlink':
      return writer.symlink(path, symlinkTarget(path, entry.linkname));
    case 'hardlink':
      return writer.hardlink(path, hardlinkTarget(path, entry.linkname));
    case 'file':
      return writeFile(writer, path, entry.mode, entry.body, counter, signal);
  }
}

async function writeFile(writer: SandboxWriter, path: string, mode: number, body: AsyncIterable<Buffer>, counter: Counter, signal: AbortSignal): Promise<void> {
  const file = await writer.file(path);
  try {
    for await (const chunk of body) {
      signal.throwIfAborted();
      counter.add(chunk.length);
      await file.handle.write(chunk);
    }
    await file.commit(fileMode(mode));
  } finally {
    await file.close();
  }
}

// Permission bits only: set-user-ID, set-group-ID and sticky bits from an archive are dropped.
function fileMode(mode: number): number {
  return (mode & 0o777) || 0o644;
}

// A directory stays writable and searchable by its owner, so that later entries can go into it.
function dirMode(mode: number): number {
  return ((mode & 0o777) || 0o755) | 0o700;
}

class Counter {
  private bytes = 0;
  private entries = 0;
  private readonly options: ExtractOptions;

  constructor(options: ExtractOptions) {
    this.options = options;
  }

  add(n: number): void {
    this.bytes += n;
    if (this.bytes > this.options.maxBytes) {
      throw new FetchProblem(`the archive expands to more than ${formatByteSize(this.options.maxBytes)} (--fetcher_max_extracted_size)`, 'ERR_FETCH_TOO_BIG');
    }
  }

  entry(): void {
    this.entries += 1;
    if (this.entries > this.options.maxEntries) {
      throw new FetchProblem(`the archive has more than ${this.options.maxEntries} entries`, 'ERR_FETCH_TOO_BIG');
    }
  }

  result(): Extracted {
    return { entries: this.entries, bytes: this.bytes };
  }
}

