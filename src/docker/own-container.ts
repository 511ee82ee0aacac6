// Where this process runs, as the orphan sweep needs to know it: the Docker container it is in (if
// any) and its PID namespace. A pid recorded in one PID namespace means nothing in another, so a
// task container's labels carry both, and the sweep judges the owner by pid only from the same
// namespace (and by asking Docker when the owner is itself a container).
import { readFileSync, readlinkSync } from 'node:fs';

const CONTAINER_ID = /^[0-9a-f]{64}$/;
// Docker bind-mounts these three files of the container's own directory into every container.
const DOCKER_FILES = new Set(['/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);

// The id of the Docker container whose mounts these are (/proc/self/mountinfo), or undefined.
// Fields: id, parent, major:minor, root (the mounted path inside its filesystem), mount point, ...
export function containerIdFromMountinfo(mountinfo: string): string | undefined {
  for (const line of mountinfo.split('\n')) {
    const [, , , root, mountPoint] = line.split(' ');
    if (root === undefined || mountPoint === undefined || !DOCKER_FILES.has(mountPoint)) continue;
    const parts = root.split('/');
    const id = parts.at(-2);
    if (parts.at(-3) === 'containers' && id !== undefined && CONTAINER_ID.test(id)) return id;
  }
  return undefined;
}

export function ownContainerId(): string | undefined {
  try {
    return containerIdFromMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  } catch {
    return undefined;
  }
}

// The PID namespace of this process as the kernel names it (`pid:[4026531836]`), or ''.
export function ownPidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return '';
  }
}
