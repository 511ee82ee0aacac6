// DockerInfo.network as HostConfig.NetworkMode, and ContainerInfo.hostname (spec 3.6.6).
import { mesos } from '../proto/generated/mesos.js';
import { InvalidTaskError } from './invalid-task-error.js';

const { HOST, BRIDGE, NONE, USER } = mesos.v1.ContainerInfo.DockerInfo.Network;

// DockerInfo.network with its proto default, HOST.
export function dockerNetwork(container: mesos.v1.IContainerInfo): mesos.v1.ContainerInfo.DockerInfo.Network {
  return container.docker?.network ?? HOST;
}

export function networkMode(container: mesos.v1.IContainerInfo): string {
  const network = dockerNetwork(container);
  switch (network) {
    case HOST:
      return 'host';
    case BRIDGE:
      return 'bridge';
    case NONE:
      return 'none';
    case USER: {
      const infos = container.network_infos ?? [];
      if (infos.length === 0) throw new InvalidTaskError('docker.network is USER but container.network_infos is empty: expected one network with a name');
      if (infos.length > 1) throw new InvalidTaskError(`docker.network is USER with ${infos.length} network_infos: only a single network can be defined`);
      const name = infos[0]?.name;
      if (!name) throw new InvalidTaskError('docker.network is USER but network_infos[0].name is missing');
      return networkName('container.network_infos[0].name', name);
    }
    default:
      throw new InvalidTaskError(`docker.network ${String(network)} is unknown: expected HOST, BRIDGE, NONE or USER`);
  }
}

// A network mode Docker understands: host, bridge, none, container:<name> or a network's name or id.
export function networkName(field: string, name: string): string {
  if (!/^(?:container:)?[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    throw new InvalidTaskError(`${field} is '${name}': expected a network name (letters, digits, '_', '.', '-'), or container:<name>`);
  }
  return name;
}

// ContainerInfo.hostname, refused with host networking as upstream does (checked against
// DockerInfo.network, before any `net` parameter).
export function containerHostname(container: mesos.v1.IContainerInfo): string | undefined {
  if (!Object.hasOwn(container, 'hostname') || container.hostname == null) return undefined;
  if (dockerNetwork(container) === HOST) {
    throw new InvalidTaskError(`container.hostname is '${container.hostname}': Unable to set hostname with host network mode`);
  }
  return hostname('container.hostname', container.hostname);
}

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
// The kernel's limit on a UTS hostname.
const MAX_HOSTNAME = 64;

// An RFC 1123 host name: it ends up in the container's /etc/hosts and /etc/hostname.
export function hostname(field: string, value: string): string {
  if (value.length === 0 || value.length > MAX_HOSTNAME || !value.split('.').every((label) => LABEL.test(label))) {
    throw new InvalidTaskError(`${field} is '${value}': expected a host name of letters, digits, '-' and '.', at most ${MAX_HOSTNAME} characters`);
  }
  return value;
}
