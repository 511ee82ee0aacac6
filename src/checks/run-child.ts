// A short-lived helper process for a check (nsenter + curl or bash): started in its own process
// group, killed with that whole group when the signal aborts, and always reaped before this
// settles, so that no check ever leaves a process behind.
import { isAbsolute } from 'node:path';
import { TRUSTED_PATH } from './helper-programs.js';
import { OutputTail } from './output-tail.js';
import { ExecutorError } from '../errors.js';
import { childProcessModule } from '../rare-builtins.js';

export interface ChildResult {
  // null when it ended on a signal.
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class ChildError extends ExecutorError<'ERR_CHECK_CHILD'> {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { name: 'ChildError', code: 'ERR_CHECK_CHILD', cause: options.cause });
  }
}

// argv[0] is an absolute path (see helper-programs.ts): nothing is looked up in a PATH.
export function runChild(argv: readonly string[], signal: AbortSignal): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    if (!isAbsolute(argv[0] ?? '')) {
      reject(new ChildError(`Will not run '${argv[0]}': expected an absolute program path`));
      return;
    }
    if (signal.aborted) {
      reject(new ChildError(`${argv[0]} was not started: the check was cancelled`, { cause: signal.reason }));
      return;
    }
    const stdout = new OutputTail();
    const stderr = new OutputTail();
    const child = childProcessModule().spawn(argv[0]!, argv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      // Only a fixed PATH: nothing of the executor's environment (proxies, tokens) reaches the helper.
      env: { PATH: TRUSTED_PATH },
    });
    const kill = (): void => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    signal.addEventListener('abort', kill, { once: true });
    child.stdout.pipe(stdout);
    child.stderr.pipe(stderr);
    child.once('error', (error) => {
      signal.removeEventListener('abort', kill);
      reject(new ChildError(`Could not run ${argv[0]}: ${error.message}`, { cause: error }));
    });
    // 'close': the process is reaped and its pipes are drained.
    child.once('close', (exitCode, exitSignal) => {
      signal.removeEventListener('abort', kill);
      resolve({ exitCode, signal: exitSignal, stdout: stdout.text, stderr: stderr.text });
    });
  });
}
