// Starts one executor per task exactly as a Mesos agent starts a custom executor: the agent-facing
// entry (dist/mesos-docker-executor) run directly, its own sandbox directory, the agent's
// environment contract (spec 1.10) and nothing else, the stock mesos-docker-executor flags, and
// its stdout/stderr written to the sandbox files. The task's environment goes to its container
// only (the executor reads it from the TaskInfo), never into the executor's.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, fstatSync, mkdirSync, openSync, realpathSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { formatDuration } from '../config/duration.js';
import { mesos } from '../proto/generated/mesos.js';
import { ExecutorError } from '../errors.js';
import type { ContainerRuntime } from '../docker/container-runtime.js';
import type { CreateRequest } from '../docker/create-request.js';
import { identityLabels, OWNER_LABELS, thisHost } from '../docker/container-owner.js';
import type { ContainerPolicy } from '../config/policy-flags.js';
import { ExecutorContainer, ExecutorPolicyError, type ContainerOutput } from './executor-container.js';
import { executorPolicyViolation } from './executor-container-policy.js';
import { customExecutorRequest, executorContainerName, mesosImageRequest } from './executor-container-spec.js';
import { taskLogrotateSettings, type LogrotateSettings } from './logrotate-settings.js';
import { startFifoRotatingLogger, startRotatingLogger, type FifoRotatingLogger, type RotatingLogger } from './rotating-output.js';

// A sandbox file as the fetcher leaves it: executable when its URI said so.
export type SandboxFile = string | Buffer | { readonly content: string | Buffer; readonly executable?: boolean };

export interface LaunchSpec {
  // The executable the agent runs: dist/mesos-docker-executor, or a link to it.
  readonly executorPath: string;
  readonly workDir: string;
  readonly agentId: string;
  readonly frameworkId: string;
  readonly executorId: string;
  readonly containerId: string;
  readonly task: mesos.v1.ITaskInfo;
  // How the executor reaches the agent.
  readonly agentHost: string;
  readonly agentPort: number;
  readonly domainSocket?: string | undefined;
  readonly checkpoint: boolean;
  readonly shutdownGracePeriodMs: number;
  readonly recoveryTimeoutMs: number;
  readonly subscriptionBackoffMaxMs: number;
  readonly authToken?: string | undefined;
  readonly dockerSocket: string;
  readonly mappedDirectory: string;
  readonly extraFlags?: readonly string[];
  readonly extraEnv?: Readonly<Record<string, string>>;
  // Files put into the sandbox before the executor starts, as the agent's fetcher would.
  readonly sandboxFiles?: Readonly<Record<string, SandboxFile>>;
  // Where the executor's stdout/stderr go instead of the sandbox files: a path opened for
  // appending, or 'pipe' (the caller holds the reading end, like a container logger).
  readonly output?: { readonly stdout?: string; readonly stderr?: string };
  // Rotate the sandbox files instead (the LogrotateContainerLogger's role, docs/log-rotation.md):
  // each stream goes through its own logger process; the task's environment may override these.
  readonly logger?: LogrotateSettings | undefined;
}

export interface LaunchedExecutor {
  readonly process: ChildProcess;
  readonly sandbox: string;
  readonly containerName: string;
  // Resolves once every logger has written the executor's last byte (absent: no logger).
  readonly outputClosed?: Promise<void>;
}

export function sandboxPath(spec: Pick<LaunchSpec, 'workDir' | 'agentId' | 'frameworkId' | 'executorId' | 'containerId'>): string {
  return join(spec.workDir, 'slaves', spec.agentId, 'frameworks', spec.frameworkId, 'executors', spec.executorId, 'runs', spec.containerId);
}

export function executorEnvironment(spec: LaunchSpec, sandbox: string): Record<string, string> {
  const env: Record<string, string> = {
    LIBPROCESS_PORT: '0',
    MESOS_FRAMEWORK_ID: spec.frameworkId,
    MESOS_EXECUTOR_ID: spec.executorId,
    MESOS_DIRECTORY: sandbox,
    MESOS_SLAVE_ID: spec.agentId,
    MESOS_SLAVE_PID: `slave(1)@${spec.agentHost}:${spec.agentPort}`,
    MESOS_AGENT_ENDPOINT: `${spec.agentHost}:${spec.agentPort}`,
    MESOS_CHECKPOINT: spec.checkpoint ? '1' : '0',
    MESOS_HTTP_COMMAND_EXECUTOR: '0',
    MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: formatDuration(spec.shutdownGracePeriodMs),
  };
  if (spec.checkpoint) {
    env.MESOS_RECOVERY_TIMEOUT = formatDuration(spec.recoveryTimeoutMs);
    env.MESOS_SUBSCRIPTION_BACKOFF_MAX = formatDuration(spec.subscriptionBackoffMaxMs);
  }
  if (spec.domainSocket) env.MESOS_DOMAIN_SOCKET = spec.domainSocket;
  if (spec.authToken) env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN = spec.authToken;
  return { ...env, ...spec.extraEnv };
}

