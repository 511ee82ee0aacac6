// Entry point of dist/executor.js: read the configuration, run the executor, exit with its code.
// The container's output goes to this process's stdout/stderr (the sandbox files, or whatever
// logger the agent attached); the executor's own diagnostics go to stderr.
// First: the compilers are off before any other module's code runs.
import './v8-flags.js';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ConfigError } from '../config/config-error.js';
import { executorHelp, loadExecutorConfig, type ExecutorConfig } from '../config/executor-config.js';
import { DockerRuntime } from '../docker/docker-runtime.js';
import { sweepOrphans } from '../docker/orphan-sweep.js';
import { acquireExecutorLock, ExecutorLockError, type ExecutorLock } from '../state/executor-lock.js';
import { prepareStateDirectory, StateDirectoryError } from '../state/state-directory.js';
import { configureLog, errorMessage, log, registerSecret } from '../log.js';
import { AgentConnection } from './agent-connection.js';
import { Executor } from './executor.js';
import { logNodeWarnings } from './node-warnings.js';
import { OutputSink, outputSink } from './output-sink.js';
import { SharedStderr } from './shared-stderr.js';

async function main(): Promise<number> {
  logNodeWarnings((line) => log.warn(line));
  // No child process or container may inherit the agent token.
  const authToken = process.env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN;
  delete process.env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN;
  registerSecret(authToken);

  let parsed;
  try {
    parsed = loadExecutorConfig(process.argv.slice(2), { ...process.env, MESOS_EXECUTOR_AUTHENTICATION_TOKEN: authToken }, process.cwd());
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`mesos-docker-executor: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  if (parsed.help) {
    process.stdout.write(`${executorHelp()}\n`);
    return 0;
  }
  const config = parsed.config;
  configureLog({ level: config.loggingLevel });
  let state: { directory: string; lock: ExecutorLock };
  try {
    state = await claimState(config);
  } catch (error) {
    if (!(error instanceof StateDirectoryError || error instanceof ExecutorLockError)) throw error;
    process.stderr.write(`mesos-docker-executor: ${error.message}\n`);
    return 1;
  }

  const stdout = outputSink(1);
  const stderr = new SharedStderr(outputSink(2));
  configureLog({ sink: (line) => stderr.diagnostic(line) });
  const docker = new DockerRuntime(config.dockerSocket, { timeoutMs: config.dockerApiTimeoutMs });
  // Containers left by executors that died are removed; this one's task does not wait for it.
  // Its own sandbox's container is spared: that one is this executor's to adopt or remove.
  sweepOrphans(docker, { adoptionWindowMs: config.orphanAdoptionWindowMs, spare: (labels) => labels['org.apache.mesos.sandbox'] === config.sandboxDirectory }).catch((error) => log.warn(`Orphan sweep skipped: ${errorMessage(error)}`));
  const executor = new Executor({
    config,
    connection: new AgentConnection({ endpoint: config.agent, contentType: config.contentType, authToken: config.authToken }),
    docker,
    stdout,
    stderr,
    stateDirectory: state.directory,
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => executor.terminate(signal));
  }
  const code = await executor.run();
  state.lock.release();
  // Set before flushing: a flush cut short must not leave the exit code at 0.
  process.exitCode = code;
  await flush(stdout, stderr);
  return code;
}

// This executor's private state directory, and the lock that makes it the only executor of its
// sandbox (a second one, started by mistake or by a race, would adopt and report twice).
async function claimState(config: ExecutorConfig): Promise<{ directory: string; lock: ExecutorLock }> {
  const directory = prepareStateDirectory(config.stateDir, config);
  try {
    const lock = await acquireExecutorLock(directory, `executor ${config.executorId} of framework ${config.frameworkId} (sandbox ${config.sandboxDirectory})`);
    return { directory, lock };
  } catch (error) {
    if (error instanceof ExecutorLockError) throw error;
    throw new StateDirectoryError(`Cannot use the state directory ${directory}: ${errorMessage(error)}`);
  }
}

const FLUSH_TIMEOUT_MS = 5000;

// Ends the output sinks, the loss totals written last, and waits for them within a bound: a
// reader that never reads (or a dead pipe) must not hold the exit, nor change its code.
async function flush(stdout: Writable, stderr: SharedStderr): Promise<void> {
  const sinks = [stdout, stderr.target].filter((sink): sink is OutputSink => sink instanceof OutputSink);
  for (const sink of sinks) {
    const summary = sink.lossSummary();
    if (summary !== undefined) log.warn(summary);
  }
  const ended = Promise.all([
    finished(stdout.end()),
    finished(stderr.end()).then(() => finished(stderr.target.end())),
  ]).then(() => true, () => true);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), FLUSH_TIMEOUT_MS);
  });
  const inTime = await Promise.race([ended, late]);
  clearTimeout(timer);
  if (inTime) return;
  for (const sink of sinks) {
    sink.abandonQueued();
    sink.destroy();
  }
}

// A dead stderr (before the sinks exist, or Node's own warnings) is dropped silently: nowhere
// else could report it.
process.stderr.on('error', () => undefined);

main().then(
  (code) => {
    process.exitCode = code;
    // Everything is released by now; this only guards against a handle we failed to close.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (error) => {
    log.error(`Executor failed: ${errorMessage(error)}`);
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 2000).unref();
  },
);
