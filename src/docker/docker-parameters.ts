// DockerInfo.parameters (spec 3.6.8). The stock executor hands each one to `docker run` as
// `--key=value`; here each supported key is mapped onto its own field of the create request, so
// a parameter can set the one setting it names and nothing else. Values are read as the docker
// CLI reads them; repeatable options accumulate.
import { isIP } from 'node:net';
import type { mesos } from '../proto/generated/mesos.js';
import { setEntry, type CreateRequest, type DeviceMapping, type HealthConfig, type HostConfig, type Ulimit } from './create-request.js';
import { parseGoBool, parseGoDuration, parseGoInt, parseSize } from './docker-units.js';
import { InvalidTaskError } from './invalid-task-error.js';
import { hostname, networkName } from './network-mode.js';
import { exposeParameter, publishParameter, type PortEntry } from './port-mappings.js';
import { absolutePath, containerTarget, volumeParameter } from './volumes.js';

type ConfigFields = Pick<CreateRequest, 'Entrypoint' | 'Hostname' | 'User' | 'WorkingDir' | 'StopSignal' | 'StopTimeout' | 'MacAddress' | 'Healthcheck'>;
type HostFields = Omit<HostConfig, 'Binds' | 'NetworkMode' | 'PortBindings' | 'VolumeDriver'>;

export interface ParameterSettings {
  // The first net/network parameter: it replaces the network mode.
  network: string | undefined;
  // A dns, dns-search or dns-opt(ion) parameter was given: no default DNS then.
  dnsGiven: boolean;
  volumeDriver: string | undefined;
  readonly env: Map<string, string>;
  readonly labels: Map<string, string>;
  readonly config: Partial<ConfigFields>;
  readonly hostConfig: Partial<HostFields>;
  readonly binds: string[];
  readonly anonymousVolumes: string[];
  readonly ports: PortEntry[];
}

interface Draft extends ParameterSettings {
  readonly ulimits: Map<string, Ulimit>;
  readonly health: { command?: string; interval?: number; timeout?: number; startPeriod?: number; retries?: number; disabled?: boolean };
}

type Handler = (value: string, draft: Draft, field: string) => void;

const ULIMITS = new Set([
  'as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack',
]);
const SIGNALS = new Set([
  'ABRT', 'ALRM', 'BUS', 'CHLD', 'CLD', 'CONT', 'FPE', 'HUP', 'ILL', 'INT', 'IO', 'IOT', 'KILL', 'PIPE', 'POLL', 'PROF', 'PWR', 'QUIT',
  'RTMAX', 'RTMIN', 'SEGV', 'STKFLT', 'STOP', 'SYS', 'TERM', 'TRAP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'USR1', 'USR2', 'VTALRM', 'WINCH', 'XCPU', 'XFSZ',
]);
const SECURITY_OPTIONS = ['apparmor', 'label', 'no-new-privileges', 'seccomp', 'systempaths'];
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const DRIVER = /^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/;
const CPUSET = /^\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*$/;
const IPC_MODE = /^(?:|none|private|shareable|host|container:[A-Za-z0-9][A-Za-z0-9_.-]*)$/;
const PID_MODE = /^(?:|host|container:[A-Za-z0-9][A-Za-z0-9_.-]*)$/;
const HOST_ONLY = /^(?:|host)$/;
const MAC_ADDRESS = /^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}$/;
const USER = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*(?::[A-Za-z0-9_.][A-Za-z0-9_.-]*)?$/;
const RESOLV_WORD = /^[^\s\0]+$/;
const SEARCH_DOMAIN = /^(?:\.|[A-Za-z0-9_][A-Za-z0-9_.-]*)$/;

