// DockerInfo.port_mappings (spec 3.6.6) and the publish/expose parameters as Config.ExposedPorts
// and HostConfig.PortBindings, built the way `docker run -p` builds them: bound on all
// interfaces, protocol lower-cased, tcp by default.
import { isIP } from 'node:net';
import type { mesos } from '../proto/generated/mesos.js';
import type { PortBinding } from './create-request.js';
import { InvalidTaskError } from './invalid-task-error.js';

// "80/tcp" and how it is bound on the host.
export type PortEntry = readonly [port: string, binding: PortBinding | undefined];

const PROTOCOLS = ['tcp', 'udp', 'sctp'];
const MAX_PORT = 65_535;

export function dockerPortMappings(
  docker: mesos.v1.ContainerInfo.IDockerInfo | null | undefined,
  resources: readonly mesos.v1.IResource[] | null | undefined,
  networkMode: string,
): PortEntry[] {
  const mappings = docker?.port_mappings ?? [];
  if (mappings.length === 0) return [];
  if (networkMode === 'host' || networkMode === 'none') {
    throw new InvalidTaskError(
      `container.docker.port_mappings is set with network mode ${networkMode}: Port mappings are only supported for bridge and user-defined networks`,
    );
  }
  if (!resources || resources.length === 0) throw new InvalidTaskError('container.docker.port_mappings is set: Port mappings require resources');
  const ranges = portRanges(resources);
  if (ranges === undefined) {
    throw new InvalidTaskError('container.docker.port_mappings is set: Port mappings require port resources, expected a ports resource with the host ports');
  }
  return mappings.map((mapping, index) => {
    const field = `container.docker.port_mappings[${index}]`;
    const hostPort = mapping.host_port ?? 0;
    const containerPort = mapping.container_port ?? 0;
    if (!ranges.some(([begin, end]) => hostPort >= begin && hostPort <= end)) {
      throw new InvalidTaskError(
        `${field}.host_port: Port [${hostPort}] not included in resources: expected a port in ${ranges.map(([begin, end]) => `[${begin}-${end}]`).join(', ')}`,
      );
    }
    if (!(Number.isInteger(containerPort) && containerPort >= 1 && containerPort <= MAX_PORT)) {
      throw new InvalidTaskError(`${field}.container_port is ${containerPort}: expected a port from 1 to ${MAX_PORT}`);
    }
    const protocol = protocolOf(`${field}.protocol is '${mapping.protocol ?? ''}'`, mapping.protocol ?? '');
    return [`${containerPort}/${protocol}`, { HostIp: '', HostPort: String(hostPort) }] as const;
  });
}

// The task's ports resources (Mesos `Resources::ports()`): undefined when there is none.
function portRanges(resources: readonly mesos.v1.IResource[]): Array<[number, number]> | undefined {
  let ranges: Array<[number, number]> | undefined;
  for (const resource of resources) {
    if (resource.name !== 'ports' || !resource.ranges) continue;
    ranges ??= [];
    for (const range of resource.ranges.range ?? []) ranges.push([Number(range.begin ?? 0), Number(range.end ?? 0)]);
  }
  return ranges;
}

// `publish=[ip:][hostPort:]containerPort[/protocol]`, with ranges, as docker's nat.ParsePortSpec reads it.
export function publishParameter(field: string, value: string): PortEntry[] {
  const slash = value.lastIndexOf('/');
  const spec = slash === -1 ? value : value.slice(0, slash);
  const protocol = protocolOf(`${field} is '${value}'`, slash === -1 ? '' : value.slice(slash + 1));
  let ip = '';
  let hostPart = '';
  let containerPart = spec;
  const ipv6 = /^\[([0-9A-Fa-f:.]+)\]:(.*)$/.exec(spec);
  const rest = ipv6 ? ipv6[2]! : spec;
  const parts = rest.split(':');
  if (ipv6) {
    if (parts.length !== 2) throw badPort(field, value);
    ip = ipv6[1]!;
    [hostPart, containerPart] = parts as [string, string];
  } else if (parts.length === 2) {
    [hostPart, containerPart] = parts as [string, string];
  } else if (parts.length === 3) {
    [ip, hostPart, containerPart] = parts as [string, string, string];
  } else if (parts.length !== 1) {
    throw badPort(field, value);
  }
  if (ip !== '' && isIP(ip) === 0) throw new InvalidTaskError(`${field} is '${value}': '${ip}' is not an IP address`);
  const [start, end] = portRange(field, value, containerPart, false);
  const host = hostPart === '' ? undefined : portRange(field, value, hostPart, true);
  if (host && host[1] - host[0] !== end - start && start !== end) {
    throw new InvalidTaskError(`${field} is '${value}': the host and container port ranges differ in size`);
  }
  const entries: PortEntry[] = [];
  for (let port = start; port <= end; port += 1) {
    let hostPort = '';
    if (host) {
      // One container port with a host range lets Docker pick a free host port from the range.
      hostPort = start === end && host[0] !== host[1] ? `${host[0]}-${host[1]}` : String(host[0] + (port - start));
    }
    entries.push([`${port}/${protocol}`, { HostIp: ip, HostPort: hostPort }]);
  }
  return entries;
}

// `expose=port[-port][/protocol]`: ports the container listens on, published nowhere.
export function exposeParameter(field: string, value: string): PortEntry[] {
  const slash = value.lastIndexOf('/');
  const protocol = protocolOf(`${field} is '${value}'`, slash === -1 ? '' : value.slice(slash + 1));
  const [start, end] = portRange(field, value, slash === -1 ? value : value.slice(0, slash), false);
  const entries: PortEntry[] = [];
  for (let port = start; port <= end; port += 1) entries.push([`${port}/${protocol}`, undefined]);
  return entries;
}

// Exposed ports and bindings merged; several host bindings of one container port accumulate.
export function portSettings(entries: readonly PortEntry[]): {
  exposedPorts: Record<string, Record<string, never>>;
  portBindings: Record<string, PortBinding[]>;
} {
  const exposedPorts: Record<string, Record<string, never>> = {};
  const portBindings: Record<string, PortBinding[]> = {};
  for (const [port, binding] of entries) {
    exposedPorts[port] = {};
    if (binding) (portBindings[port] ??= []).push(binding);
  }
  return { exposedPorts, portBindings };
}

function portRange(field: string, value: string, text: string, allowZero: boolean): [number, number] {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text);
  const start = match ? Number(match[1]) : NaN;
  const end = match?.[2] !== undefined ? Number(match[2]) : start;
  const min = allowZero ? 0 : 1;
  if (!(start >= min && end <= MAX_PORT && start <= end)) {
    throw new InvalidTaskError(`${field} is '${value}': '${text}' is not a port or port range from ${min} to ${MAX_PORT}`);
  }
  return [start, end];
}

// `what` is the start of the message: the field and its value.
function protocolOf(what: string, protocol: string): string {
  const lower = protocol.toLowerCase();
  if (lower === '') return 'tcp';
  if (!PROTOCOLS.includes(lower)) throw new InvalidTaskError(`${what}: expected the protocol to be one of ${PROTOCOLS.join(', ')}`);
  return lower;
}

function badPort(field: string, value: string): InvalidTaskError {
  return new InvalidTaskError(`${field} is '${value}': expected [ip:][hostPort:]containerPort[/protocol], like 8080:80 or 127.0.0.1:8080:80/udp`);
}
