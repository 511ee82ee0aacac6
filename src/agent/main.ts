// Entry point of dist/agent.js, the local agent: runs one task end to end on this machine.
//   node dist/agent.js run examples/hello-task.json
//   node dist/agent.js fetch <uri>... --sandbox=<dir>
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config/config-error.js';
import { parseDuration } from '../config/duration.js';
import { formatHelp, parseBool, parseFlags, type FlagSpec } from '../config/flags.js';
import { DockerRuntime } from '../docker/docker-runtime.js';
import { parseImageReference } from '../docker/image-reference.js';
import { sweepOrphans } from '../docker/orphan-sweep.js';
import { isTerminalState, stateName } from '../executor/task-states.js';
import { mesos } from '../proto/generated/mesos.js';
import { ContainerLaunchError, LocalAgent, type ExecutorRecord, type ReceivedUpdate } from './local-agent.js';
import { toMesosJson } from '../protocol/mesos-json.js';
import type { FetchEvent } from '../fetcher/fetcher.js';
import { fetchCommand, fetchHelp } from './fetch-command.js';
import { describeFetchEvent, fetcherFlags, fetcherSettings } from './fetcher-flags.js';
import { loggerFlags, loggerSettings } from './logger-flags.js';
import { readTaskInfo, TaskFileError } from './task-file.js';
import { serveCommand } from './serve/serve-command.js';
import { agentPolicy, POLICY_FLAGS } from './agent-policy-flags.js';

const { TaskState } = mesos.v1;

const FLAGS: readonly FlagSpec[] = [
  { name: 'work_dir', kind: 'string', help: 'Where sandboxes are created', default: join(tmpdir(), 'mesos-local-agent') },
  { name: 'executor', kind: 'string', help: 'The executor entry to run, as an agent runs it', default: 'mesos-docker-executor beside this file' },
  { name: 'content_type', kind: 'string', help: 'Encoding the executor speaks: protobuf or json', default: 'protobuf' },
  { name: 'kill_after', kind: 'duration', help: 'Send KILL this long after TASK_RUNNING' },
  { name: 'kill_grace_period', kind: 'duration', help: 'Grace period carried by that KILL (default: the task\'s kill policy)' },
  { name: 'checkpoint', kind: 'bool', help: 'Run as a checkpointing framework', default: 'false' },
  { name: 'task_killing_state', kind: 'bool', help: 'Framework has the TASK_KILLING_STATE capability', default: 'true' },
  { name: 'docker_socket', kind: 'string', help: 'Docker daemon socket', default: '/var/run/docker.sock' },
  { name: 'docker_mesos_image', kind: 'string', help: 'Run the executor in a container of this image, built by scripts/build-executor-image.sh (docs/executor-containers.md)' },
  { name: 'json_updates', kind: 'bool', help: 'Print each status update as one line of Mesos JSON (a TaskStatus) on stdout; everything else goes to stderr', default: 'false' },
  ...fetcherFlags('<work_dir>/fetcher-cache'),
  ...POLICY_FLAGS,
  ...loggerFlags(),
  { name: 'help', kind: 'bool', help: 'Print this help', default: 'false' },
];
const USAGE = 'Usage: node dist/agent.js run <taskinfo.json> [--name=value ...]\n'
  + '       node dist/agent.js fetch <uri>... --sandbox=<dir> [--name=value ...]  (see fetch --help)\n'
  + '       node dist/agent.js sweep [--docker_socket=<path>] [--dry_run]\n'
  + '       node dist/agent.js serve [--name=value ...]  (see serve --help)\n\n'
  + 'run: runs one TaskInfo (Mesos JSON) through the Docker executor on this machine, printing each\n'
  + 'status update as it arrives. The URIs of the task\'s CommandInfo (and of its ExecutorInfo) are\n'
  + 'fetched into the sandbox first (docs/fetcher.md); a failed fetch fails the task before any\n'
  + 'container exists. Fetch progress goes to stderr. With --json_updates, stdout holds only the\n'
  + 'updates, one Mesos-JSON TaskStatus per line (a resent update, same uuid, is not repeated).\n'
  + 'Exits 0 when the task finishes, 1 otherwise.\n'
  + 'fetch: fetches URIs into a directory, as the agent does before a task starts.\n'
  + 'sweep: stops and removes the containers whose executor is gone, and lists them.\n'
  + 'serve: a long-running local agent with an HTTP API: many tasks, their updates and sandboxes.';