const HANDLERS: Record<string, Handler> = {
  'add-host': (value, draft, field) => {
    const colon = value.indexOf(':');
    const ip = value.slice(colon + 1);
    if (colon < 1 || !(ip === 'host-gateway' || isIP(ip) !== 0)) fail(field, value, 'host:ip, like db.local:10.0.0.5');
    push(draft.hostConfig, 'ExtraHosts', value);
  },
  'blkio-weight': (value, draft, field) => {
    const weight = integer(field, value, 0, 1000);
    if (weight !== 0 && weight < 10) fail(field, value, 'a weight from 10 to 1000, or 0');
    draft.hostConfig.BlkioWeight = weight;
  },
  'cap-add': (value, draft, field) => push(draft.hostConfig, 'CapAdd', capability(field, value)),
  'cap-drop': (value, draft, field) => push(draft.hostConfig, 'CapDrop', capability(field, value)),
  // Mesos sets the quota for a 100 ms period; like `docker run`, a period given here does not rescale it.
  'cpu-period': (value, draft, field) => { draft.hostConfig.CpuPeriod = integer(field, value, 1000, 1_000_000, 'microseconds from 1000 to 1000000'); },
  // cpu-shares, cpu-quota, memory and memory-reservation replace what Mesos derives from the
  // task's resources, as a later flag does on the stock executor's `docker run` command line.
  'cpu-quota': (value, draft, field) => {
    const quota = integer(field, value, -1, Number.MAX_SAFE_INTEGER, 'microseconds, at least 1000, or -1 for no quota');
    if (quota >= 0 && quota < 1000) fail(field, value, 'microseconds, at least 1000, or -1 for no quota');
    draft.hostConfig.CpuQuota = quota;
  },
  'cpu-shares': (value, draft, field) => { draft.hostConfig.CpuShares = integer(field, value, 0, 262_144, 'a relative weight from 2 to 262144'); },
  'cpuset-cpus': (value, draft, field) => { draft.hostConfig.CpusetCpus = matching(field, value, CPUSET, 'CPU numbers like 0-3,7'); },
  'cpuset-mems': (value, draft, field) => { draft.hostConfig.CpusetMems = matching(field, value, CPUSET, 'memory node numbers like 0,1'); },
  device: (value, draft, field) => push(draft.hostConfig, 'Devices', device(field, value)),
  dns: (value, draft, field) => {
    if (isIP(value) === 0) fail(field, value, 'the IP address of a name server');
    push(draft.hostConfig, 'Dns', value);
    draft.dnsGiven = true;
  },
  'dns-option': (value, draft, field) => {
    push(draft.hostConfig, 'DnsOptions', matching(field, value, RESOLV_WORD, 'a resolv.conf option without spaces, like ndots:2'));
    draft.dnsGiven = true;
  },
  'dns-search': (value, draft, field) => {
    push(draft.hostConfig, 'DnsSearch', matching(field, value, SEARCH_DOMAIN, 'a search domain like example.com'));
    draft.dnsGiven = true;
  },
  // Replaces the image's ENTRYPOINT (and /bin/sh for shell commands), as `docker run --entrypoint` does.
  entrypoint: (value, draft) => { draft.config.Entrypoint = [value]; },
  // Overrides --task_environment and CommandInfo variables, never the variables Mesos sets.
  env: (value, draft, field) => {
    const [name, variable] = keyValue(field, value, 'NAME=value (a bare NAME would copy the executor\'s own variable)');
    draft.env.set(name, variable);
  },
  expose: (value, draft, field) => { draft.ports.push(...exposeParameter(field, value)); },
  'group-add': (value, draft, field) => push(draft.hostConfig, 'GroupAdd', matching(field, value, /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'a group name or id')),
  'health-cmd': (value, draft, field) => {
    if (value.trim() === '') fail(field, value, 'a shell command');
    draft.health.command = value;
  },
  'health-interval': (value, draft, field) => { draft.health.interval = healthDuration(field, value); },
  'health-retries': (value, draft, field) => { draft.health.retries = integer(field, value, 0, 2 ** 31 - 1, 'a number of failures, 0 or more'); },
  'health-start-period': (value, draft, field) => { draft.health.startPeriod = healthDuration(field, value); },
  'health-timeout': (value, draft, field) => { draft.health.timeout = healthDuration(field, value); },
  // Replaces ContainerInfo.hostname, as a later --hostname does.
  hostname: (value, draft, field) => { draft.config.Hostname = hostname(field, value); },
  init: (value, draft, field) => { draft.hostConfig.Init = boolean(field, value); },
  ipc: (value, draft, field) => { draft.hostConfig.IpcMode = matching(field, value, IPC_MODE, 'none, private, shareable, host or container:<name>'); },
  // Labels the executor sets (they find the container again) cannot be replaced.
  label: (value, draft, field) => {
    const equals = value.indexOf('=');
    const [key, text] = equals === -1 ? [value, ''] : [value.slice(0, equals), value.slice(equals + 1)];
    if (key === '' || /\s/.test(key)) fail(field, value, 'key=value or key');
    draft.labels.set(key, text);
  },
  'log-driver': (value, draft, field) => {
    const type = matching(field, value, DRIVER, 'a logging driver name like json-file');
    draft.hostConfig.LogConfig = { Type: type, Config: draft.hostConfig.LogConfig?.Config ?? {} };
  },
  'log-opt': (value, draft, field) => {
    const [key, option] = keyValue(field, value, 'key=value, like max-size=10m');
    draft.hostConfig.LogConfig ??= { Type: '', Config: {} };
    setEntry(draft.hostConfig.LogConfig.Config, key, option);
  },
  'mac-address': (value, draft, field) => { draft.config.MacAddress = matching(field, value, MAC_ADDRESS, 'a MAC address like 02:42:ac:11:00:02'); },
  memory: (value, draft, field) => { draft.hostConfig.Memory = size(field, value); },
  'memory-reservation': (value, draft, field) => { draft.hostConfig.MemoryReservation = size(field, value); },
  'memory-swap': (value, draft, field) => { draft.hostConfig.MemorySwap = value === '-1' ? -1 : size(field, value, ', or -1 for unlimited swap'); },
  'memory-swappiness': (value, draft, field) => {
    draft.hostConfig.MemorySwappiness = integer(field, value, -1, 100, 'a number from 0 to 100 (-1 for the default)');
  },
  // The first one replaces the network mode, as on the stock executor.
  network: (value, draft, field) => {
    if (draft.network !== undefined) {
      throw new InvalidTaskError(
        `${field} is '${value}' after an earlier net/network parameter '${draft.network}': a container joins one network when it is created`,
      );
    }
    draft.network = networkName(field, value);
  },
  'no-healthcheck': (value, draft, field) => { draft.health.disabled = boolean(field, value); },
  'oom-kill-disable': (value, draft, field) => { draft.hostConfig.OomKillDisable = boolean(field, value); },
  'oom-score-adj': (value, draft, field) => { draft.hostConfig.OomScoreAdj = integer(field, value, -1000, 1000, 'a number from -1000 to 1000'); },
  pid: (value, draft, field) => { draft.hostConfig.PidMode = matching(field, value, PID_MODE, 'host or container:<name>'); },
  'pids-limit': (value, draft, field) => {
    draft.hostConfig.PidsLimit = integer(field, value, -1, Number.MAX_SAFE_INTEGER, 'a number of processes, or -1 for unlimited');
  },
  privileged: (value, draft, field) => { draft.hostConfig.Privileged = boolean(field, value); },
  publish: (value, draft, field) => { draft.ports.push(...publishParameter(field, value)); },
  'read-only': (value, draft, field) => { draft.hostConfig.ReadonlyRootfs = boolean(field, value); },
  // The executor supervises the container and reports its exit: Docker must not restart it.
  restart: (value, draft, field) => {
    if (value !== 'no') fail(field, value, "'no': the executor supervises the container, so Docker must not restart it");
    draft.hostConfig.RestartPolicy = { Name: 'no' };
  },
  runtime: (value, draft, field) => { draft.hostConfig.Runtime = matching(field, value, NAME, 'a runtime name like runc'); },
  'security-opt': (value, draft, field) => securityOption(field, value, draft),
  'shm-size': (value, draft, field) => { draft.hostConfig.ShmSize = size(field, value); },
  'stop-signal': (value, draft, field) => { draft.config.StopSignal = signal(field, value); },
  // Bounds `docker stop` by others (e.g. the daemon shutting down); the executor's own kill follows the kill policy.
  'stop-timeout': (value, draft, field) => { draft.config.StopTimeout = integer(field, value, -1, 2 ** 31 - 1, 'a number of seconds'); },
  sysctl: (value, draft, field) => {
    const [key, setting] = keyValue(field, value, 'name=value, like net.core.somaxconn=1024');
    if (!/^[A-Za-z0-9_][A-Za-z0-9_./-]*$/.test(key)) fail(field, value, 'name=value, like net.core.somaxconn=1024');
    setEntry((draft.hostConfig.Sysctls ??= {}), key, setting);
  },
  tmpfs: (value, draft, field) => {
    const colon = value.indexOf(':');
    const target = containerTarget(field, colon === -1 ? value : value.slice(0, colon));
    const options = colon === -1 ? '' : matching(field, value.slice(colon + 1), /^[A-Za-z0-9_=,.+-]*$/, 'path[:options], like /run:rw,size=64m');
    setEntry((draft.hostConfig.Tmpfs ??= {}), target, options);
  },
  ulimit: (value, draft, field) => {
    const limit = ulimit(field, value);
    draft.ulimits.set(limit.Name, limit);
  },
  user: (value, draft, field) => { draft.config.User = matching(field, value, USER, 'user[:group], by name or id'); },
  userns: (value, draft, field) => { draft.hostConfig.UsernsMode = matching(field, value, HOST_ONLY, "'host'"); },
  uts: (value, draft, field) => { draft.hostConfig.UTSMode = matching(field, value, HOST_ONLY, "'host'"); },
  volume: (value, draft, field) => {
    const volume = volumeParameter(field, value);
    if ('bind' in volume) draft.binds.push(volume.bind);
    else draft.anonymousVolumes.push(volume.anonymous);
  },
  'volume-driver': (value, draft, field) => { draft.volumeDriver = matching(field, value, DRIVER, 'a volume driver name'); },
  workdir: (value, draft, field) => {
    if (!value.startsWith('/')) fail(field, value, 'an absolute path');
    draft.config.WorkingDir = value;
  },
};

