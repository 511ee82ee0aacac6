// A live tail of one sandbox log for one reader, across rotation. A position is (file identity,
// byte offset in that file): it names the same byte whoever reads it, after a reconnect or a
// restart of the agent, as long as the file is still in the sandbox. When the live file is
// renamed away, the follower finishes it from the descriptor it holds, then goes on with the file
// born after it. Files are opened as root only as regular files, no link followed (sandbox-file).
// The reader bounds the memory: bytes handed over and not yet written out count against a limit,
// and a reader that falls too far behind is moved ahead with a `skipped` notice instead of being
// buffered for.
import { closeSync, fstatSync, readSync, watch, type FSWatcher } from 'node:fs';
import { realpathSync } from 'node:fs';
import { openSandboxFile, SandboxFileError } from '../../sandbox-file.js';
import { birthOf, fileIdentity, listLogFiles, successorOf, type LogFile, type LogStream } from './rotated-logs.js';

export interface LogPosition {
  readonly file: string;
  readonly offset: number;
}

export interface FollowerLimits {
  // The most bytes read and handed over at once.
  readonly chunkBytes: number;
  // Bytes handed over whose `written` has not been called; past this the follower waits.
  readonly maxInFlightBytes: number;
  // Unread bytes in the current file beyond which the reader is moved to its last tailBytes.
  readonly maxBacklogBytes: number;
  // How much of the live file a reader without a position starts with.
  readonly tailBytes: number;
}

export const DEFAULT_FOLLOWER_LIMITS: FollowerLimits = {
  chunkBytes: 32 * 1024,
  maxInFlightBytes: 256 * 1024,
  maxBacklogBytes: 1024 * 1024,
  tailBytes: 64 * 1024,
};

export interface FollowerSink {
  // `bytes` start at `at`; `written` is called once they have left this process.
  data(at: LogPosition, bytes: Buffer, written: () => void): void;
  // Bytes passed over: a known count, or undefined when they were rotated away before being read.
  skipped(bytes: number | undefined, why: string): void;
  // Something the reader should know (a refused link); said once until it changes.
  problem(message: string): void;
}

interface OpenFile {
  readonly fd: number;
  readonly id: string;
  readonly birthNs: bigint;
}

