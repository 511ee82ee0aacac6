// A streaming reader of tar archives (POSIX ustar, with pax and GNU long-name headers), written
// here so that every entry passes this project's checks before anything is created: no tool's
// own idea of a safe name is relied on. Entry types other than files, directories and links
// (devices, FIFOs, sparse files) are refused.
import { ByteReader } from './byte-reader.js';
import { FetchProblem } from './fetch-error.js';

export type ArchiveEntryType = 'file' | 'directory' | 'symlink' | 'hardlink';

export interface TarEntry {
  readonly name: string;
  readonly type: ArchiveEntryType;
  readonly mode: number;
  readonly size: number;
  readonly linkname: string;
  // The file's bytes; read them (or not) before asking for the next entry.
  readonly body: AsyncIterable<Buffer>;
}

const BLOCK = 512;
// pax and GNU long-name records are metadata: a bound keeps a hostile one from filling memory.
const MAX_META_BYTES = 1024 * 1024;

export async function* readTar(source: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(source);
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  for (;;) {
    const header = await reader.read(BLOCK);
    if (header.length === 0) throw malformed('it ends without the end-of-archive blocks');
    if (header.length < BLOCK) throw malformed('it is truncated inside a header');
    if (header.every((byte) => byte === 0)) return;
    checkChecksum(header);
    const typeflag = String.fromCharCode(header[156]!);
    let size = number(header, 124, 12, 'size');
    if (pax.size !== undefined) size = paxNumber(pax.size);
    const padded = Math.ceil(size / BLOCK) * BLOCK;

    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (size > MAX_META_BYTES) throw malformed(`a metadata header of ${size} bytes is over the ${MAX_META_BYTES}-byte bound`);
      const data = await reader.read(padded);
      if (data.length < padded) throw malformed('it is truncated inside a metadata header');
      const content = data.subarray(0, size);
      if (typeflag === 'x') pax = { ...pax, ...parsePax(content) };
      else if (typeflag === 'L') longName = cString(content, 0, content.length);
      else if (typeflag === 'K') longLink = cString(content, 0, content.length);
      // 'g' (global pax) carries defaults such as mtime only: nothing this reader uses.
      continue;
    }

    const type = entryType(typeflag);
    const prefix = header.subarray(257, 262).toString('latin1') === 'ustar' ? cString(header, 345, 155) : '';
    const baseName = cString(header, 0, 100);
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${baseName}` : baseName);
    const linkname = pax.linkpath ?? longLink ?? cString(header, 157, 100);
    if (type === undefined) throw malformed(`entry '${printableName(name)}' has type '${printableName(typeflag)}' (${typeDescription(typeflag)}), which is not extracted`);
    const mode = number(header, 100, 8, 'mode');
    longName = undefined;
    longLink = undefined;
    pax = {};
    const bodySize = type === 'file' ? size : 0;
    let remaining = bodySize;
    const body: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]: async function* () {
        for await (const chunk of reader.chunks(remaining)) {
          remaining -= chunk.length;
          yield chunk;
        }
        if (remaining > 0) throw malformed(`it is truncated inside '${printableName(name)}'`);
      },
    };
    yield { name, type, mode, size: bodySize, linkname, body };
    // Whatever the consumer left of the body, then the padding to the next block.
    if (remaining > 0 && (await reader.skip(remaining)) < remaining) throw malformed(`it is truncated inside '${printableName(name)}'`);
    await reader.skip(padded - bodySize);
  }
}

function entryType(flag: string): ArchiveEntryType | undefined {
  if (flag === '0' || flag === '\0' || flag === '7') return 'file';
  if (flag === '5') return 'directory';
  if (flag === '2') return 'symlink';
  if (flag === '1') return 'hardlink';
  return undefined;
}

function typeDescription(flag: string): string {
  const names: Record<string, string> = { '3': 'character device', '4': 'block device', '6': 'FIFO', S: 'GNU sparse file', V: 'volume label', M: 'multi-volume continuation' };
  return names[flag] ?? 'unknown type';
}

function checkChecksum(header: Buffer): void {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  const stored = number(header, 148, 8, 'checksum');
  if (stored !== sum) throw malformed('a header checksum does not match (not a tar archive, or a corrupt one)');
}

// Octal text (NUL- or space-terminated), or GNU base-256 when the high bit of the first byte is set.
function number(header: Buffer, offset: number, length: number, what: string): number {
  const field = header.subarray(offset, offset + length);
  if (field[0]! & 0x80) {
    let value = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    if (!Number.isSafeInteger(value)) throw malformed(`a header ${what} is too large`);
    return value;
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').replace(/^[ ]+/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw malformed(`a header ${what} field is not a number`);
  const value = parseInt(text, 8);
  if (!Number.isSafeInteger(value)) throw malformed(`a header ${what} is too large`);
  return value;
}

function paxNumber(text: string): number {
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(Number(text))) throw malformed(`a pax size '${printableName(text)}' is not a number`);
  return Number(text);
}

// pax records: "<length> <key>=<value>\n", the length counting the whole record.
function parsePax(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space === -1) throw malformed('a pax header is malformed');
    const length = Number(data.subarray(offset, space).toString('latin1'));
    if (!Number.isSafeInteger(length) || length <= space - offset || offset + length > data.length) throw malformed('a pax header is malformed');
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq === -1) throw malformed('a pax header is malformed');
    records[record.slice(0, eq)] = record.slice(eq + 1);
    offset += length;
  }
  return records;
}

function cString(buffer: Buffer, offset: number, length: number): string {
  const field = buffer.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
}

function printableName(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, '?');
}

function malformed(why: string): FetchProblem {
  return new FetchProblem(`the tar archive is malformed: ${why}`, 'ERR_FETCH_ARCHIVE');
}