const ALIASES: Record<string, string> = {
  'dns-opt': 'dns-option',
  e: 'env',
  h: 'hostname',
  l: 'label',
  net: 'network',
  p: 'publish',
  u: 'user',
  v: 'volume',
  w: 'workdir',
};

const REFUSED: Record<string, string> = {
  'env-file': 'it reads a file on the agent host; give each variable as an env parameter',
  'label-file': 'it reads a file on the agent host; give each label as a label parameter',
  cidfile: 'it writes a file on the agent host',
  rm: 'the executor removes the container itself once the task is over',
  detach: 'the executor supervises the container itself',
  d: 'the executor supervises the container itself',
  attach: 'the executor attaches to stdout and stderr itself',
  a: 'the executor attaches to stdout and stderr itself',
  interactive: 'the task has no stdin',
  i: 'the task has no stdin',
  tty: 'the executor copies stdout and stderr apart, which a TTY would merge',
  t: 'the executor copies stdout and stderr apart, which a TTY would merge',
};

export const SUPPORTED_PARAMETERS: readonly string[] = [...Object.keys(HANDLERS), ...Object.keys(ALIASES)].sort();

// The option a parameter key sets (`v` is `volume`), so that a policy names each option once.
export function parameterOption(key: string): string {
  return Object.hasOwn(ALIASES, key) ? ALIASES[key]! : key;
}

