// How much of the container's output an earlier executor already wrote into the sandbox files,
// read from the files themselves (they are the truth after a crash): all of `stdout`, and the
// bytes of `stderr` that are not this executor's own log lines. The stderr file is streamed in
// bounded chunks (it holds everything a long task ever printed) through this process's own
// descriptor, never through a path the container could have replaced.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { DIAGNOSTIC_LINE } from '../log.js';

export interface WrittenOutput {
  readonly stdout: number;
  readonly stderr: number;
}

const CHUNK_BYTES = 1024 * 1024;
// DIAGNOSTIC_LINE is decided on this many first bytes of a line.
const PREFIX_BYTES = 64;

// Undefined when a descriptor is not a regular file (a pipe to a logger cannot be re-read).
export function outputAlreadyWritten(stdoutFd = 1, stderrFd = 2): WrittenOutput | undefined {
  const stdout = regularFileSize(stdoutFd);
  if (stdout === undefined || regularFileSize(stderrFd) === undefined) return undefined;
  const stderr = containerBytesOfFd(stderrFd);
  return stderr === undefined ? undefined : { stdout, stderr };
}

// Counts, line by line and across chunk boundaries, the bytes of a shared stderr stream that
// came from the container: a line is the executor's own when its first bytes match DIAGNOSTIC_LINE.
export class ContainerByteCounter {
  private total = 0;
  private readonly prefix = Buffer.alloc(PREFIX_BYTES);
  private prefixLength = 0;
  private lineBytes = 0;

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline === -1 ? chunk.length : newline + 1;
      const take = Math.min(end - start, PREFIX_BYTES - this.prefixLength);
      if (take > 0) this.prefixLength += chunk.copy(this.prefix, this.prefixLength, start, start + take);
      this.lineBytes += end - start;
      if (newline !== -1) this.endLine();
      start = end;
    }
  }

  // The total, counting a last line that has no newline.
  finish(): number {
    if (this.lineBytes > 0) this.endLine();
    return this.total;
  }

  private endLine(): void {
    if (!DIAGNOSTIC_LINE.test(this.prefix.toString('latin1', 0, this.prefixLength))) this.total += this.lineBytes;
    this.prefixLength = 0;
    this.lineBytes = 0;
  }
}

// Bytes of a shared stderr file (already in memory) that came from the container.
export function containerBytes(file: Buffer): number {
  const counter = new ContainerByteCounter();
  counter.push(file);
  return counter.finish();
}

// Reads the file behind `fd` from its start, `chunkBytes` at a time, without moving `fd`'s own
// offset: /proc/self/fd/<fd> opens the same inode anew. Undefined when it cannot be read.
export function containerBytesOfFd(fd: number, chunkBytes = CHUNK_BYTES): number | undefined {
  let reader: number;
  try {
    reader = openSync(`/proc/self/fd/${fd}`, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return undefined;
  }
  try {
    const original = fstatSync(fd);
    const opened = fstatSync(reader);
    if (!opened.isFile() || opened.ino !== original.ino || opened.dev !== original.dev) return undefined;
    const counter = new ContainerByteCounter();
    const buffer = Buffer.alloc(chunkBytes);
    let position = 0;
    for (;;) {
      const read = readSync(reader, buffer, 0, buffer.length, position);
      if (read === 0) break;
      position += read;
      counter.push(buffer.subarray(0, read));
    }
    return counter.finish();
  } catch {
    return undefined;
  } finally {
    closeSync(reader);
  }
}

function regularFileSize(fd: number): number | undefined {
  try {
    const stat = fstatSync(fd);
    return stat.isFile() ? stat.size : undefined;
  } catch {
    return undefined;
  }
}