const SWEEP_FLAGS: readonly FlagSpec[] = [
  { name: 'docker_socket', kind: 'string', help: 'Docker daemon socket', default: '/var/run/docker.sock' },
  { name: 'dry_run', kind: 'bool', help: 'Only list what would be removed', default: 'false' },
  { name: 'adoption_window', kind: 'duration', help: 'Spare containers whose executor died less than this long ago', default: '30secs' },
];

async function sweep(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, SWEEP_FLAGS);
  const dryRun = parseBool('--dry_run', flags.get('dry_run') ?? 'false');
  const window = parseDuration(flags.get('adoption_window') ?? '30secs');
  if (!window.ok) throw new ConfigError(`Invalid --adoption_window: ${window.error}`);
  const docker = new DockerRuntime(flags.get('docker_socket') ?? '/var/run/docker.sock');
  try {
    const swept = await sweepOrphans(docker, { dryRun, adoptionWindowMs: window.ms });
    for (const container of swept) {
      const owner = container.labels['org.apache.mesos.executor_pid'];
      const task = container.labels['org.apache.mesos.task_id'] ?? '?';
      const outcome = dryRun ? 'would remove' : container.removed ? 'removed' : `could not remove (${container.error})`;
      say(`${outcome} ${container.name} (task ${task}, ${container.why ?? `executor pid ${owner} gone`})`);
    }
    say(`${swept.length} orphaned container(s)`);
    return swept.every((container) => dryRun || container.removed) ? 0 : 1;
  } finally {
    docker.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, taskPath, ...rest] = argv;
  if (command === 'sweep') return sweep(argv.slice(1));
  if (command === 'fetch') return fetchCommand(argv.slice(1));
  if (command === 'serve') return serveCommand(argv.slice(1), say);
  if (command === 'help' && taskPath === 'fetch') {
    process.stdout.write(`${fetchHelp()}\n`);
    return 0;
  }
  if (command === undefined || command === '--help' || command === 'help') {
    process.stdout.write(`${formatHelp(USAGE, FLAGS)}\n`);
    return command === undefined ? 1 : 0;
  }
  if (command !== 'run' || taskPath === undefined) {
    throw new ConfigError(`Unknown command '${[command, taskPath].filter(Boolean).join(' ')}': expected 'run <taskinfo.json>'`);
  }
  const flags = parseFlags(rest, FLAGS);
  const duration = (name: string): number | undefined => {
    const text = flags.get(name);
    if (text === undefined) return undefined;
    const parsed = parseDuration(text);
    if (!parsed.ok) throw new ConfigError(`Invalid --${name}: ${parsed.error}`);
    return parsed.ms;
  };
  const jsonUpdates = parseBool('--json_updates', flags.get('json_updates') ?? 'false');
  // With --json_updates stdout carries the updates alone.
  if (jsonUpdates) sayTo = (text) => process.stderr.write(text);
  const killAfter = duration('kill_after');
  const killGrace = duration('kill_grace_period');
  const here = dirname(fileURLToPath(import.meta.url));
  const executorPath = resolve(flags.get('executor') ?? join(here, 'mesos-docker-executor'));
  if (!existsSync(executorPath)) throw new ConfigError(`Executor '${executorPath}' does not exist: run 'npm run build' first`);

  const workDir = resolve(flags.get('work_dir') ?? join(tmpdir(), 'mesos-local-agent'));
  const { policy, executorFlags: policyFlags } = agentPolicy(flags);
  const agent = new LocalAgent({
    workDir,
    fetcher: fetcherSettings(flags, join(workDir, 'fetcher-cache')),
    containerLogger: loggerSettings(flags, join(here, 'logrotate.js')),
    executorPath,
    checkpoint: parseBool('--checkpoint', flags.get('checkpoint') ?? 'false'),
    frameworkCapabilities: parseBool('--task_killing_state', flags.get('task_killing_state') ?? 'true') ? [mesos.v1.FrameworkInfo.Capability.Type.TASK_KILLING_STATE] : [],
    dockerSocket: flags.get('docker_socket') ?? '/var/run/docker.sock',
    executorFlags: [`--content_type=${flags.get('content_type') ?? 'protobuf'}`, ...policyFlags],
    policy,
    ...(flags.get('docker_mesos_image') !== undefined ? { dockerMesosImage: dockerMesosImage(flags.get('docker_mesos_image')!) } : {}),
    // Each executor gets its own token: a task on the host network reaches this port too.
    executorTokenKey: randomBytes(32).toString('hex'),
  });
  const task = readTaskInfo(taskPath, agent.agentId);
  await agent.start();
  say(`local agent ${agent.agentId} listening on ${agent.host}:${agent.port}`);

  let last: ReceivedUpdate | undefined;
  // Fetch progress goes to stderr whatever the output mode: it is not an update.
  agent.on('fetch', (_executorId: string, event: FetchEvent) => {
    process.stderr.write(`${describeFetchEvent(event)}\n`);
  });
  agent.on('update', (update: ReceivedUpdate) => {
    const status = update.status;
    if (jsonUpdates && !update.duplicate) {
      process.stdout.write(`${JSON.stringify(toMesosJson('mesos.v1.TaskStatus', mesos.v1.TaskStatus.fromObject(status)))}\n`);
    }
    say(`${stateName(status.state).padEnd(14)} ${status.message ?? ''}${update.duplicate ? ' (resent)' : ''}`.trimEnd());
    if (status.state === TaskState.TASK_RUNNING && killAfter !== undefined && !update.duplicate) {
      setTimeout(() => {
        say(`sending KILL${killGrace !== undefined ? ` with a ${flags.get('kill_grace_period')} grace period` : ''}`);
        agent.kill(update.executorId, killGrace);
      }, killAfter);
    }
    if (isTerminalState(status.state)) last = update;
  });

  let record: ExecutorRecord;
  try {
    record = await agent.launchTask(task);
  } catch (error) {
    if (!(error instanceof ContainerLaunchError)) throw error;
    // The agent's TASK_FAILED was printed as an update; no executor ran.
    say(`no executor started for task ${error.launch.executorId}; sandbox ${error.launch.sandbox}`);
    await agent.stop();
    return 1;
  }
  say(`launched executor for task ${record.executorId}, container ${record.containerName}`);
  say(`sandbox ${record.sandbox}`);
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    say('interrupted: sending KILL (press Ctrl-C again to abandon)');
    agent.kill(record.executorId);
  });

  const code = await record.exited;
  say(`executor exited with status ${code}`);
  await agent.stop();
  for (const name of ['stdout', 'stderr']) {
    say(`--- sandbox ${name} ---`);
    sayTo(tail(readFileSync(join(record.sandbox, name)), 4096));
  }
  return last?.status.state === TaskState.TASK_FINISHED ? 0 : 1;
}

function dockerMesosImage(value: string): string {
  try {
    parseImageReference(value);
  } catch (error) {
    throw new ConfigError(`Invalid --docker_mesos_image '${value}': ${(error as Error).message}`);
  }
  return value;
}

// Human output: stdout, or stderr when stdout carries --json_updates.
let sayTo = (text: string): void => {
  process.stdout.write(text);
};

function say(line: string): void {
  sayTo(`${line}\n`);
}

function tail(bytes: Buffer, max: number): string {
  const text = bytes.length > max ? `...\n${bytes.subarray(bytes.length - max).toString('utf8')}` : bytes.toString('utf8');
  return text.endsWith('\n') || text === '' ? text : `${text}\n`;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    if (error instanceof ConfigError || error instanceof TaskFileError) {
      process.stderr.write(`local agent: ${error.message}\n`);
    } else {
      process.stderr.write(`local agent failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    }
    process.exitCode = 1;
  },
);
