// Turns a TaskInfo into the Docker Engine API create request for its container, following what
// the stock executor's `docker run` does (spec 3.6). Pure: no I/O, so every branch is table-tested.
import type { mesos } from '../proto/generated/mesos.js';
import { InvalidTaskError } from './invalid-task-error.js';
import { allocationRole, scalarSum } from './resources.js';

export interface ContainerContext {
  readonly containerName: string;
  readonly sandboxDirectory: string;
  readonly mappedDirectory: string;
  readonly taskEnvironment: Readonly<Record<string, string>>;
  readonly cgroupsEnableCfs: boolean;
  readonly labels: Readonly<Record<string, string>>;
  // --default_container_dns, parsed JSON (a ContainerDNSInfo), if given.
  readonly defaultContainerDns?: unknown;
  // Total memory of the host, for --oom-score-adj.
  readonly hostMemoryBytes?: number;
}

export interface ContainerSpec {
  readonly name: string;
  readonly image: string;
  // The body of POST /containers/create. Environment values travel only in this body.
  readonly body: Record<string, unknown>;
  // Values that must never be logged or reported (secret environment values).
  readonly secrets: readonly string[];
}

const CPU_SHARES_PER_CPU = 1024;
const MIN_CPU_SHARES = 2;
const CPU_CFS_PERIOD_US = 100_000;
const MIN_CPU_CFS_QUOTA_US = 1_000;
const MIN_MEMORY_BYTES = 32 * 1024 * 1024;
const MB = 1024 * 1024;

export function containerSpec(task: mesos.v1.ITaskInfo, context: ContainerContext): ContainerSpec {
  const container = task.container;
  if (!container) {
    throw new InvalidTaskError('TaskInfo has no container: expected a ContainerInfo of type DOCKER');
  }
  if (container.type !== 1 /* DOCKER */) {
    throw new InvalidTaskError(`container.type is ${typeName(container.type)}: this executor runs only DOCKER containers`);
  }
  const image = container.docker?.image ?? '';
  if (image.trim() === '') {
    throw new InvalidTaskError('container.docker.image is missing: expected an image reference like busybox:latest');
  }

  const secrets: string[] = [];
  const env = environment(task, context, secrets);
  const { entrypoint, cmd } = command(task.command);

  const hostConfig: Record<string, unknown> = {
    Binds: [`${context.sandboxDirectory}:${context.mappedDirectory}`],
    NetworkMode: networkMode(container),
    ...cpuAndMemory(task, context.cgroupsEnableCfs),
  };

  const body: Record<string, unknown> = {
    Image: image,
    Env: Object.keys(env).sort().map((key) => `${key}=${env[key]}`),
    Labels: { ...context.labels },
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    HostConfig: hostConfig,
  };
  if (entrypoint) body.Entrypoint = entrypoint;
  if (cmd) body.Cmd = cmd;
  return { name: context.containerName, image, body, secrets };
}

// Precedence (spec 3.6.4): --task_environment, then CommandInfo variables not already set, then
// the variables Mesos always sets.
function environment(task: mesos.v1.ITaskInfo, context: ContainerContext, secrets: string[]): Record<string, string> {
  // No prototype: a variable named like an Object method must still be set.
  const env: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, context.taskEnvironment);
  for (const variable of task.command?.environment?.variables ?? []) {
    const name = variable.name ?? '';
    if (name === '' || name.includes('=')) {
      throw new InvalidTaskError(`command.environment has a variable named '${name}': expected a non-empty name without '='`);
    }
    if (Object.hasOwn(env, name)) continue;
    env[name] = variableValue(variable, secrets);
  }
  env.MESOS_SANDBOX = context.mappedDirectory;
  env.MESOS_CONTAINER_NAME = context.containerName;
  const role = allocationRole(task.resources);
  if (role !== undefined) env.MESOS_ALLOCATION_ROLE = role;
  return env;
}

function variableValue(variable: mesos.v1.Environment.IVariable, secrets: string[]): string {
  if (variable.type !== 2 /* SECRET */) return variable.value ?? '';
  const secret = variable.secret;
  if (secret?.type === 2 /* VALUE */ && secret.value?.data != null) {
    const value = Buffer.from(secret.value.data).toString('utf8');
    if (value.includes('\0')) {
      throw new InvalidTaskError(`Secret environment variable '${variable.name}' contains a NUL byte`);
    }
    secrets.push(value);
    return value;
  }
  throw new InvalidTaskError(
    `Secret environment variable '${variable.name}' is a reference ('${secret?.reference?.name ?? ''}'): the agent's secret resolver must resolve it to a value before launch`,
  );
}

