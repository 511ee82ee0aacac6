// A log file that rotates by size (the plan in rotation-plan.ts), written as root in a sandbox
// the container owns. Every name touched is a direct child of the sandbox directory, whose path
// the agent made: rename and unlink act on a planted link itself, never on what it points at, and
// a new file is created with O_EXCL | O_NOFOLLOW, so a link, FIFO or device planted at `stdout`
// or `stdout.3` cannot make this process write, truncate or remove anything outside the sandbox.
// A name the logger cannot take back (a directory planted there) costs the file that would have
// moved to it, never the bytes still to come.
//
// Nothing here throws: a byte that cannot be written is counted as lost and the first reason
// reported, so the executor writing into the pipe never blocks on, or dies of, a bad sandbox.
import { closeSync, constants, fstatSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { planRotation, planWrite } from './rotation-plan.js';

export interface RotatingFileOptions {
  // The sandbox directory, as a real path the agent made.
  readonly directory: string;
  // The file's name in it: "stdout" or "stderr".
  readonly name: string;
  readonly maxBytes: number;
  // Old files kept: `name.1` (newest) to `name.<keep>`.
  readonly keep: number;
  // The current file, already opened for appending; opened here when not given.
  readonly fd?: number | undefined;
  // One line about a problem; each distinct line is reported once.
  readonly report: (message: string) => void;
}

const CREATE = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const REOPEN = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;
// A container racing each re-creation of the file gets this many tries before output is dropped.
const CREATE_ATTEMPTS = 3;

export class RotatingFile {
  private readonly options: RotatingFileOptions;
  private readonly reported = new Set<string>();
  private fd: number | undefined;
  private size = 0;
  private lost = 0;
  private rotations = 0;

  constructor(options: RotatingFileOptions) {
    this.options = options;
    this.fd = options.fd ?? this.openCurrent();
    if (this.fd !== undefined) this.size = fstatSync(this.fd).size;
  }

  // Bytes of the output that could not be written.
  get lostBytes(): number {
    return this.lost;
  }

  get rotationCount(): number {
    return this.rotations;
  }

  write(bytes: Buffer): void {
    for (const segment of planWrite(this.size, this.options.maxBytes, bytes.length)) {
      if (segment.rotateFirst) this.rotate();
      this.append(bytes.subarray(segment.start, segment.end));
    }
  }

  // Closes the current file; the closing line about lost bytes, when any were.
  close(): string | undefined {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    return this.lost === 0 ? undefined : `${this.options.name}: in all, ${this.lost} bytes of output were lost`;
  }

  private append(bytes: Buffer): void {
    this.fd ??= this.create();
    if (this.fd === undefined) {
      this.lost += bytes.length;
      return;
    }
    let offset = 0;
    try {
      while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset, bytes.length - offset);
    } catch (error) {
      // The next chunk is tried again: a full disk may have room by then.
      this.lost += bytes.length - offset;
      this.tell(`cannot write ${this.options.name} (${errno(error)}); output is lost until it can`);
    }
    this.size += offset;
  }

  private rotate(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.size = 0;
    this.rotations += 1;
    for (const step of planRotation(this.options.name, this.options.keep)) {
      if (step.op === 'remove') {
        this.remove(step.name);
        continue;
      }
      try {
        renameSync(this.path(step.from), this.path(step.to));
      } catch (error) {
        if (errno(error) === 'ENOENT') continue;
        // Something the logger cannot replace holds the name (a directory): the older file goes.
        this.tell(`cannot rotate ${step.from} to ${step.to} (${errno(error)}); removing ${step.from} instead`);
        this.remove(step.from);
      }
    }
  }

  private remove(name: string): void {
    try {
      unlinkSync(this.path(name));
    } catch (error) {
      if (errno(error) !== 'ENOENT') this.tell(`cannot remove ${name} (${errno(error)})`);
    }
  }

  // A new, empty file of ours: whatever the container put at the name meanwhile is removed first.
  private create(): number | undefined {
    for (let attempt = 1; attempt <= CREATE_ATTEMPTS; attempt++) {
      try {
        return openSync(this.path(this.options.name), CREATE, 0o644);
      } catch (error) {
        if (errno(error) !== 'EEXIST') {
          this.tell(`cannot create ${this.options.name} (${errno(error)}); output is lost until it can`);
          return undefined;
        }
        this.remove(this.options.name);
      }
    }
    this.tell(`cannot create ${this.options.name}: something keeps taking its name; output is lost until it can`);
    return undefined;
  }

  // The file as it is, appended to, when no descriptor was handed over; anything but a regular
  // file is replaced by create() at the first write.
  private openCurrent(): number | undefined {
    let fd: number;
    try {
      fd = openSync(this.path(this.options.name), REOPEN, 0o644);
    } catch (error) {
      this.tell(`cannot append to ${this.options.name} (${errno(error) === 'ELOOP' ? 'a symbolic link' : errno(error)}); starting a new one`);
      return undefined;
    }
    if (fstatSync(fd).isFile()) return fd;
    closeSync(fd);
    this.tell(`cannot append to ${this.options.name} (not a regular file); starting a new one`);
    return undefined;
  }

  private path(name: string): string {
    return join(this.options.directory, name);
  }

  private tell(message: string): void {
    if (this.reported.has(message)) return;
    this.reported.add(message);
    this.options.report(message);
  }
}

function errno(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'error';
}
