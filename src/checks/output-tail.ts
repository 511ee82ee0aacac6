// Keeps the last bytes written to it: a check's output is only ever quoted in a message, and a
// chatty check must not grow the executor's memory.
import { Writable } from 'node:stream';

export const OUTPUT_TAIL_BYTES = 1024;

export class OutputTail extends Writable {
  private readonly limit: number;
  private kept: Buffer = Buffer.alloc(0);

  constructor(limit = OUTPUT_TAIL_BYTES) {
    super();
    this.limit = limit;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const joined = Buffer.concat([this.kept, chunk]);
    // A copy, so that the large chunk it was cut from can be freed.
    this.kept = joined.length > this.limit ? Buffer.from(joined.subarray(-this.limit)) : joined;
    callback();
  }

  get text(): string {
    return this.kept.toString('utf8');
  }
}
