// Whether a task's container stays inside the operator policy (--allow_privileged and the other
// policy flags). Pure over the task and the create request computed from it, so every way a
// TaskInfo reaches a field (DockerInfo.privileged, ContainerInfo.volumes, each parameter) is
// judged once, where it lands; how a host path resolves through symbolic links is passed in.
import type { mesos } from '../proto/generated/mesos.js';
import { capabilityName, policyFlag, type ContainerPolicy } from '../config/policy-flags.js';
import type { CreateRequest } from './create-request.js';
import { parameterOption } from './docker-parameters.js';

// The real path of a host path (what Docker would mount), or undefined when it cannot be known.
export type ResolveHostPath = (path: string) => string | undefined;

// Host namespaces a container may join, and what joining shows in a refusal.
const HOST_NAMESPACES = [
  ['PidMode', "the host's PID namespace (pid=host)"],
  ['IpcMode', "the host's IPC namespace (ipc=host)"],
  ['UTSMode', "the host's UTS namespace (uts=host)"],
  ['UsernsMode', "the host's user namespace (userns=host)"],
] as const;

// The first violation as a TaskStatus message naming the policy flag and the value, or undefined.
export function policyViolation(
  task: mesos.v1.ITaskInfo,
  body: CreateRequest,
  policy: ContainerPolicy,
  sandboxDirectory: string,
  resolve: ResolveHostPath = (path) => path,
): string | undefined {
  const refused = (flag: string, what: string): string => `Refused by operator policy ${flag}: ${what}`;
  const host = body.HostConfig;

  if (!policy.allowPrivileged) {
    const privileged = privilegeAsked(body);
    if (privileged) return refused(policyFlag('allow_privileged', false), privileged);
  }

  if (policy.allowedHostPaths !== undefined) {
    const flag = policyFlag('allowed_host_paths', policy.allowedHostPaths);
    const sandbox = resolve(sandboxDirectory) ?? sandboxDirectory;
    const prefixes = policy.allowedHostPaths.map((prefix) => resolve(prefix) ?? prefix);
    for (const bind of host.Binds) {
      const source = bind.split(':')[0] ?? '';
      // Not a path: a named Docker volume.
      if (!source.startsWith('/')) continue;
      const real = resolve(source);
      if (real === undefined) return refused(flag, `volume host path '${source}' cannot be resolved (a dangling or looping symbolic link)`);
      if (under(real, sandbox) || prefixes.some((prefix) => under(real, prefix))) continue;
      const shown = real === source ? `'${source}'` : `'${source}' (which resolves to '${real}')`;
      return refused(flag, `volume host path ${shown} is outside the allowed prefixes`);
    }
  }

  if (policy.allowedCapabilities !== undefined) {
    for (const capability of host.CapAdd ?? []) {
      const name = capabilityName(capability);
      if (!policy.allowedCapabilities.has(name)) {
        return refused(policyFlag('allowed_capabilities', policy.allowedCapabilities), `the task adds the capability ${name} (cap-add)`);
      }
    }
  }

  if (!policy.allowDevices && (host.Devices?.length ?? 0) > 0) {
    return refused(policyFlag('allow_devices', false), `the task maps the host device '${host.Devices![0]!.PathOnHost}' (device)`);
  }

  if (policy.allowedDockerParameters !== undefined) {
    for (const parameter of task.container?.docker?.parameters ?? []) {
      const key = parameter.key ?? '';
      if (!policy.allowedDockerParameters.has(parameterOption(key))) {
        return refused(policyFlag('allowed_docker_parameters', policy.allowedDockerParameters), `the task gives the docker parameter '${key}'`);
      }
    }
  }
  return undefined;
}

// What in the request leaves the container's isolation: privileged mode, a host namespace, or confinement switched off.
function privilegeAsked(body: CreateRequest): string | undefined {
  const host = body.HostConfig;
  if (host.Privileged === true) return 'the task asks for a privileged container';
  for (const [field, what] of HOST_NAMESPACES) {
    if (host[field] === 'host') return `the task asks for ${what}`;
  }
  if (host.MaskedPaths?.length === 0) return 'the task unmasks /proc and /sys (security-opt systempaths=unconfined)';
  for (const option of host.SecurityOpt ?? []) {
    const [key = '', value = ''] = option.split(/[=:](.*)/s);
    if (key === 'seccomp') return `the task replaces the seccomp profile (security-opt seccomp=${value === 'unconfined' ? 'unconfined' : '<profile>'})`;
    if (key === 'apparmor' && value === 'unconfined') return 'the task turns AppArmor off (security-opt apparmor=unconfined)';
    if (key === 'label' && value === 'disable') return 'the task turns SELinux labelling off (security-opt label=disable)';
  }
  return undefined;
}

// On path components: /srv/data holds /srv/data/x, never /srv/database.
function under(path: string, prefix: string): boolean {
  return prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
}