export function dockerParameters(parameters: readonly mesos.v1.IParameter[] | null | undefined): ParameterSettings {
  const draft: Draft = {
    network: undefined,
    dnsGiven: false,
    volumeDriver: undefined,
    env: new Map(),
    labels: new Map(),
    config: {},
    hostConfig: {},
    binds: [],
    anonymousVolumes: [],
    ports: [],
    ulimits: new Map(),
    health: {},
  };
  (parameters ?? []).forEach((parameter, index) => {
    const key = parameter.key ?? '';
    const value = parameter.value ?? '';
    const field = `container.docker.parameters[${index}] (${key})`;
    if (key === 'name') {
      throw new InvalidTaskError(`container.docker.parameters[${index}]: Parameter in DockerInfo must not be 'name' (MESOS-8497): the executor names the container`);
    }
    const refused = Object.hasOwn(REFUSED, key) ? REFUSED[key] : undefined;
    if (refused !== undefined) throw new InvalidTaskError(`${field} is not accepted: ${refused}`);
    const handler = Object.hasOwn(HANDLERS, key) ? HANDLERS[key] : Object.hasOwn(ALIASES, key) ? HANDLERS[ALIASES[key]!] : undefined;
    if (!handler) {
      throw new InvalidTaskError(
        `container.docker.parameters[${index}] has key '${key}', which is not a supported docker run option: expected one of ${SUPPORTED_PARAMETERS.join(', ')}`,
      );
    }
    if (value.includes('\0')) throw new InvalidTaskError(`${field} contains a NUL byte`);
    handler(value, draft, field);
  });
  if (draft.ulimits.size > 0) draft.hostConfig.Ulimits = [...draft.ulimits.values()];
  const health = healthcheck(draft.health);
  if (health) draft.config.Healthcheck = health;
  const { ulimits: _ulimits, health: _health, ...settings } = draft;
  return settings;
}

