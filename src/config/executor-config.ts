// The executor's whole configuration, validated once at start: the agent's MESOS_* environment
// contract plus every flag of the stock mesos-docker-executor (so it works as a drop-in).
import { isAbsolute, resolve } from 'node:path';
import { parseContainerDns } from '../docker/container-dns.js';
import { CONTAINER_LOG_DRIVERS, type ContainerLogDriver } from '../docker/container-log-driver.js';
import { DEFAULT_STATE_DIR } from '../state/state-directory.js';
import { ConfigError } from './config-error.js';
import { agentEndpoint, type AgentEndpoint } from './agent-endpoint.js';
import { parseDuration } from './duration.js';
import { formatHelp, parseBool, parseFlags, type FlagSpec, type RawFlags } from './flags.js';
import { FLAGS_FILE_FLAG, withFlagsFile } from './flags-file.js';
import { parsePolicy, POLICY_FLAGS, type ContainerPolicy } from './policy-flags.js';

export type ContentType = 'application/json' | 'application/x-protobuf';

export interface ExecutorConfig {
  readonly frameworkId: string;
  readonly executorId: string;
  readonly agentId: string | undefined;
  readonly agent: AgentEndpoint;
  readonly contentType: ContentType;
  // Bearer token for the agent; removed from process.env so that no child inherits it.
  readonly authToken: string | undefined;
  readonly checkpoint: boolean;
  readonly recoveryTimeoutMs: number;
  readonly subscriptionBackoffMaxMs: number;
  readonly registrationTimeoutMs: number;
  readonly shutdownGracePeriodMs: number;
  // Undefined until SUBSCRIBED gives the container id, unless --container names it.
  readonly containerName: string | undefined;
  readonly dockerPath: string;
  readonly dockerSocket: string;
  readonly sandboxDirectory: string;
  readonly mappedDirectory: string;
  readonly launcherDir: string | undefined;
  readonly taskEnvironment: Readonly<Record<string, string>>;
  readonly defaultContainerDns: unknown;
  readonly cgroupsEnableCfs: boolean;
  // --docker_config as given: a path, a file:// URI or inline JSON (read when an image is pulled).
  readonly dockerConfig: string | undefined;
  // Bound on every Docker Engine API call that is not a long-running wait.
  readonly dockerApiTimeoutMs: number;
  // How long a terminal update may stay unacknowledged before the executor exits anyway.
  readonly terminalAckTimeoutMs: number;
  // The start-up sweep spares a container whose executor died less than this long ago; 0 spares none.
  readonly orphanAdoptionWindowMs: number;
  // Root of the executor's private state (checkpoint, lock), out of every container's reach.
  readonly stateDir: string;
  // The log driver of a task container whose task names none.
  readonly containerLogDriver: ContainerLogDriver;
  readonly loggingLevel: 'INFO' | 'WARNING' | 'ERROR';
  readonly quiet: boolean;
  // Operator policy: what a task's ContainerInfo may ask of the host.
  readonly policy: ContainerPolicy;
}

