// Reads exact byte counts from a stream of chunks, for parsers of sequential formats (tar).

export class ByteReader {
  private readonly iterator: AsyncIterator<Buffer>;
  private pending: Buffer = Buffer.alloc(0);
  private ended = false;

  constructor(source: AsyncIterable<Buffer | Uint8Array | string>) {
    const inner = source[Symbol.asyncIterator]();
    this.iterator = {
      next: async () => {
        const result = await inner.next();
        return result.done ? result : { done: false, value: Buffer.isBuffer(result.value) ? result.value : Buffer.from(result.value) };
      },
    };
  }

  // Exactly n bytes; fewer only at the end of the stream (the caller decides what that means).
  async read(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let have = 0;
    for await (const chunk of this.chunks(n)) {
      parts.push(chunk);
      have += chunk.length;
    }
    return have === 0 ? Buffer.alloc(0) : Buffer.concat(parts, have);
  }

  // Up to n bytes as they arrive, without holding them all.
  async *chunks(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.pending.length === 0) {
        if (this.ended) return;
        const next = await this.iterator.next();
        if (next.done) {
          this.ended = true;
          return;
        }
        this.pending = next.value;
        continue;
      }
      const take = Math.min(left, this.pending.length);
      const chunk = this.pending.subarray(0, take);
      this.pending = this.pending.subarray(take);
      left -= take;
      yield chunk;
    }
  }

  async skip(n: number): Promise<number> {
    let skipped = 0;
    for await (const chunk of this.chunks(n)) skipped += chunk.length;
    return skipped;
  }
}
