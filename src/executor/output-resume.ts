// How much of the container's output an earlier executor already wrote into the sandbox files,
// read from the files themselves (they are the truth after a crash): all of `stdout`, and the
// bytes of `stderr` that are not this executor's own log lines.
import { fstatSync, readFileSync, readlinkSync } from 'node:fs';
import { DIAGNOSTIC_LINE } from '../log.js';

export interface WrittenOutput {
  readonly stdout: number;
  readonly stderr: number;
}

// Undefined when a descriptor is not a regular file (a pipe to a logger cannot be re-read).
export function outputAlreadyWritten(stdoutFd = 1, stderrFd = 2): WrittenOutput | undefined {
  const stdout = regularFileSize(stdoutFd);
  const stderrPath = regularFilePath(stderrFd);
  if (stdout === undefined || stderrPath === undefined) return undefined;
  return { stdout, stderr: containerBytes(readFileSync(stderrPath)) };
}

// Bytes of a shared stderr file that came from the container.
export function containerBytes(file: Buffer): number {
  let total = 0;
  let start = 0;
  while (start < file.length) {
    const newline = file.indexOf(0x0a, start);
    const end = newline === -1 ? file.length : newline + 1;
    const line = file.subarray(start, Math.min(end, start + 64)).toString('latin1');
    if (!DIAGNOSTIC_LINE.test(line)) total += end - start;
    start = end;
  }
  return total;
}

function regularFileSize(fd: number): number | undefined {
  try {
    const stat = fstatSync(fd);
    return stat.isFile() ? stat.size : undefined;
  } catch {
    return undefined;
  }
}

function regularFilePath(fd: number): string | undefined {
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}