export class LogFollower {
  private readonly sandbox: string;
  private readonly stream: LogStream;
  private readonly sink: FollowerSink;
  private readonly limits: FollowerLimits;
  private start: LogPosition | undefined;
  private current: OpenFile | undefined;
  private offset = 0;
  private inFlight = 0;
  private scheduled = false;
  private closed = false;
  private lastProblem = '';
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: { sandbox: string; stream: LogStream; sink: FollowerSink; from?: LogPosition; limits?: Partial<FollowerLimits>; pollMs?: number }) {
    // The sandbox directory itself is the agent's; only what lies in it is the container's.
    this.sandbox = realpathSync(options.sandbox);
    this.stream = options.stream;
    this.sink = options.sink;
    this.start = options.from;
    this.limits = { ...DEFAULT_FOLLOWER_LIMITS, ...options.limits };
    try {
      this.watcher = watch(this.sandbox, { persistent: false }, (_event, name) => {
        if (name === null || String(name).startsWith(this.stream)) this.schedule();
      });
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      this.watcher = undefined;
    }
    // A safety net for changes the watch does not report (a sandbox on a network file system).
    const pollMs = options.pollMs ?? 2000;
    this.timer = setInterval(() => this.schedule(), pollMs);
    this.timer.unref();
    this.schedule();
  }

  // Where the next byte will come from, once the follower has found its file.
  get position(): LogPosition | undefined {
    return this.current ? { file: this.current.id, offset: this.offset } : this.start;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher?.close();
    clearInterval(this.timer);
    if (this.current) closeSync(this.current.fd);
    this.current = undefined;
  }

  // Looks for new bytes soon (coalescing bursts of file events into one pass).
  schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.closed) return;
    try {
      if (!this.current && !this.openFirst()) return;
      while (!this.closed && this.inFlight < this.limits.maxInFlightBytes) {
        const file = this.current!;
        const size = fstatSync(file.fd).size;
        if (size < this.offset) {
          this.sink.skipped(undefined, `${this.stream} was truncated; following it from its start`);
          this.offset = 0;
          continue;
        }
        const backlog = size - this.offset;
        if (backlog > this.limits.maxBacklogBytes) {
          const ahead = backlog - this.limits.tailBytes;
          this.offset += ahead;
          this.sink.skipped(ahead, 'the reader fell behind');
          continue;
        }
        if (backlog === 0) {
          if (!this.advance(file)) return;
          continue;
        }
        const buffer = Buffer.allocUnsafe(Math.min(backlog, this.limits.chunkBytes));
        const read = readSync(file.fd, buffer, 0, buffer.length, this.offset);
        if (read === 0) return;
        const at = { file: file.id, offset: this.offset };
        this.offset += read;
        this.inFlight += read;
        let done = false;
        this.sink.data(at, buffer.subarray(0, read), () => {
          if (done) return;
          done = true;
          this.inFlight -= read;
          if (this.inFlight <= this.limits.maxInFlightBytes / 2) this.schedule();
        });
      }
    } catch (error) {
      this.report(error instanceof SandboxFileError ? error.message : `${this.stream} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }

  // At the end of the current file: true when the follower moved on to the next file.
  private advance(file: OpenFile): boolean {
    const listing = listLogFiles(this.sandbox, this.stream);
    this.noteRefused(listing.refused);
    const live = listing.files.find((candidate) => candidate.index === 0);
    if (live?.id === file.id) return false;
    // Renamed away (or replaced): bytes written before the rename are still to be read.
    if (fstatSync(file.fd).size > this.offset) return true;
    const next = successorOf(listing, file.id, file.birthNs);
    if (!next) return false;
    const opened = this.open(next);
    if (!opened) return false;
    closeSync(file.fd);
    this.current = opened;
    this.offset = 0;
    return true;
  }

  // Finds the file to begin with: the one the start position names, or the tail of the live one.
  private openFirst(): boolean {
    const listing = listLogFiles(this.sandbox, this.stream);
    this.noteRefused(listing.refused);
    const start = this.start;
    if (start) {
      const named = listing.files.find((file) => file.id === start.file);
      if (named) return this.begin(named, start.offset, start.offset > named.size ? 'the position is past the end of the file' : undefined);
      const birth = birthOf(start.file) ?? 0n;
      const next = successorOf(listing, start.file, birth);
      if (!next) {
        // The file is gone and nothing newer is there yet: it may be a position of a file
        // still to come after a restart; start with the live file when it appears.
        const live = listing.files.find((file) => file.index === 0);
        if (!live) return false;
        return this.begin(live, 0, 'the file of the position is no longer there');
      }
      return this.begin(next, 0, 'output was rotated away before it was read');
    }
    const live = listing.files.find((file) => file.index === 0);
    if (!live) return false;
    const from = Math.max(0, live.size - this.limits.tailBytes);
    const older = listing.files.filter((file) => file.index > 0).reduce((sum, file) => sum + file.size, 0);
    if (!this.begin(live, from)) return false;
    if (from + older > 0) this.sink.skipped(from + older, 'earlier output');
    return true;
  }

  private begin(file: LogFile, offset: number, lost?: string): boolean {
    const opened = this.open(file);
    if (!opened) return false;
    this.current = opened;
    this.start = undefined;
    if (lost !== undefined) {
      this.offset = 0;
      this.sink.skipped(undefined, lost);
    } else {
      this.offset = offset;
    }
    return true;
  }

  // Opens a listed file, or undefined when the name now holds another file (a rename raced).
  private open(file: LogFile): OpenFile | undefined {
    const opened = openSandboxFile(this.sandbox, file.name);
    if (!opened) return undefined;
    const stats = fstatSync(opened.fd, { bigint: true });
    if (fileIdentity(stats) !== file.id) {
      closeSync(opened.fd);
      this.schedule();
      return undefined;
    }
    return { fd: opened.fd, id: file.id, birthNs: stats.birthtimeNs };
  }

  private noteRefused(refused: string[]): void {
    if (refused.includes(this.stream)) this.report(`sandbox ${this.stream} is not a regular file; refusing to follow it`);
  }

  private report(message: string): void {
    if (message === this.lastProblem) return;
    this.lastProblem = message;
    this.sink.problem(message);
  }
}
