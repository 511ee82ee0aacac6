// RecordIO framing of the executor event stream: "<decimal length>\n<record bytes>", repeated.
// Framing is independent of HTTP chunk boundaries, so the decoder buffers bytes across chunks.
import { ExecutorError } from '../errors.js';

export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024;

// Longest header we accept: 20 digits covers any 64-bit length; anything longer is garbage.
const MAX_HEADER_BYTES = 20;
const NEWLINE = 0x0a;

export class RecordIOError extends ExecutorError<'ERR_RECORDIO'> {
  // Records that were complete before the failure in the same push(): framing was intact up to
  // them, so they are delivered as they would have been had the chunks been split differently.
  records: Buffer[] = [];

  constructor(message: string) {
    super(message, { name: 'RecordIOError', code: 'ERR_RECORDIO' });
  }
}

export function encodeRecord(record: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${record.length}\n`, 'ascii'), record]);
}

// Incremental decoder: feed chunks with push(); complete records come back in order.
// After an error the decoder stays failed, like the reference decoder: the stream is unusable.
export class RecordIODecoder {
  private readonly maxRecordBytes: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private expected: number | undefined;
  private headerBytes = 0;
  private failure: RecordIOError | undefined;

  constructor(options: { maxRecordBytes?: number } = {}) {
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  }

  push(chunk: Uint8Array): Buffer[] {
    if (this.failure) {
      this.failure.records = [];
      throw this.failure;
    }
    if (chunk.length > 0) {
      this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.buffered += chunk.length;
    }
    const records: Buffer[] = [];
    try {
      for (;;) {
        const record = this.next();
        if (record === undefined) break;
        records.push(record);
      }
    } catch (error) {
      const failure = error as RecordIOError;
      failure.records = records;
      this.failure = failure;
      throw failure;
    }
    return records;
  }

  // Bytes (header included) of a record that has begun but not ended: non-zero at the end of
  // the stream means the last record was cut off.
  get pendingBytes(): number {
    return this.buffered + (this.expected === undefined ? 0 : this.headerBytes);
  }

  private next(): Buffer | undefined {
    if (this.expected === undefined) {
      const header = this.takeHeader();
      if (header === undefined) return undefined;
      this.expected = parseLength(header, this.maxRecordBytes);
      this.headerBytes = header.length + 1;
    }
    if (this.buffered < this.expected) return undefined;
    const record = this.take(this.expected);
    this.expected = undefined;
    return record;
  }

  private takeHeader(): string | undefined {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = this.buffered > 0 ? [all] : [];
    const end = all.indexOf(NEWLINE);
    if (end === -1) {
      if (all.length > MAX_HEADER_BYTES) {
        throw new RecordIOError(
          `Invalid RecordIO header: no newline within ${MAX_HEADER_BYTES} bytes`,
        );
      }
      return undefined;
    }
    const header = all.subarray(0, end).toString('latin1');
    this.drop(end + 1);
    return header;
  }

  private take(length: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const record = Buffer.from(all.subarray(0, length));
    this.chunks = [all];
    this.drop(length);
    return record;
  }

  private drop(length: number): void {
    const all = this.chunks[0]!;
    const rest = all.subarray(length);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
  }
}

function parseLength(header: string, maxRecordBytes: number): number {
  if (!/^[0-9]{1,20}$/.test(header)) {
    // Described, never quoted: the bytes may be anything, a secret included.
    throw new RecordIOError(`Invalid RecordIO header of ${header.length} bytes: expected a decimal record length`);
  }
  const length = Number(header);
  if (!Number.isSafeInteger(length) || length > maxRecordBytes) {
    throw new RecordIOError(
      `RecordIO record of ${header} bytes exceeds the limit of ${maxRecordBytes} bytes`,
    );
  }
  return length;
}