// As `docker run`: --no-healthcheck disables the image's check; any --health-* option replaces it.
function healthcheck(health: Draft['health']): HealthConfig | undefined {
  const { command, interval, timeout, startPeriod, retries, disabled } = health;
  const configured = command !== undefined || [interval, timeout, startPeriod, retries].some((value) => value !== undefined && value !== 0);
  if (disabled && configured) {
    throw new InvalidTaskError('container.docker.parameters: no-healthcheck=true conflicts with the health-* parameters');
  }
  if (disabled) return { Test: ['NONE'] };
  if (!configured) return undefined;
  return {
    ...(command !== undefined ? { Test: ['CMD-SHELL', command] } : {}),
    ...(interval !== undefined ? { Interval: interval } : {}),
    ...(timeout !== undefined ? { Timeout: timeout } : {}),
    ...(startPeriod !== undefined ? { StartPeriod: startPeriod } : {}),
    ...(retries !== undefined ? { Retries: retries } : {}),
  };
}

function securityOption(field: string, value: string, draft: Draft): void {
  let [key = '', option] = splitOnce(value, '=');
  if (option === undefined && key !== 'no-new-privileges') [key = '', option] = splitOnce(value, ':');
  if (!SECURITY_OPTIONS.includes(key) || (option === undefined && key !== 'no-new-privileges')) {
    fail(field, value, `one of ${SECURITY_OPTIONS.map((name) => `${name}=...`).join(', ')}`);
  }
  if (key === 'systempaths') {
    if (option !== 'unconfined') fail(field, value, 'systempaths=unconfined');
    // As the docker CLI does: unmask /proc and /sys paths rather than pass the option on.
    draft.hostConfig.MaskedPaths = [];
    draft.hostConfig.ReadonlyPaths = [];
    return;
  }
  if (key === 'no-new-privileges' && option !== undefined && parseGoBool(option) === undefined) fail(field, value, 'no-new-privileges or no-new-privileges=true|false');
  if (key === 'seccomp' && option !== 'unconfined') {
    // The docker CLI reads the profile from a file on the host; only an inline profile is taken here.
    let profile: unknown;
    try {
      profile = JSON.parse(option!);
    } catch {
      fail(field, value, 'seccomp=unconfined or seccomp=<profile JSON>; a profile file on the agent host is not read');
    }
    if (typeof profile !== 'object' || profile === null) fail(field, value, 'seccomp=<profile JSON object>');
    push(draft.hostConfig, 'SecurityOpt', `seccomp=${JSON.stringify(profile)}`);
    return;
  }
  push(draft.hostConfig, 'SecurityOpt', value);
}

// `ulimit=name=soft[:hard]`; the hard limit is the soft one when omitted; -1 is unlimited.
function ulimit(field: string, value: string): Ulimit {
  const expected = `name=soft[:hard] with name one of ${[...ULIMITS].join(', ')}`;
  const [name = '', limits] = splitOnce(value, '=');
  if (!ULIMITS.has(name) || limits === undefined) fail(field, value, expected);
  const parts = limits.split(':');
  if (parts.length > 2) fail(field, value, expected);
  const soft = parseGoInt(parts[0]!);
  const hard = parts.length === 2 ? parseGoInt(parts[1]!) : soft;
  if (soft === undefined || hard === undefined) fail(field, value, expected);
  if (hard !== -1 && soft > hard) fail(field, value, 'a soft limit no greater than the hard limit');
  return { Name: name, Soft: soft, Hard: hard };
}