export const EXECUTOR_FLAGS: readonly FlagSpec[] = [
  { name: 'container', kind: 'string', help: 'Name of the Docker container to run (default: mesos-<ContainerID> from SUBSCRIBED)' },
  { name: 'docker', kind: 'string', help: 'Path to the docker CLI', default: 'docker' },
  { name: 'docker_socket', kind: 'string', help: 'Absolute path of the Docker daemon socket', default: '/var/run/docker.sock' },
  { name: 'sandbox_directory', kind: 'string', help: 'Host path of the sandbox (default: MESOS_DIRECTORY, else the working directory)' },
  { name: 'mapped_directory', kind: 'string', help: 'Where the sandbox is mounted in the container', default: '/mnt/mesos/sandbox' },
  { name: 'launcher_dir', kind: 'string', help: 'Directory of Mesos binaries (accepted for compatibility)' },
  { name: 'task_environment', kind: 'string', help: 'JSON object of extra environment for the task container; wins over CommandInfo' },
  { name: 'default_container_dns', kind: 'string', help: 'JSON ContainerDNSInfo: default DNS for BRIDGE and USER networks' },
  { name: 'cgroups_enable_cfs', kind: 'bool', help: 'Limit CPU with a CFS quota derived from the cpus resource', default: 'false' },
  { name: 'stop_timeout', kind: 'duration', help: 'Deprecated: raises the shutdown grace period when larger' },
  { name: 'docker_config', kind: 'string', help: 'Registry credentials: a path or file:// URI of a Docker config.json/.dockercfg (inline JSON also works, but shows in ps)' },
  { name: 'docker_api_timeout', kind: 'duration', help: 'Bound on each Docker Engine API call', default: '30secs' },
  { name: 'terminal_ack_timeout', kind: 'duration', help: 'Exit when the agent has not acknowledged the terminal status update within this', default: '60secs' },
  { name: 'orphan_adoption_window', kind: 'duration', help: 'The start-up sweep spares containers whose executor died less than this long ago (0 spares none)', default: '30secs' },
  { name: 'state_dir', kind: 'string', help: 'Private directory (root-only) for the executor\'s checkpoint and lock, outside every sandbox', default: DEFAULT_STATE_DIR },
  { name: 'container_log_driver', kind: 'string', help: 'Log driver of a task container whose task sets no log-driver or log-opt parameter: daemon (the daemon\'s default, with its log-opts, as the stock executor), auto (Docker\'s local driver, one file never rotated nor compressed, when the daemon\'s default is json-file: faster output, but a max-size the daemon sets for json-file does not apply) or local (always the local driver, the same way)', default: 'daemon' },
  { name: 'content_type', kind: 'string', help: 'Encoding spoken with the agent: protobuf or json', default: 'protobuf' },
  { name: 'help', kind: 'bool', help: 'Print this help and exit', default: 'false' },
  { name: 'quiet', kind: 'bool', help: 'Log only warnings and errors', default: 'false' },
  { name: 'logging_level', kind: 'string', help: 'INFO, WARNING or ERROR', default: 'INFO' },
  { name: 'log_dir', kind: 'string', help: 'Accepted for compatibility; logs go to stderr' },
  { name: 'logbufsecs', kind: 'int', help: 'Accepted for compatibility', default: '0' },
  { name: 'initialize_driver_logging', kind: 'bool', help: 'Accepted for compatibility', default: 'true' },
  { name: 'external_log_file', kind: 'string', help: 'Accepted for compatibility' },
  FLAGS_FILE_FLAG,
  ...POLICY_FLAGS,
];

export const EXECUTOR_USAGE = 'Usage: node dist/executor.js [--name=value ...]\n\n'
  + 'A Mesos executor for tasks with a Docker ContainerInfo, speaking the v1 Executor HTTP API.\n'
  + 'The agent gives its contract in the environment: MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID,\n'
  + 'MESOS_SLAVE_PID or MESOS_AGENT_ENDPOINT, MESOS_CHECKPOINT, MESOS_RECOVERY_TIMEOUT,\n'
  + 'MESOS_SUBSCRIPTION_BACKOFF_MAX, MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD, MESOS_DIRECTORY,\n'
  + 'MESOS_DOMAIN_SOCKET and MESOS_EXECUTOR_AUTHENTICATION_TOKEN.';

export function executorHelp(): string {
  return formatHelp(EXECUTOR_USAGE, EXECUTOR_FLAGS);
}

export type ParsedArgs = { help: true } | { help: false; config: ExecutorConfig };

export function loadExecutorConfig(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): ParsedArgs {
  const flags = parseFlags(argv, EXECUTOR_FLAGS);
  if (flags.has('help') && parseBool('--help', flags.get('help')!)) return { help: true };
  return { help: false, config: buildConfig(withFlagsFile(flags, EXECUTOR_FLAGS), env, cwd) };
}

