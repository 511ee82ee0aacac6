// Operator policy beyond the stock executor (after Nomad's docker driver: allow_privileged,
// volumes, allow_caps): what a task's ContainerInfo may ask of the host. Every default keeps
// parity with the stock executor, so a drop-in breaks no framework. Pure: flags in, policy out.
import { posix } from 'node:path';
import { parameterOption, SUPPORTED_PARAMETERS } from '../docker/docker-parameters.js';
import { ConfigError } from './config-error.js';
import { parseBool, type FlagSpec, type RawFlags } from './flags.js';

export interface ContainerPolicy {
  // Privileged containers and the other ways to leave the container's isolation (host pid/ipc/uts/userns, unconfined security options).
  readonly allowPrivileged: boolean;
  // Absolute, normalised prefixes a volume's host path outside the sandbox must lie under; undefined is any.
  readonly allowedHostPaths: readonly string[] | undefined;
  // Capabilities a task may add, upper case without CAP_ (ALL for cap-add=ALL); undefined is any.
  readonly allowedCapabilities: ReadonlySet<string> | undefined;
  // Host devices (the device parameter).
  readonly allowDevices: boolean;
  // DockerInfo.parameters options by their long name (v is volume); undefined is any.
  readonly allowedDockerParameters: ReadonlySet<string> | undefined;
}

export const PERMISSIVE_POLICY: ContainerPolicy = {
  allowPrivileged: true,
  allowedHostPaths: undefined,
  allowedCapabilities: undefined,
  allowDevices: true,
  allowedDockerParameters: undefined,
};

export const POLICY_FLAGS: readonly FlagSpec[] = [
  { name: 'allow_privileged', kind: 'bool', help: 'Allow privileged containers, host pid/ipc/uts/userns namespaces and unconfined security options', default: 'true' },
  { name: 'allowed_host_paths', kind: 'string', help: 'Comma-separated absolute prefixes allowed as volume host paths outside the sandbox; empty allows none', default: '* (any)' },
  { name: 'allowed_capabilities', kind: 'string', help: 'Comma-separated capabilities a task may add (cap-add), ALL included; empty allows none', default: '* (any)' },
  { name: 'allow_devices', kind: 'bool', help: 'Allow host devices in containers (the device parameter)', default: 'true' },
  { name: 'allowed_docker_parameters', kind: 'string', help: 'Comma-separated DockerInfo.parameters options allowed (long names; aliases follow); empty allows none', default: '* (any)' },
];

const CAPABILITY = /^[A-Z][A-Z0-9_]*$/;

export function parsePolicy(flags: RawFlags): ContainerPolicy {
  const bool = (name: string): boolean => {
    const value = flags.get(name);
    return value === undefined ? true : parseBool(`--${name}`, value);
  };
  return {
    allowPrivileged: bool('allow_privileged'),
    allowedHostPaths: list(flags, 'allowed_host_paths', hostPrefix),
    allowedCapabilities: set(list(flags, 'allowed_capabilities', capabilityEntry)),
    allowDevices: bool('allow_devices'),
    allowedDockerParameters: set(list(flags, 'allowed_docker_parameters', dockerParameter)),
  };
}

// How a policy shows in a refusal: the flag as the operator would write it.
export function policyFlag(name: string, value: boolean | Iterable<string>): string {
  return `--${name}=${typeof value === 'boolean' ? String(value) : [...value].join(',')}`;
}

// A capability as Docker compares them: upper case, without CAP_.
export function capabilityName(name: string): string {
  const upper = name.trim().toUpperCase();
  return upper.startsWith('CAP_') ? upper.slice(4) : upper;
}

// Unset or '*' is any; '' is none.
function list(flags: RawFlags, name: string, item: (text: string, flag: string) => string): string[] | undefined {
  const text = flags.get(name);
  if (text === undefined || text.trim() === '*') return undefined;
  const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  return [...new Set(entries.map((entry) => item(entry, `--${name}`)))];
}

function set(values: string[] | undefined): ReadonlySet<string> | undefined {
  return values === undefined ? undefined : new Set(values);
}

function hostPrefix(text: string, flag: string): string {
  if (!text.startsWith('/') || text.includes('\0')) {
    throw new ConfigError(`Invalid ${flag} entry '${text}': expected an absolute host path like /srv/data`);
  }
  const normalized = posix.normalize(text);
  return normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized;
}

function capabilityEntry(text: string, flag: string): string {
  const name = capabilityName(text);
  if (!CAPABILITY.test(name)) throw new ConfigError(`Invalid ${flag} entry '${text}': expected a capability name like NET_ADMIN, or ALL`);
  return name;
}

function dockerParameter(text: string, flag: string): string {
  if (!SUPPORTED_PARAMETERS.includes(text)) {
    throw new ConfigError(`Invalid ${flag} entry '${text}': expected docker run options this executor supports, like env,label,volume`);
  }
  return parameterOption(text);
}
