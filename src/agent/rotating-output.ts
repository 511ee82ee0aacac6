// Starts the rotating logger (dist/logrotate.js) for one of the executor's streams, as a Mesos
// agent starts mesos-logrotate-logger: its stdin is the pipe the executor writes to, and it runs
// in its own session, independent of the agent, so that output written after the agent exits or
// restarts still lands. It gets an explicit, empty environment and the current file already
// opened by the launcher (so a bad sandbox file is refused before anything starts).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, mkdirSync, openSync, unlinkSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { helperProgram } from '../checks/helper-programs.js';
import type { LoggedStream, StreamRotation } from './logrotate-settings.js';

export interface RotatingLogger {
  readonly process: ChildProcess;
  // The end the executor writes to, to pass as its stdout or stderr; destroy it after.
  readonly input: Socket;
  // Resolves when the logger has written everything and exited.
  readonly closed: Promise<void>;
}

// A logger whose input is a FIFO: `fd` is the agent's write end, which `input` wraps.
export interface FifoRotatingLogger extends RotatingLogger {
  readonly fd: number;
}

export function startRotatingLogger(loggerPath: string, sandboxRoot: string, name: LoggedStream, fd: number, rotation: StreamRotation): RotatingLogger {
  const child = spawnLogger(loggerPath, sandboxRoot, name, fd, rotation, 'pipe');
  return { process: child, input: child.stdin as Socket, closed: closedOf(child) };
}

// The same logger reading a FIFO instead of a socket pair, for an executor in a container: the
// write end the agent holds can be reopened through /proc/<agent pid>/fd/<n> by the executor in
// its container (a socket cannot: ENXIO), so its output goes on reaching the logger while the
// agent is down. The FIFO is made in `directory` (the agent's own, never a sandbox), its read end
// opened first (without waiting for a writer) and handed to the logger, and its name removed
// once both ends are open. The logger reads until the last writer is gone: the agent's end,
// closed when the container is reaped (or by the kernel when the agent dies), and the container's.
export function startFifoRotatingLogger(loggerPath: string, sandboxRoot: string, name: LoggedStream, fd: number, rotation: StreamRotation, directory: string): FifoRotatingLogger {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const path = join(directory, `${name}-${randomBytes(8).toString('hex')}`);
  execFileSync(helperProgram('mkfifo'), ['-m', '600', '--', path], { env: {}, stdio: ['ignore', 'ignore', 'pipe'] });
  let readEnd: number | undefined;
  let writeEnd: number | undefined;
  try {
    readEnd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    writeEnd = openSync(path, constants.O_WRONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if (readEnd !== undefined) closeSync(readEnd);
    throw error;
  } finally {
    unlinkSync(path);
  }
  let child: ChildProcess;
  try {
    child = spawnLogger(loggerPath, sandboxRoot, name, fd, rotation, readEnd);
  } catch (error) {
    closeSync(writeEnd);
    throw error;
  } finally {
    closeSync(readEnd);
  }
  const input = new Socket({ fd: writeEnd, readable: false, writable: true });
  // Like the sandbox files' descriptors, the agent's end does not keep the agent alive.
  input.unref();
  return { process: child, input, fd: writeEnd, closed: closedOf(child) };
}

function spawnLogger(loggerPath: string, sandboxRoot: string, name: LoggedStream, fd: number, rotation: StreamRotation, input: 'pipe' | number): ChildProcess {
  const child = spawn(process.execPath, [
    loggerPath,
    `--log_filename=${join(sandboxRoot, name)}`,
    `--max_size=${rotation.maxBytes}`,
    `--rotate=${rotation.keep}`,
    '--fd=3',
  ], { cwd: sandboxRoot, env: {}, stdio: [input, 'ignore', 'pipe', fd], detached: true });
  // The logger's diagnostics reach the agent's stderr while the agent lives; the agent does not
  // wait for it to exit.
  child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  (child.stderr as Socket).unref();
  child.unref();
  return child;
}

function closedOf(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
}
