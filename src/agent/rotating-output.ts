// Starts the rotating logger (dist/logrotate.js) for one of the executor's streams, as a Mesos
// agent starts mesos-logrotate-logger: its stdin is the pipe the executor writes to, and it runs
// in its own session, independent of the agent, so that output written after the agent exits or
// restarts still lands. It gets an explicit, empty environment and the current file already
// opened by the launcher (so a bad sandbox file is refused before anything starts).
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { LoggedStream, StreamRotation } from './logrotate-settings.js';

export interface RotatingLogger {
  readonly process: ChildProcess;
  // The end the executor writes to, to pass as its stdout or stderr; destroy it after.
  readonly input: Socket;
  // Resolves when the logger has written everything and exited.
  readonly closed: Promise<void>;
}

export function startRotatingLogger(loggerPath: string, sandboxRoot: string, name: LoggedStream, fd: number, rotation: StreamRotation): RotatingLogger {
  const child = spawn(process.execPath, [
    loggerPath,
    `--log_filename=${join(sandboxRoot, name)}`,
    `--max_size=${rotation.maxBytes}`,
    `--rotate=${rotation.keep}`,
    '--fd=3',
  ], { cwd: sandboxRoot, env: {}, stdio: ['pipe', 'ignore', 'pipe', fd], detached: true });
  const closed = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
  // The logger's diagnostics reach the agent's stderr while the agent lives; the agent does not
  // wait for it to exit.
  child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  (child.stderr as Socket).unref();
  child.unref();
  return { process: child, input: child.stdin as Socket, closed };
}