function buildConfig(flags: RawFlags, env: NodeJS.ProcessEnv, cwd: string): ExecutorConfig {
  const flag = (name: string): string | undefined => flags.get(name);
  const frameworkId = requiredEnv(env, 'MESOS_FRAMEWORK_ID');
  const executorId = requiredEnv(env, 'MESOS_EXECUTOR_ID');
  const checkpoint = env.MESOS_CHECKPOINT === '1';

  let shutdownGracePeriodMs = envDuration(env, 'MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD', '5secs');
  const stopTimeout = flag('stop_timeout');
  if (stopTimeout !== undefined) {
    shutdownGracePeriodMs = Math.max(shutdownGracePeriodMs, durationValue('--stop_timeout', stopTimeout));
  }

  const dockerSocket = flag('docker_socket') ?? '/var/run/docker.sock';
  if (!isAbsolute(dockerSocket)) {
    throw new ConfigError(`Invalid --docker_socket '${dockerSocket}': expected an absolute path like /var/run/docker.sock`);
  }
  const mappedDirectory = flag('mapped_directory') ?? '/mnt/mesos/sandbox';
  if (!isAbsolute(mappedDirectory)) {
    throw new ConfigError(`Invalid --mapped_directory '${mappedDirectory}': expected an absolute path inside the container`);
  }
  const sandboxDirectory = flag('sandbox_directory') ?? env.MESOS_DIRECTORY ?? cwd;
  if (!isAbsolute(sandboxDirectory)) {
    throw new ConfigError(`Invalid sandbox directory '${sandboxDirectory}': expected an absolute path`);
  }
  const stateDir = flag('state_dir') ?? DEFAULT_STATE_DIR;
  if (!isAbsolute(stateDir)) {
    throw new ConfigError(`Invalid --state_dir '${stateDir}': expected an absolute path outside every sandbox, like ${DEFAULT_STATE_DIR}`);
  }
  if (isInside(stateDir, sandboxDirectory)) {
    throw new ConfigError(`Invalid --state_dir '${stateDir}': it lies inside the sandbox ${sandboxDirectory}, which the container can write`);
  }
  const container = flag('container');
  if (container !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(container)) {
    throw new ConfigError(`Invalid --container '${container}': expected a Docker container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)`);
  }

  const loggingLevel = (flag('logging_level') ?? 'INFO').toUpperCase();
  if (loggingLevel !== 'INFO' && loggingLevel !== 'WARNING' && loggingLevel !== 'ERROR') {
    throw new ConfigError(`Invalid --logging_level '${flag('logging_level')}': expected INFO, WARNING or ERROR`);
  }
  const logbufsecs = flag('logbufsecs');
  if (logbufsecs !== undefined && !/^[0-9]+$/.test(logbufsecs)) {
    throw new ConfigError(`Invalid --logbufsecs '${logbufsecs}': expected a whole number of seconds`);
  }
  boolFlag(flags, 'initialize_driver_logging', true);

  return {
    frameworkId,
    executorId,
    agentId: nonEmpty(env.MESOS_SLAVE_ID) ?? nonEmpty(env.MESOS_AGENT_ID),
    agent: agentEndpoint(env, cwd),
    contentType: contentType(flag('content_type') ?? 'protobuf'),
    authToken: nonEmpty(env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN),
    checkpoint,
    recoveryTimeoutMs: envDuration(env, 'MESOS_RECOVERY_TIMEOUT', '15mins'),
    subscriptionBackoffMaxMs: envDuration(env, 'MESOS_SUBSCRIPTION_BACKOFF_MAX', '2secs'),
    registrationTimeoutMs: envDuration(env, 'MESOS_EXECUTOR_REGISTRATION_TIMEOUT', '1mins'),
    shutdownGracePeriodMs,
    containerName: container,
    dockerPath: flag('docker') ?? 'docker',
    dockerSocket,
    sandboxDirectory,
    mappedDirectory,
    launcherDir: flag('launcher_dir'),
    taskEnvironment: taskEnvironment(flag('task_environment')),
    defaultContainerDns: containerDns(flag('default_container_dns')),
    cgroupsEnableCfs: boolFlag(flags, 'cgroups_enable_cfs', false),
    dockerConfig: flag('docker_config'),
    stateDir,
    containerLogDriver: containerLogDriver(flag('container_log_driver') ?? 'daemon'),
    dockerApiTimeoutMs: positiveDuration('--docker_api_timeout', flag('docker_api_timeout') ?? '30secs'),
    terminalAckTimeoutMs: timerDuration('--terminal_ack_timeout', flag('terminal_ack_timeout') ?? '60secs'),
    orphanAdoptionWindowMs: durationValue('--orphan_adoption_window', flag('orphan_adoption_window') ?? '30secs'),
    loggingLevel: boolFlag(flags, 'quiet', false) && loggingLevel === 'INFO' ? 'WARNING' : loggingLevel,
    quiet: boolFlag(flags, 'quiet', false),
    policy: parsePolicy(flags),
  };
}

