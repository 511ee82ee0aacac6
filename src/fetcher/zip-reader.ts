// A reader of zip archives from their central directory, written here (like the tar reader) so
// that every entry passes this project's checks before anything is created. Stored and deflated
// entries are read; encrypted entries, other methods and ZIP64 archives are refused.
import type { FileHandle } from 'node:fs/promises';
import { createInflateRaw, crc32 } from 'node:zlib';
import { FetchProblem } from './fetch-error.js';
import type { ArchiveEntryType, TarEntry } from './tar-reader.js';

export type ZipEntry = TarEntry;

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_COMMENT = 0xffff;
const MAX_LINK_BYTES = 4096;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

export async function* readZip(file: FileHandle, fileSize: number): AsyncGenerator<ZipEntry> {
  const tailLength = Math.min(fileSize, 22 + MAX_COMMENT);
  const tail = await readAt(file, fileSize - tailLength, tailLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd === -1) throw malformed('no end of central directory (not a zip archive, or a truncated one)');
  const count = tail.readUInt16LE(eocd + 10);
  const directorySize = tail.readUInt32LE(eocd + 12);
  const directoryOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
    throw malformed('it is a ZIP64 archive, which is not supported');
  }
  if (directoryOffset + directorySize > fileSize) throw malformed('its central directory lies outside the file');
  const directory = await readAt(file, directoryOffset, directorySize);
  let offset = 0;
  for (let index = 0; index < count; index++) {
    if (offset + 46 > directory.length || directory.readUInt32LE(offset) !== CENTRAL) throw malformed('its central directory is corrupt');
    const madeBy = directory.readUInt16LE(offset + 4);
    const flags = directory.readUInt16LE(offset + 8);
    const method = directory.readUInt16LE(offset + 10);
    const crc = directory.readUInt32LE(offset + 16);
    const compressedSize = directory.readUInt32LE(offset + 20);
    const size = directory.readUInt32LE(offset + 24);
    const nameLength = directory.readUInt16LE(offset + 28);
    const extraLength = directory.readUInt16LE(offset + 30);
    const commentLength = directory.readUInt16LE(offset + 32);
    const external = directory.readUInt32LE(offset + 38);
    const localOffset = directory.readUInt32LE(offset + 42);
    if (offset + 46 + nameLength > directory.length) throw malformed('its central directory is corrupt');
    const name = directory.subarray(offset + 46, offset + 46 + nameLength).toString('utf8');
    offset += 46 + nameLength + extraLength + commentLength;

    if (flags & 0x1) throw malformed(`entry '${printable(name)}' is encrypted`);
    if (method !== 0 && method !== 8) throw malformed(`entry '${printable(name)}' uses compression method ${method} (only stored and deflated are read)`);
    // Unix modes live in the high half of the external attributes when the archive was made on Unix.
    const unixMode = madeBy >> 8 === 3 ? external >>> 16 : 0;
    const type: ArchiveEntryType = (unixMode & S_IFMT) === S_IFLNK ? 'symlink'
      : name.endsWith('/') || (unixMode & S_IFMT) === S_IFDIR ? 'directory'
        : 'file';
    if (unixMode !== 0 && ![S_IFLNK, S_IFDIR, S_IFREG, 0].includes(unixMode & S_IFMT)) {
      throw malformed(`entry '${printable(name)}' is not a file, directory or symbolic link`);
    }
    const mode = unixMode & 0o7777 || (type === 'directory' ? 0o755 : 0o644);

    const local = await readAt(file, localOffset, 30);
    if (local.length < 30 || local.readUInt32LE(0) !== LOCAL) throw malformed(`the local header of '${printable(name)}' is missing`);
    const dataOffset = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    if (dataOffset + compressedSize > fileSize) throw malformed(`the data of '${printable(name)}' lies outside the file`);
    const body = (): AsyncIterable<Buffer> => entryBody(file, dataOffset, compressedSize, method, crc, name);

    if (type === 'symlink') {
      if (size > MAX_LINK_BYTES) throw malformed(`symbolic link '${printable(name)}' has a ${size}-byte target`);
      const parts: Buffer[] = [];
      for await (const chunk of body()) parts.push(chunk);
      yield { name, type, mode, size: 0, linkname: Buffer.concat(parts).toString('utf8'), body: empty() };
    } else {
      yield { name, type, mode, size: type === 'file' ? size : 0, linkname: '', body: type === 'file' ? body() : empty() };
    }
  }
}

async function* entryBody(file: FileHandle, start: number, length: number, method: number, expectedCrc: number, name: string): AsyncGenerator<Buffer> {
  if (length === 0) {
    if (expectedCrc !== 0) throw malformed(`the data of '${printable(name)}' fails its CRC check`);
    return;
  }
  const raw = file.createReadStream({ start, end: start + length - 1, autoClose: false });
  const source = method === 8 ? raw.pipe(createInflateRaw()) : raw;
  let crc = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      crc = crc32(chunk, crc);
      yield chunk;
    }
  } catch (error) {
    throw malformed(`the data of '${printable(name)}' is corrupt (${(error as Error).message})`);
  }
  if (crc >>> 0 !== expectedCrc >>> 0) throw malformed(`the data of '${printable(name)}' fails its CRC check`);
}

async function* empty(): AsyncGenerator<Buffer> {}

async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await file.read(buffer, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buffer.subarray(0, got);
}

function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, '?');
}

function malformed(why: string): FetchProblem {
  return new FetchProblem(`the zip archive is malformed: ${why}`, 'ERR_FETCH_ARCHIVE');
}