// Where this agent's executors keep their private state (checkpoints, locks).
export function executorStateRoot(workDir: string): string {
  return join(workDir, 'meta', 'docker-executor');
}

// Where the agent makes its rotating loggers' FIFOs (each unlinked at once): its own, private.
export function loggerFifoRoot(workDir: string): string {
  return join(workDir, 'meta', 'logger-fifos');
}

export function executorFlags(spec: LaunchSpec, sandbox: string): string[] {
  return [
    '--cgroups_enable_cfs=false',
    `--container=mesos-${spec.containerId}`,
    '--docker=docker',
    `--docker_socket=${spec.dockerSocket}`,
    '--help=false',
    '--initialize_driver_logging=true',
    `--launcher_dir=${dirname(spec.executorPath)}`,
    '--logbufsecs=0',
    '--logging_level=INFO',
    `--mapped_directory=${spec.mappedDirectory}`,
    '--quiet=false',
    `--sandbox_directory=${sandbox}`,
    '--stop_timeout=0ns',
    // The operator's choice on a real agent; here, beside the sandboxes but outside all of them.
    `--state_dir=${executorStateRoot(spec.workDir)}`,
    ...(spec.extraFlags ?? []),
  ];
}

export class SandboxOutputError extends ExecutorError<'ERR_SANDBOX_OUTPUT'> {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { name: 'SandboxOutputError', code: 'ERR_SANDBOX_OUTPUT', cause: options.cause });
  }
}

// The sandbox belongs to the container, which may have put a link (to a host file) or a FIFO where
// the output files were: root opens them only as the regular files they must be.
export function openSandboxOutput(sandbox: string, name: string): number {
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  let fd: number;
  try {
    fd = openSync(join(sandbox, name), flags, 0o644);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SandboxOutputError(code === 'ELOOP'
      ? `The sandbox file ${name} is a symbolic link; refusing to write the executor's output through it`
      : `Cannot open the sandbox file ${name}: ${code ?? (error as Error).message}`);
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new SandboxOutputError(`The sandbox file ${name} is not a regular file; refusing to write the executor's output to it`);
  }
  return fd;
}

export function launchExecutor(spec: LaunchSpec): LaunchedExecutor {
  // A bad override in the task's environment fails the launch before anything is made.
  const rotation = spec.logger === undefined ? undefined : taskLogrotateSettings(spec.logger, spec.task);
  const sandbox = sandboxPath(spec);
  mkdirSync(sandbox, { recursive: true });
  writeSandboxFiles(sandbox, spec.sandboxFiles ?? {});
  const loggers: RotatingLogger[] = [];
  // The sandbox files by default (through a rotating logger when asked); a file of the caller's,
  // or a pipe it reads, for fault tests.
  const target = (name: 'stdout' | 'stderr'): number | 'pipe' | Socket => {
    const chosen = spec.output?.[name];
    if (chosen === 'pipe') return 'pipe';
    if (chosen !== undefined) return openSync(chosen, 'a');
    const fd = openSandboxOutput(sandbox, name);
    if (rotation === undefined) return fd;
    try {
      const logger = startRotatingLogger(rotation.loggerPath, realpathSync(sandbox), name, fd, rotation[name]);
      loggers.push(logger);
      return logger.input;
    } finally {
      closeSync(fd);
    }
  };
  let stdout: number | 'pipe' | Socket | undefined;
  let stderr: number | 'pipe' | Socket | undefined;
  const release = (): void => {
    for (const fd of [stdout, stderr]) if (typeof fd === 'number') closeSync(fd);
    // The executor holds the loggers' input now: each ends at the executor's last write.
    for (const logger of loggers) logger.input.destroy();
  };
  try {
    stdout = target('stdout');
    stderr = target('stderr');
    const child = spawn(spec.executorPath, executorFlags(spec, sandbox), {
      cwd: sandbox,
      env: executorEnvironment(spec, sandbox),
      stdio: ['ignore', stdout, stderr],
      // Like the agent's SETSID hook: the executor leads its own session.
      detached: true,
    });
    const outputClosed = Promise.all(loggers.map((logger) => logger.closed)).then(() => undefined);
    return { process: child, sandbox, containerName: `mesos-${spec.containerId}`, outputClosed };
  } finally {
    release();
  }
}

