// Turns a TaskInfo into the Docker Engine API create request for its container, following what
// the stock executor's `docker run` does (spec 3.6). Pure: no I/O, so every branch is table-tested.
import { mesos } from '../proto/generated/mesos.js';
import { defaultDns, parseContainerDns } from './container-dns.js';
import { setEntry, type CreateRequest, type HostConfig } from './create-request.js';
import { dockerParameters, type ParameterSettings } from './docker-parameters.js';
import { parseImageReference } from './image-reference.js';
import { InvalidTaskError } from './invalid-task-error.js';
import { containerHostname, dockerNetwork, networkMode } from './network-mode.js';
import { oomScoreAdj } from './oom-score.js';
import { dockerPortMappings, portSettings } from './port-mappings.js';
import { allocationRole, scalarSum } from './resources.js';
import { bindTarget, containerVolumes, sandboxBind } from './volumes.js';

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
  readonly body: CreateRequest;
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
  if (container.type !== mesos.v1.ContainerInfo.Type.DOCKER) {
    throw new InvalidTaskError(`container.type is ${typeName(container.type)}: this executor runs only DOCKER containers`);
  }
  const image = container.docker?.image ?? '';
  if (image.trim() === '') {
    throw new InvalidTaskError('container.docker.image is missing: expected an image reference like busybox:latest');
  }
  // Refuses anything Docker could read as something other than an image, like '--privileged'.
  parseImageReference(image);
  const parameters = dockerParameters(container.docker?.parameters);
  const containerDns = parseContainerDns(context.defaultContainerDns);

  const network = networkMode(container);
  const hostname = containerHostname(container);
  const ports = portSettings([...dockerPortMappings(container.docker, task.resources, network), ...parameters.ports]);
  const volumes = containerVolumes(container, context.sandboxDirectory, context.mappedDirectory);
  const finalNetwork = parameters.network ?? network;
  const dns = parameters.dnsGiven ? undefined : defaultDns(containerDns, dockerNetwork(container), finalNetwork);

  const secrets: string[] = [];
  const env = environment(task, context, parameters, secrets);
  const { entrypoint, cmd } = command(task.command);

  const hostConfig: HostConfig = {
    Binds: [...volumes.binds, ...parameters.binds, sandboxBind(context.sandboxDirectory, context.mappedDirectory)],
    NetworkMode: finalNetwork,
    ...(container.docker?.privileged === true ? { Privileged: true } : {}),
    ...cpuAndMemory(task, context),
    ...(dns ? { Dns: [...dns.nameservers], DnsSearch: [...dns.search], DnsOptions: [...dns.options] } : {}),
    ...(Object.keys(ports.portBindings).length > 0 ? { PortBindings: ports.portBindings } : {}),
    ...volumeDriver(volumes.volumeDriver, parameters.volumeDriver),
    ...parameters.hostConfig,
  };

  const body: CreateRequest = {
    Image: image,
    Env: Object.keys(env).sort().map((key) => `${key}=${env[key]}`),
    Labels: labels(context.labels, parameters.labels),
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    ...(hostname !== undefined ? { Hostname: hostname } : {}),
    ...(entrypoint ? { Entrypoint: entrypoint } : {}),
    ...(cmd ? { Cmd: cmd } : {}),
    ...(Object.keys(ports.exposedPorts).length > 0 ? { ExposedPorts: ports.exposedPorts } : {}),
    ...(parameters.anonymousVolumes.length > 0 ? { Volumes: Object.fromEntries(parameters.anonymousVolumes.map((path) => [path, {}])) } : {}),
    ...parameters.config,
    HostConfig: hostConfig,
  };
  checkMountPoints(body);
  return { name: context.containerName, image, body, secrets };
}

// A volume-driver parameter may repeat the task's volume driver, not contradict it.
function volumeDriver(fromVolumes: string | undefined, fromParameter: string | undefined): { VolumeDriver?: string } {
  if (fromVolumes !== undefined && fromParameter !== undefined && fromVolumes !== fromParameter) {
    throw new InvalidTaskError(
      `The volume-driver parameter is '${fromParameter}' but the task's volumes use driver '${fromVolumes}': Only one volume driver per task is supported`,
    );
  }
  const driver = fromParameter ?? fromVolumes;
  return driver !== undefined ? { VolumeDriver: driver } : {};
}

const RESERVED_LABEL_PREFIX = 'org.apache.mesos.';

