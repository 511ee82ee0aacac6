// Builds tar archives in memory with any names, types and link targets, including the hostile
// ones no well-behaved tool would write (for the fetcher's extraction tests).

export interface TarSpec {
  readonly name: string;
  // '0' file, '1' hard link, '2' symbolic link, '3' character device, '5' directory, '6' FIFO.
  readonly type?: '0' | '1' | '2' | '3' | '5' | '6';
  readonly content?: string | Buffer;
  readonly linkname?: string;
  readonly mode?: number;
}

export function buildTar(entries: readonly TarSpec[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const content = Buffer.from(entry.content ?? '');
    // Names over 100 bytes travel in a pax header, as GNU tar --format=pax writes them.
    if (Buffer.byteLength(entry.name) > 100) {
      const record = paxRecord('path', entry.name);
      blocks.push(header({ name: 'PaxHeader', type: 'x', size: record.length }), pad(record));
    }
    blocks.push(header({ name: entry.name.slice(0, 100), type: entry.type ?? '0', size: content.length, linkname: entry.linkname, mode: entry.mode }));
    if (content.length > 0) blocks.push(pad(content));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function header(fields: { name: string; type: string; size: number; linkname?: string | undefined; mode?: number | undefined }): Buffer {
  const block = Buffer.alloc(512);
  block.write(fields.name, 0, 100, 'utf8');
  block.write(octal(fields.mode ?? (fields.type === '5' ? 0o755 : 0o644), 8), 100, 'latin1');
  block.write(octal(0, 8), 108, 'latin1');
  block.write(octal(0, 8), 116, 'latin1');
  block.write(octal(fields.size, 12), 124, 'latin1');
  block.write(octal(Math.floor(Date.now() / 1000), 12), 136, 'latin1');
  block.write('        ', 148, 'latin1');
  block.write(fields.type, 156, 'latin1');
  block.write(fields.linkname ?? '', 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 'latin1');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return block;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\u0000`;
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (`${length}`.length + Buffer.byteLength(body) !== length) length = `${length}`.length + Buffer.byteLength(body);
  return Buffer.from(`${length}${body}`);
}

function pad(data: Buffer): Buffer {
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  data.copy(padded);
  return padded;
}