function isInside(path: string, directory: string): boolean {
  const normalized = (text: string): string => `${resolve(text).replace(/\/+$/, '')}/`;
  return normalized(path).startsWith(normalized(directory));
}

function requiredEnv(env: NodeJS.ProcessEnv, name: string): string {
  const value = nonEmpty(env[name]);
  if (value === undefined) throw new ConfigError(`Expecting '${name}' to be set in the environment`);
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function envDuration(env: NodeJS.ProcessEnv, name: string, fallback: string): number {
  return durationValue(name, nonEmpty(env[name]) ?? fallback);
}

function durationValue(name: string, text: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new ConfigError(`Invalid ${name}: ${parsed.error}`);
  return parsed.ms;
}

function positiveDuration(name: string, text: string): number {
  const ms = durationValue(name, text);
  if (ms <= 0) throw new ConfigError(`Invalid ${name} '${text}': expected a duration above zero`);
  return ms;
}

// setTimeout fires at once beyond 2^31-1 ms (about 24.8 days), so a timer's duration is bounded.
const MAX_TIMER_MS = 24 * 86_400_000;

function timerDuration(name: string, text: string): number {
  const ms = positiveDuration(name, text);
  if (ms > MAX_TIMER_MS) throw new ConfigError(`Invalid ${name} '${text}': expected at most 24days`);
  return ms;
}

function boolFlag(flags: RawFlags, name: string, fallback: boolean): boolean {
  const value = flags.get(name);
  return value === undefined ? fallback : parseBool(`--${name}`, value);
}

function containerLogDriver(value: string): ContainerLogDriver {
  const choice = CONTAINER_LOG_DRIVERS.find((name) => name === value);
  if (!choice) throw new ConfigError(`Invalid --container_log_driver '${value}': expected ${CONTAINER_LOG_DRIVERS.join(', ')}`);
  return choice;
}

function contentType(value: string): ContentType {
  switch (value.toLowerCase()) {
    case 'protobuf':
    case 'application/x-protobuf':
      return 'application/x-protobuf';
    case 'json':
    case 'application/json':
      return 'application/json';
    default:
      throw new ConfigError(`Invalid --content_type '${value}': expected protobuf or json`);
  }
}

function jsonFlag(name: string, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`Failed to parse ${name}: ${(error as Error).message}`);
  }
}

// Checked once at start: a bad value is the operator's to fix, not a failure of every task.
function containerDns(text: string | undefined): unknown {
  const parsed = jsonFlag('--default_container_dns', text);
  try {
    parseContainerDns(parsed);
  } catch (error) {
    throw new ConfigError(`Invalid --default_container_dns: ${(error as Error).message}`);
  }
  return parsed;
}

function taskEnvironment(text: string | undefined): Record<string, string> {
  const parsed = jsonFlag('--task_environment', text);
  if (parsed === undefined) return {};
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`Failed to parse --task_environment: expected a JSON object of strings, got ${text}`);
  }
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') {
      throw new ConfigError(`Value of key '${key}' in --task_environment is not a string`);
    }
    result[key] = value;
  }
  return result;
}
