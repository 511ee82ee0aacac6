// The sandbox `stderr` file carries both the container's stderr and the executor's own log
// lines. A log line written while the container is in the middle of a line would split that
// line; so log lines wait for the container's next newline (at most HOLD_MS), and are then
// written between two whole container lines.
import { Writable } from 'node:stream';

const NEWLINE = 0x0a;
const HOLD_MS = 1000;

export class SharedStderr extends Writable {
  // Where both kinds of lines go (the executor's stderr sink).
  readonly target: Writable;
  private midLine = false;
  private held: string[] = [];
  private holdTimer: NodeJS.Timeout | undefined;

  constructor(target: Writable) {
    super({ highWaterMark: 1024 * 1024 });
    this.target = target;
  }

  // One diagnostic line (with its newline).
  diagnostic(line: string): void {
    // After the flush at exit there is nowhere left to write.
    if (this.target.writableEnded || this.target.destroyed) return;
    if (!this.midLine) {
      this.target.write(line);
      return;
    }
    this.held.push(line);
    this.holdTimer ??= setTimeout(() => this.release(), HOLD_MS);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let bytes = chunk;
    if (this.held.length > 0) {
      const end = bytes.indexOf(NEWLINE);
      if (end !== -1) {
        this.target.write(bytes.subarray(0, end + 1));
        bytes = bytes.subarray(end + 1);
        this.midLine = false;
        this.release();
      }
    }
    if (bytes.length > 0) this.midLine = bytes[bytes.length - 1] !== NEWLINE;
    if (bytes.length === 0 || this.target.write(bytes)) callback();
    else this.target.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.release();
    callback();
  }

  private release(): void {
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    const lines = this.held;
    this.held = [];
    if (this.target.writableEnded || this.target.destroyed) return;
    for (const line of lines) this.target.write(line);
  }
}