// What the agent holds of a running executor: its process, or its container (whose pid is its
// main process's on the host, once started; it has no pipes).
export type ExecutorProcess = Pick<ChildProcess, 'kill' | 'pid' | 'stdout' | 'stderr' | 'unref'>;

// Where the executor's own image (scripts/build-executor-image.sh) holds the shim.
export const IMAGE_EXECUTOR_PATH = '/opt/mesos-docker-executor/dist/mesos-docker-executor';

export interface LaunchedExecutorContainer {
  readonly process: ExecutorContainer;
  readonly sandbox: string;
  // The task's container (`mesos-<ContainerID>`); the executor's is process.name.
  readonly containerName: string;
  // Resolves once every logger has written the executor's last byte (absent: no logger).
  readonly outputClosed?: Promise<void>;
}

// Starts the executor in a Docker container instead of as a process: the framework's image when
// the TaskInfo's ExecutorInfo has a DOCKER container, else this project's executor in
// `dockerMesosImage` (--docker_mesos_image). The environment contract travels only in the create
// request, never on a command line. A framework's image outside the operator's `policy` is
// refused before anything is pulled or created. With rotation, the output goes through a logger
// per stream (executorOutput).
export function launchExecutorContainer(spec: LaunchSpec, docker: ContainerRuntime, dockerMesosImage: string | undefined, policy?: ContainerPolicy): LaunchedExecutorContainer {
  const rotation = spec.logger === undefined ? undefined : taskLogrotateSettings(spec.logger, spec.task);
  const sandbox = sandboxPath(spec);
  mkdirSync(sandbox, { recursive: true });
  writeSandboxFiles(sandbox, spec.sandboxFiles ?? {});
  const context = {
    containerId: spec.containerId,
    sandbox,
    mappedDirectory: spec.mappedDirectory,
    environment: executorEnvironment(spec, sandbox),
    labels: executorContainerLabels(spec, sandbox),
  };
  const custom = usesExecutorImage(spec.task);
  if (!custom && dockerMesosImage === undefined) {
    throw new Error(`Task ${spec.executorId} needs no executor container: launch it with launchExecutor()`);
  }
  const output = executorOutput(spec, sandbox, rotation);
  // Built in the container's run: a request the task makes invalid fails it like any launch failure.
  const body = (): CreateRequest => {
    if (custom) {
      const request = customExecutorRequest(spec.task.executor!, context);
      const refusal = policy && executorPolicyViolation(spec.task.executor!, request, policy, sandbox);
      if (refusal) throw new ExecutorPolicyError(refusal);
      return request;
    }
    const stateRoot = executorStateRoot(spec.workDir);
    mkdirSync(stateRoot, { recursive: true, mode: 0o700 });
    return mesosImageRequest({
      ...context,
      image: dockerMesosImage!,
      dockerSocket: spec.dockerSocket,
      stateRoot,
      flags: executorFlags({ ...spec, executorPath: IMAGE_EXECUTOR_PATH }, sandbox),
      executorPath: IMAGE_EXECUTOR_PATH,
      output: { stdout: `/proc/${process.pid}/fd/${output.fds.stdout}`, stderr: `/proc/${process.pid}/fd/${output.fds.stderr}` },
    });
  };
  const container = ExecutorContainer.start({ docker, name: executorContainerName(spec.containerId), body, output: output.sinks, pull: custom });
  return { process: container, sandbox, containerName: `mesos-${spec.containerId}`, ...(output.closed ? { outputClosed: output.closed } : {}) };
}

