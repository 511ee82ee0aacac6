// Starts one executor per task exactly as a Mesos agent starts a custom executor: its own
// sandbox directory, the agent's environment contract (spec 1.10) and nothing else of ours, the
// stock mesos-docker-executor flags, and its stdout/stderr written to the sandbox files.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { formatDuration } from '../config/duration.js';
import type { mesos } from '../proto/generated/mesos.js';

export const HOST_DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface LaunchSpec {
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
  readonly sandboxFiles?: Readonly<Record<string, string | Buffer>>;
  // Where the executor's stdout/stderr go instead of the sandbox files: a path opened for
  // appending, or 'pipe' (the caller holds the reading end, like a container logger).
  readonly output?: { readonly stdout?: string; readonly stderr?: string };
}

export interface LaunchedExecutor {
  readonly process: ChildProcess;
  readonly sandbox: string;
  readonly containerName: string;
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
  // The docker containerizer lets the task's own (non-secret) environment override the contract.
  for (const variable of spec.task.command?.environment?.variables ?? []) {
    if (variable.type !== 2 /* SECRET */ && variable.name) env[variable.name] = variable.value ?? '';
  }
  if (env.PATH === undefined) env.PATH = HOST_DEFAULT_PATH;
  return { ...env, ...spec.extraEnv };
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
    ...(spec.extraFlags ?? []),
  ];
}

export function launchExecutor(spec: LaunchSpec): LaunchedExecutor {
  const sandbox = sandboxPath(spec);
  mkdirSync(sandbox, { recursive: true });
  for (const [name, content] of Object.entries(spec.sandboxFiles ?? {})) {
    const path = join(sandbox, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content, { mode: 0o600 });
  }
  const target = (name: 'stdout' | 'stderr'): number | 'pipe' => {
    const chosen = spec.output?.[name];
    return chosen === 'pipe' ? 'pipe' : openSync(chosen ?? join(sandbox, name), 'a');
  };
  const stdout = target('stdout');
  const stderr = target('stderr');
  try {
    const child = spawn(process.execPath, [spec.executorPath, ...executorFlags(spec, sandbox)], {
      cwd: sandbox,
      env: executorEnvironment(spec, sandbox),
      stdio: ['ignore', stdout, stderr],
      // Like the agent's SETSID hook: the executor leads its own session.
      detached: true,
    });
    return { process: child, sandbox, containerName: `mesos-${spec.containerId}` };
  } finally {
    for (const fd of [stdout, stderr]) if (fd !== 'pipe') closeSync(fd);
  }
}
