// One executor per sandbox at a time. The lock is a Linux abstract unix socket: binding its name
// succeeds for exactly one process, and the kernel releases it the moment that process dies (no
// stale lock file to judge, no pid that might be reused). The name carries a random token kept in
// the private state directory, so that no task (a host-network container shares the namespace of
// abstract sockets) can learn it and hold it first.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, linkSync, openSync, rmSync, writeSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { readPrivateFile } from './private-file.js';
import { ExecutorError } from '../errors.js';

const TOKEN_FILE = 'lock-token';
const TOKEN_BYTES = 16;

export class ExecutorLockError extends ExecutorError<'ERR_EXECUTOR_LOCK'> {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { name: 'ExecutorLockError', code: 'ERR_EXECUTOR_LOCK', cause: options.cause });
  }
}

export interface ExecutorLock {
  release(): void;
}

export async function acquireExecutorLock(stateDirectory: string, what: string): Promise<ExecutorLock> {
  const token = lockToken(stateDirectory);
  const server: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE'
        ? new ExecutorLockError(`Another executor is running for ${what}; this one exits without contacting the agent`)
        : new ExecutorLockError(`Cannot take the executor lock for ${what}: ${error.code ?? error.message}`));
    });
    server.listen({ path: `\0mesos-docker-executor.${token}` }, () => resolve());
  });
  server.unref();
  return { release: () => server.close() };
}

// Created once per executor directory: written completely under a temporary name, then linked
// into place, so two executors starting together agree on one token.
function lockToken(directory: string): string {
  const existing = readPrivateFile(directory, TOKEN_FILE, 1024);
  if (existing !== undefined && existing.length === TOKEN_BYTES * 2) return existing.toString('latin1');
  const token = randomBytes(TOKEN_BYTES).toString('hex');
  const temporary = join(directory, `.${TOKEN_FILE}.${randomBytes(8).toString('hex')}.tmp`);
  const fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, token);
  } finally {
    closeSync(fd);
  }
  try {
    if (existing !== undefined) rmSync(join(directory, TOKEN_FILE), { force: true });
    linkSync(temporary, join(directory, TOKEN_FILE));
    return token;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readPrivateFile(directory, TOKEN_FILE, 1024)!.toString('latin1');
  } finally {
    rmSync(temporary, { force: true });
  }
}