// Takes back an executor container a previous agent on this work directory started (found
// running, its labels checked): its output is followed again into the sandbox files (with
// rotation, into new loggers appending to them), and it is reaped once it exits. This project's
// executor under --docker_mesos_image writes through the descriptors its entry reopened: with
// rotation, the loggers the previous agent started still read them until it exits, so none is
// started; its attach stream is empty once the entry has redirected, and anything on it goes to
// the agent's stderr rather than past a logger into a rotated file.
export function adoptExecutorContainer(spec: LaunchSpec, docker: ContainerRuntime, id: string): LaunchedExecutorContainer {
  const rotation = spec.logger === undefined ? undefined : taskLogrotateSettings(spec.logger, spec.task);
  const sandbox = sandboxPath(spec);
  const name = executorContainerName(spec.containerId);
  if (rotation !== undefined && !usesExecutorImage(spec.task)) {
    const container = ExecutorContainer.adopt({ docker, name, id, output: { stdout: toAgentStderr(), stderr: toAgentStderr() } });
    return { process: container, sandbox, containerName: `mesos-${spec.containerId}` };
  }
  const output = executorOutput(spec, sandbox, rotation);
  const container = ExecutorContainer.adopt({ docker, name, id, output: output.sinks });
  return { process: container, sandbox, containerName: `mesos-${spec.containerId}`, ...(output.closed ? { outputClosed: output.closed } : {}) };
}

interface ExecutorOutput {
  // What the container's attach stream is copied into.
  readonly sinks: ContainerOutput;
  // What the executor under --docker_mesos_image reopens (/proc/<agent pid>/fd/<n>).
  readonly fds: { readonly stdout: number; readonly stderr: number };
  // Resolves once every logger has written its last byte (absent: no logger).
  readonly closed?: Promise<void>;
}

// The sandbox files, or with rotation a logger per stream reading a FIFO whose write end the
// agent holds (and the container may reopen) until the container is reaped.
function executorOutput(spec: LaunchSpec, sandbox: string, rotation: LogrotateSettings | undefined): ExecutorOutput {
  if (rotation === undefined) {
    const fds = openOutputPair(sandbox);
    return { sinks: fds, fds };
  }
  const loggers: FifoRotatingLogger[] = [];
  try {
    for (const name of ['stdout', 'stderr'] as const) {
      const fd = openSandboxOutput(sandbox, name);
      try {
        loggers.push(startFifoRotatingLogger(rotation.loggerPath, realpathSync(sandbox), name, fd, rotation[name], loggerFifoRoot(spec.workDir)));
      } finally {
        closeSync(fd);
      }
    }
  } catch (error) {
    // A logger already started sees its input end, and exits.
    for (const logger of loggers) logger.input.destroy();
    throw error;
  }
  const [stdout, stderr] = loggers as [FifoRotatingLogger, FifoRotatingLogger];
  return {
    sinks: { stdout: stdout.input, stderr: stderr.input },
    fds: { stdout: stdout.fd, stderr: stderr.fd },
    closed: Promise.all(loggers.map((logger) => logger.closed)).then(() => undefined),
  };
}

// Copies into the agent's own stderr without ever ending it.
function toAgentStderr(): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      process.stderr.write(chunk, () => callback());
    },
  });
}

// A TaskInfo whose ExecutorInfo names a Docker image: that image is the executor.
export function usesExecutorImage(task: mesos.v1.ITaskInfo): boolean {
  return task.executor?.container?.type === mesos.v1.ContainerInfo.Type.DOCKER;
}

// Who the executor's container belongs to, as the task containers say it (container-owner.ts),
// without the executor pid: the orphan sweep judges task containers, not this one.
function executorContainerLabels(spec: LaunchSpec, sandbox: string): Record<string, string> {
  return {
    ...identityLabels({
      frameworkId: spec.frameworkId,
      executorId: spec.executorId,
      taskId: spec.task.task_id?.value ?? '',
      agentId: spec.agentId,
      containerId: spec.containerId,
      sandbox,
    }),
    [OWNER_LABELS.host]: thisHost.hostname,
    [OWNER_LABELS.bootId]: thisHost.bootId,
  };
}

// Both sandbox output files, opened as launchExecutor opens them.
function openOutputPair(sandbox: string): { stdout: number; stderr: number } {
  const stdout = openSandboxOutput(sandbox, 'stdout');
  try {
    return { stdout, stderr: openSandboxOutput(sandbox, 'stderr') };
  } catch (error) {
    closeSync(stdout);
    throw error;
  }
}

function writeSandboxFiles(sandbox: string, files: Readonly<Record<string, SandboxFile>>): void {
  for (const [name, file] of Object.entries(files)) {
    const path = join(sandbox, name);
    mkdirSync(dirname(path), { recursive: true });
    const { content, executable } = typeof file === 'string' || Buffer.isBuffer(file) ? { content: file, executable: false } : file;
    writeFileSync(path, content, { mode: executable ? 0o700 : 0o600 });
  }
}