// `device=host[:container][:permissions]`, as the docker CLI splits it.
function device(field: string, value: string): DeviceMapping {
  const parts = value.split(':');
  if (parts.length > 3) fail(field, value, 'host-path[:container-path][:permissions], like /dev/fuse:/dev/fuse:rwm');
  let permissions = 'rwm';
  let target = '';
  if (parts.length === 3) permissions = parts[2]!;
  if (parts.length >= 2) {
    if (parts.length === 2 && isDeviceMode(parts[1]!)) permissions = parts[1]!;
    else target = parts[1]!;
  }
  if (!isDeviceMode(permissions)) fail(field, value, 'permissions made of r, w and m');
  const source = absolutePath(field, parts[0]!);
  return { PathOnHost: source, PathInContainer: target === '' ? source : absolutePath(field, target), CgroupPermissions: permissions };
}

function isDeviceMode(mode: string): boolean {
  return mode.length > 0 && [...mode].every((letter, index) => 'rwm'.includes(letter) && mode.indexOf(letter) === index);
}

function capability(field: string, value: string): string {
  return matching(field, value, /^(?:ALL|(?:CAP_)?[A-Za-z_0-9]+)$/, 'a capability name like NET_ADMIN, or ALL');
}

// Docker's signal names with or without SIG, or numbers; SIG-prefixed upper case is what the executor reads back.
function signal(field: string, value: string): string {
  const number = parseGoInt(value);
  if (number !== undefined) {
    if (number < 1 || number > 64) fail(field, value, 'a signal number from 1 to 64, or a name like SIGTERM');
    return String(number);
  }
  const name = value.toUpperCase().replace(/^SIG/, '');
  if (!(SIGNALS.has(name) || /^RTMIN\+(?:[1-9]|1[0-5])$/.test(name) || /^RTMAX-(?:[1-9]|1[0-4])$/.test(name))) {
    fail(field, value, 'a signal name like SIGTERM or SIGQUIT, or a number');
  }
  return `SIG${name}`;
}

function healthDuration(field: string, value: string): number {
  const nanoseconds = parseGoDuration(value);
  if (nanoseconds === undefined || nanoseconds < 0 || (nanoseconds > 0 && nanoseconds < 1e6)) {
    fail(field, value, 'a duration of at least 1ms, like 30s or 1m30s (0 for the default)');
  }
  return nanoseconds;
}

function size(field: string, value: string, alternative = ''): number {
  const bytes = parseSize(value);
  if (bytes === undefined) fail(field, value, `a size like 512m or 1g${alternative}`);
  return bytes;
}

function integer(field: string, value: string, min: number, max: number, expected = `a whole number from ${min} to ${max}`): number {
  const number = parseGoInt(value);
  if (number === undefined || number < min || number > max) fail(field, value, expected);
  return number;
}

function boolean(field: string, value: string): boolean {
  const flag = parseGoBool(value);
  if (flag === undefined) fail(field, value, 'true or false');
  return flag;
}

function matching(field: string, value: string, pattern: RegExp, expected: string): string {
  if (!pattern.test(value)) fail(field, value, expected);
  return value;
}

function keyValue(field: string, value: string, expected: string): [string, string] {
  const [key = '', text] = splitOnce(value, '=');
  if (key === '' || text === undefined) fail(field, value, expected);
  return [key, text];
}

function splitOnce(value: string, separator: string): [string, string | undefined] {
  const at = value.indexOf(separator);
  return at === -1 ? [value, undefined] : [value.slice(0, at), value.slice(at + 1)];
}

function push<K extends 'ExtraHosts' | 'CapAdd' | 'CapDrop' | 'Dns' | 'DnsSearch' | 'DnsOptions' | 'GroupAdd' | 'SecurityOpt' | 'Devices'>(
  hostConfig: Partial<HostFields>,
  key: K,
  item: NonNullable<HostFields[K]>[number],
): void {
  ((hostConfig[key] ??= []) as Array<typeof item>).push(item);
}

function fail(field: string, value: string, expected: string): never {
  throw new InvalidTaskError(`${field} is '${value}': expected ${expected}`);
}
