// Where the container's output goes: this process's stdout or stderr. A regular file (the sandbox
// file the agent opened for us) or a character device is written synchronously, which is cheaper
// than a round trip through libuv's thread pool per chunk; a pipe or socket (a container logger)
// gets an asynchronous, non-blocking writer, so a slow reader slows the container instead of
// blocking the executor, and a reader that never reads cannot hold the process at exit.
//
// A sink never fails: bytes that cannot be written (a full disk, EIO, a reader gone) are lost
// output, counted, and reported once; the task is still followed, killed and reported. Strings
// written to a sink are the executor's own diagnostic lines: their loss is not counted (a dead
// stderr cannot report anything anywhere).
import { constants, fstatSync, openSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { getSystemErrorMap } from 'node:util';
import { log } from '../log.js';

export interface OutputSinkOptions {
  // Which of the container's streams this is, for messages: "stdout" or "stderr".
  readonly name?: string;
  // Where the first loss and the total are reported.
  readonly report?: (message: string) => void;
  // For a pipe: how long a reader may take nothing before output is dropped (STALL_MS).
  readonly stallMs?: number;
}

export function outputSink(fd: number, options: OutputSinkOptions = {}): OutputSink {
  let stats;
  try {
    stats = fstatSync(fd);
  } catch (error) {
    return new DeadSink(options, fd, error as Error);
  }
  return stats.isFIFO() || stats.isSocket() ? new PipeSink(fd, options) : new FileSink(fd, options);
}

export abstract class OutputSink extends Writable {
  protected readonly fd: number;
  private readonly name: string;
  private readonly report: (message: string) => void;
  private lost = 0;
  private firstReason: string | undefined;

  constructor(fd: number, options: OutputSinkOptions) {
    // Strings stay strings in _write: they mark the executor's own lines.
    super({ highWaterMark: 1024 * 1024, decodeStrings: false });
    this.fd = fd;
    this.name = options.name ?? (fd === 1 ? 'stdout' : fd === 2 ? 'stderr' : `descriptor ${fd}`);
    this.report = options.report ?? ((message) => log.warn(message));
    // Only a write after end can still raise one; there is nobody to tell.
    this.on('error', () => undefined);
  }

  // Bytes of the container's output that could not be written.
  get lostBytes(): number {
    return this.lost;
  }

  // The closing line for the diagnostics, when anything was lost.
  lossSummary(): string | undefined {
    if (this.lost === 0) return undefined;
    return `In all, ${this.lost} bytes of the container's ${this.name} were lost (first: ${this.firstReason})`;
  }

  // Counts what could not be written after `end`: bytes still queued when the flush gave up.
  abandonQueued(): void {
    this.lost += this.writableLength;
    this.firstReason ??= 'not written before exit';
  }

  protected lose(chunk: Buffer | string, bytes: number, error: unknown): void {
    if (typeof chunk === 'string' || bytes === 0) return;
    this.lost += bytes;
    if (this.firstReason !== undefined) return;
    this.firstReason = describeError(error);
    const message = `Lost ${bytes} bytes of the container's ${this.name}: ${this.firstReason}; further losses are counted`;
    // Reported from outside _write: the report itself may come back to this sink.
    process.nextTick(() => this.report(message));
  }
}

class FileSink extends OutputSink {
  override _write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    let offset = 0;
    try {
      while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset, bytes.length - offset);
    } catch (error) {
      // The next chunk is tried again: a full disk may have room by then.
      this.lose(chunk, bytes.length - offset, error);
    }
    callback();
  }
}

// How long a reader may take nothing before the output is dropped instead of waited for: Docker
// holds a container's exit until its output is read, so a reader that never reads would
// otherwise keep a killed container (and its terminal update) alive for ever.
export const STALL_MS = 10_000;

// A pipe or socket, written through libuv (non-blocking, with backpressure up to STALL_MS). A
// FIFO is reopened through /proc so that O_NONBLOCK is set on our own open file, not on the one
// the agent shares.
class PipeSink extends OutputSink {
  private socket: Socket | undefined;
  private dead: Error | undefined;
  // The reader has taken nothing for STALL_MS: chunks are dropped until it takes the last one.
  private stalled = false;
  private readonly stallMs: number;

  constructor(fd: number, options: OutputSinkOptions) {
    super(fd, options);
    this.stallMs = options.stallMs ?? STALL_MS;
    try {
      let own = fd;
      try {
        own = openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch (error) {
        // ENXIO: a FIFO without a reader (it never gets one back), or a socket (used as it is).
        if (fstatSync(fd).isFIFO()) throw Object.assign(new Error('broken pipe'), { code: 'EPIPE', cause: error });
      }
      this.socket = new Socket({ fd: own, readable: false, writable: true });
      this.socket.on('error', (error) => {
        this.dead ??= error;
      });
    } catch (error) {
      this.dead = error as Error;
    }
  }

  override _write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const socket = this.socket;
    const size = typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : chunk.length;
    if (this.dead !== undefined || socket === undefined || socket.destroyed) {
      // A dead pipe stays dead.
      this.lose(chunk, size, this.dead);
      callback();
      return;
    }
    if (this.stalled) {
      this.lose(chunk, size, STALLED);
      callback();
      return;
    }
    let called = false;
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(timer);
      if (called) return;
      called = true;
      callback();
    };
    socket.write(chunk, encoding, (error) => {
      if (error) {
        this.dead ??= error;
        if (!called) this.lose(chunk, size, error);
      } else {
        this.stalled = false;
      }
      done();
    });
    // When the pipe is full, wait for the reader, but not for ever.
    timer = setTimeout(() => {
      this.stalled = true;
      done();
    }, this.stallMs);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const socket = this.socket;
    if (socket === undefined || socket.destroyed || this.dead !== undefined) {
      socket?.destroy();
      callback();
      return;
    }
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      socket.destroy();
      callback();
    };
    socket.end(finish);
    // An error ends it too (the reader went away meanwhile).
    socket.once('close', finish);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket?.destroy();
    callback(error);
  }
}

// A descriptor that is not there at all: everything written is lost.
class DeadSink extends OutputSink {
  private readonly reason: Error;

  constructor(options: OutputSinkOptions, fd: number, reason: Error) {
    super(fd, options);
    this.reason = reason;
  }

  override _write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.lose(chunk, typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : chunk.length, this.reason);
    callback();
  }
}

const STALLED = Object.assign(new Error('its reader stopped taking any'), { code: 'ESTALLED' });

// "ENOSPC (no space left on device)": the code and what it means, no path.
function describeError(error: unknown): string {
  const { code, errno } = (error ?? {}) as NodeJS.ErrnoException;
  const meaning = typeof errno === 'number' ? getSystemErrorMap().get(errno)?.[1] : undefined;
  if (code === 'EPIPE') return 'EPIPE (broken pipe)';
  if (error === STALLED) return STALLED.message;
  if (code && meaning) return `${code} (${meaning})`;
  return code ?? (error instanceof Error ? error.message : 'unknown error');
}