// The executor's labels identify the container (cleanup finds it by them): parameters add, never replace.
function labels(own: Readonly<Record<string, string>>, fromParameters: ReadonlyMap<string, string>): Record<string, string> {
  const result: Record<string, string> = { ...own };
  for (const [key, value] of fromParameters) {
    if (Object.hasOwn(own, key)) {
      throw new InvalidTaskError(`The label parameter '${key}' would replace a label the executor sets on its containers: choose another key`);
    }
    // Ownership and identity labels are the executor's alone: a task must not claim another's.
    if (key.startsWith(RESERVED_LABEL_PREFIX)) {
      throw new InvalidTaskError(`The label parameter '${key}' uses the prefix ${RESERVED_LABEL_PREFIX}, which is reserved for the executor's own labels: choose another key`);
    }
    setEntry(result, key, value);
  }
  return result;
}

// Two mounts on one container path fail at create with a terse daemon error: say which ones here.
function checkMountPoints(body: CreateRequest): void {
  const seen = new Set<string>();
  const targets = [
    ...body.HostConfig.Binds.map(bindTarget),
    ...Object.keys(body.HostConfig.Tmpfs ?? {}),
    ...Object.keys(body.Volumes ?? {}),
  ];
  for (const target of targets) {
    if (seen.has(target)) {
      throw new InvalidTaskError(`Two mounts target the container path '${target}' (volumes, volume or tmpfs parameters, or the sandbox): each path can be mounted once`);
    }
    seen.add(target);
  }
}

// Precedence (spec 3.6.4): --task_environment, then CommandInfo variables not already set; env
// parameters over both (a later -e wins on `docker run`); then the variables Mesos always sets.
function environment(
  task: mesos.v1.ITaskInfo,
  context: ContainerContext,
  parameters: ParameterSettings,
  secrets: string[],
): Record<string, string> {
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
  for (const [name, value] of parameters.env) env[name] = value;
  env.MESOS_SANDBOX = context.mappedDirectory;
  env.MESOS_CONTAINER_NAME = context.containerName;
  const role = allocationRole(task.resources);
  if (role !== undefined) env.MESOS_ALLOCATION_ROLE = role;
  return env;
}

function variableValue(variable: mesos.v1.Environment.IVariable, secrets: string[]): string {
  if (variable.type !== mesos.v1.Environment.Variable.Type.SECRET) return variable.value ?? '';
  const secret = variable.secret;
  if (secret?.type === mesos.v1.Secret.Type.VALUE && secret.value?.data != null) {
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

// cgroup settings from the task's cpus/mem requests and limits (spec 3.6.3).
function cpuAndMemory(task: mesos.v1.ITaskInfo, context: ContainerContext): Partial<HostConfig> {
  const result: Partial<HostConfig> = {};
  const cpus = scalarSum(task.resources, 'cpus');
  const mem = scalarSum(task.resources, 'mem');
  const cpuLimit = task.limits?.cpus?.value ?? undefined;
  const memLimit = task.limits?.mem?.value ?? undefined;

  if (cpus !== undefined) {
    if (!(cpus >= 0 && Number.isFinite(cpus))) throw new InvalidTaskError(`resources cpus is ${cpus}: expected a non-negative number`);
    result.CpuShares = Math.max(Math.floor(CPU_SHARES_PER_CPU * cpus), MIN_CPU_SHARES);
  }
  if (cpuLimit !== undefined) {
    if (!(cpuLimit > 0)) throw new InvalidTaskError(`limits cpus is ${cpuLimit}: expected a positive number or Infinity`);
    if (Number.isFinite(cpuLimit)) result.CpuQuota = Math.max(Math.floor(CPU_CFS_PERIOD_US * cpuLimit), MIN_CPU_CFS_QUOTA_US);
  } else if (context.cgroupsEnableCfs && cpus !== undefined) {
    result.CpuQuota = Math.max(Math.floor(CPU_CFS_PERIOD_US * cpus), MIN_CPU_CFS_QUOTA_US);
  }

  // 0 MB would mean "no limit" to Docker and an OOM kill after a 32 MB clamp: refuse it.
  if (mem !== undefined && !(mem > 0 && Number.isFinite(mem))) throw new InvalidTaskError(`resources mem is ${mem}: expected a positive number of MB`);
  if (memLimit !== undefined) {
    if (!(memLimit > 0)) throw new InvalidTaskError(`limits mem is ${memLimit}: expected a positive number of MB or Infinity`);
    if (Number.isFinite(memLimit)) result.Memory = Math.max(Math.floor(memLimit) * MB, MIN_MEMORY_BYTES);
    if (mem !== undefined) result.MemoryReservation = Math.max(Math.floor(mem) * MB, MIN_MEMORY_BYTES);
    const oomScore = oomScoreAdj(mem, memLimit, context.hostMemoryBytes);
    if (oomScore !== undefined) result.OomScoreAdj = oomScore;
  } else if (mem !== undefined) {
    result.Memory = Math.max(Math.floor(mem) * MB, MIN_MEMORY_BYTES);
  }
  return result;
}

function typeName(type: number | null | undefined): string {
  return type == null ? 'unset' : (mesos.v1.ContainerInfo.Type[type] ?? String(type));
}
