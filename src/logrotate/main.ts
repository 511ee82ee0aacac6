// Entry point of dist/logrotate.js, the local agent's rotating container logger (the role of
// Mesos's mesos-logrotate-logger): one process per stream, reading the executor's stdout or
// stderr from its stdin until EOF and writing it to a sandbox file rotated by size.
//   node dist/logrotate.js --log_filename=<sandbox>/stdout --max_size=<bytes> --rotate=<files> [--fd=3]
// It runs in its own session, apart from the agent, so that the executor's output still lands
// after the agent is gone; its own diagnostics go to its stderr (the agent's, while it lives).
import { realpathSync } from 'node:fs';
import { parseLoggerArgs, type LoggerArgs } from './logger-args.js';
import { RotatingFile } from './rotating-file.js';

function run(): void {
  // The agent reading this process's stderr may be gone: nothing is left to tell then.
  process.stderr.on('error', () => undefined);
  let prefix = 'logrotate';
  const report = (message: string): void => {
    process.stderr.write(`${prefix}: ${message}\n`);
  };
  let args: LoggerArgs;
  let file: RotatingFile;
  try {
    args = parseLoggerArgs(process.argv.slice(2));
    prefix = `logrotate ${args.directory}`;
    // The sandbox's own path is the agent's; only the names in it are the container's.
    file = new RotatingFile({ ...args, directory: realpathSync(args.directory), report });
  } catch (error) {
    report(`cannot start: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    process.exitCode = 2;
    return;
  }
  process.stdin.on('data', (chunk: Buffer) => file.write(chunk));
  const finish = (): void => {
    const summary = file.close();
    if (summary !== undefined) report(summary);
  };
  process.stdin.on('end', finish);
  process.stdin.on('error', (error: NodeJS.ErrnoException) => {
    report(`${args.name}: reading the output failed (${error.code ?? error.message})`);
    finish();
    process.exitCode = 1;
  });
}

run();