// shell=true (the proto default) runs `/bin/sh -c value`, replacing the image's ENTRYPOINT;
// shell=false hands value and arguments to the image's ENTRYPOINT as its CMD.
function command(info: mesos.v1.ICommandInfo | null | undefined): { entrypoint?: string[]; cmd?: string[] } {
  if (!info) return {};
  const shell = info.shell ?? true;
  if (shell) {
    if (info.value == null || info.value === '') {
      throw new InvalidTaskError('command.shell is true but command.value is empty: expected a shell command line');
    }
    return { entrypoint: ['/bin/sh'], cmd: ['-c', info.value] };
  }
  const argv = [...(info.value != null && info.value !== '' ? [info.value] : []), ...(info.arguments ?? [])];
  return argv.length > 0 ? { cmd: argv } : {};
}

function networkMode(container: mesos.v1.IContainerInfo): string {
  switch (container.docker?.network ?? 1) {
    case 1:
      return 'host';
    case 2:
      return 'bridge';
    case 3:
      return 'none';
    case 4: {
      const infos = container.network_infos ?? [];
      if (infos.length === 0) throw new InvalidTaskError('docker.network is USER but container.network_infos is empty: expected one network with a name');
      if (infos.length > 1) throw new InvalidTaskError(`docker.network is USER with ${infos.length} network_infos: only a single network can be defined`);
      const name = infos[0]?.name;
      if (!name) throw new InvalidTaskError('docker.network is USER but network_infos[0].name is missing');
      return name;
    }
    default:
      throw new InvalidTaskError(`docker.network ${String(container.docker?.network)} is unknown: expected HOST, BRIDGE, NONE or USER`);
  }
}

// cgroup settings from the task's cpus/mem requests and limits (spec 3.6.3).
function cpuAndMemory(task: mesos.v1.ITaskInfo, cgroupsEnableCfs: boolean): Record<string, number> {
  const result: Record<string, number> = {};
  const cpus = scalarSum(task.resources, 'cpus');
  const mem = scalarSum(task.resources, 'mem');
  const cpuLimit = task.limits?.cpus?.value ?? undefined;
  const memLimit = task.limits?.mem?.value ?? undefined;

  if (cpus !== undefined) {
    if (!(cpus >= 0)) throw new InvalidTaskError(`resources cpus is ${cpus}: expected a non-negative number`);
    result.CpuShares = Math.max(Math.floor(CPU_SHARES_PER_CPU * cpus), MIN_CPU_SHARES);
  }
  if (cpuLimit !== undefined) {
    if (!(cpuLimit > 0)) throw new InvalidTaskError(`limits cpus is ${cpuLimit}: expected a positive number or Infinity`);
    if (Number.isFinite(cpuLimit)) result.CpuQuota = Math.max(Math.floor(CPU_CFS_PERIOD_US * cpuLimit), MIN_CPU_CFS_QUOTA_US);
  } else if (cgroupsEnableCfs && cpus !== undefined) {
    result.CpuQuota = Math.max(Math.floor(CPU_CFS_PERIOD_US * cpus), MIN_CPU_CFS_QUOTA_US);
  }

  if (mem !== undefined && !(mem >= 0)) throw new InvalidTaskError(`resources mem is ${mem}: expected a non-negative number of MB`);
  if (memLimit !== undefined) {
    if (!(memLimit > 0)) throw new InvalidTaskError(`limits mem is ${memLimit}: expected a positive number of MB or Infinity`);
    if (Number.isFinite(memLimit)) result.Memory = Math.max(Math.floor(memLimit) * MB, MIN_MEMORY_BYTES);
    if (mem !== undefined) result.MemoryReservation = Math.max(Math.floor(mem) * MB, MIN_MEMORY_BYTES);
  } else if (mem !== undefined) {
    result.Memory = Math.max(Math.floor(mem) * MB, MIN_MEMORY_BYTES);
  }
  return result;
}

function typeName(type: number | null | undefined): string {
  return type === 2 ? 'MESOS' : type == null ? 'unset' : String(type);
}
