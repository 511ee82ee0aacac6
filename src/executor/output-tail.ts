// The last few KiB a container wrote to one of its streams, kept as the output is copied: the
// terminal message quotes the last line or two of stderr (as Kubernetes' termination message
// does) and the post-mortem holds both tails. Bounded whatever the container writes.
import { Writable } from 'node:stream';

export const OUTPUT_TAIL_BYTES = 4096;
// What a terminal message may quote.
export const LAST_WORDS_BYTES = 512;
export const LAST_WORDS_LINES = 2;

export class OutputTail {
  private kept: Buffer = Buffer.alloc(0);
  // Bytes dropped from the front: the first kept line may be cut.
  private cut = false;

  constructor(private readonly limit = OUTPUT_TAIL_BYTES) {}

  add(chunk: Buffer): void {
    const joined = this.kept.length === 0 ? chunk : Buffer.concat([this.kept, chunk]);
    if (joined.length > this.limit) {
      // A copy, so that the large chunk it was cut from can be freed.
      this.kept = Buffer.from(joined.subarray(-this.limit));
      this.cut = true;
    } else {
      this.kept = joined;
    }
  }

  // The kept bytes as text, passed through `mask` (secret redaction) before anything is cut.
  text(mask: (text: string) => string = (text) => text): string {
    return mask(this.kept.toString('utf8'));
  }

  // The last lines, masked then bounded; undefined when nothing was written.
  lastWords(mask: (text: string) => string = (text) => text): string | undefined {
    return lastLines(this.text(mask), this.cut);
  }
}

// The last non-empty lines of `text`, at most LAST_WORDS_BYTES of them (the end kept, "…" marking
// a cut). A first line that `cut` says is partial is left out when a whole one follows.
export function lastLines(text: string, cut = false, maxLines = LAST_WORDS_LINES, maxBytes = LAST_WORDS_BYTES): string | undefined {
  let lines = text.split(/\r?\n/);
  if (cut && lines.length > 1) lines = lines.slice(1);
  const kept = lines.map((line) => line.trimEnd()).filter((line) => line !== '').slice(-maxLines);
  if (kept.length === 0) return undefined;
  const joined = kept.join('\n');
  if (Buffer.byteLength(joined) <= maxBytes) return joined;
  // Cut on a character boundary: decoding the last bytes drops a split character's remains.
  const bytes = Buffer.from(joined);
  const tail = bytes.subarray(bytes.length - (maxBytes - 3)).toString('utf8').replace(/^\uFFFD+/, '');
  return `…${tail}`;
}

// A sink that records what passes through it into `tail` and hands it on to `target` unchanged.
export function recordedTo(target: Writable, tail: OutputTail): Writable {
  return new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      tail.add(chunk);
      if (target.write(chunk)) callback();
      else target.once('drain', () => callback());
    },
  });
}
