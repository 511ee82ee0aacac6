// A container's memory counters from its cgroup (v1 memory controller or v2 unified): how many
// processes the kernel's OOM killer killed in it, how often it hit its limit, the limit and the
// usage. Docker's OOMKilled flag and its `oom` event say that an OOM happened; the counters say
// how many, and survive a restart of the daemon or of the executor while the container lives.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';

export interface MemoryCounters {
  readonly cgroupVersion: 1 | 2;
  // Processes killed by the OOM killer in the container (v1 memory.oom_control oom_kill, v2 memory.events oom_kill).
  readonly oomKills: number | undefined;
  // Times the limit was hit (v1 memory.failcnt, v2 memory.events max).
  readonly limitHits: number | undefined;
  readonly limitBytes: number | undefined;
  readonly usageBytes: number | undefined;
  // The peak usage (v1 memory.max_usage_in_bytes, v2 memory.peak where the kernel has it).
  readonly maxUsageBytes: number | undefined;
}

export interface CgroupLocation {
  // The container's full id (the inspect's `Id`).
  readonly containerId: string;
  // HostConfig.CgroupParent, when the container was given one.
  readonly cgroupParent?: string | undefined;
}

const CONTAINER_ID = /^[0-9a-f]{64}$/;
// A counters file is a few hundred bytes.
const MAX_FILE_BYTES = 64 * 1024;
// One buffer for every read: the counters are sampled every few seconds for the task's life, and a
// fresh 64 KiB each time grew an idle executor by megabytes between two garbage collections.
let scratch: Buffer | undefined;

// The directories the container's memory cgroup may be in, most likely first: the cgroupfs
// driver puts it at <parent or "docker">/<id>, the systemd driver at <parent or system.slice>/docker-<id>.scope.
export function cgroupCandidates(location: CgroupLocation, version: 1 | 2): string[] {
  if (!CONTAINER_ID.test(location.containerId)) return [];
  const id = location.containerId;
  const base = version === 1 ? 'memory' : '';
  const parent = (location.cgroupParent ?? '').replace(/^\/+|\/+$/g, '');
  // A parent that climbs out of the hierarchy is not followed.
  if (parent.split('/').includes('..')) return [];
  const parents = parent ? [parent] : ['docker', 'system.slice'];
  const paths: string[] = [];
  for (const directory of parents) {
    paths.push(join(base, directory, id));
    paths.push(join(base, directory.endsWith('.slice') ? directory : 'system.slice', `docker-${id}.scope`));
  }
  return [...new Set(paths)];
}

// Parses "key value" lines (memory.oom_control, memory.events, memory.stat).
export function parseKeyValues(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    const number = Number(value);
    if (key && value !== undefined && Number.isFinite(number)) values.set(key, number);
  }
  return values;
}

// A single number file; "max" (v2, no limit) and v1's huge "no limit" value are undefined.
export function parseBytes(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'max') return undefined;
  const number = Number(trimmed);
  if (!Number.isFinite(number) || number < 0) return undefined;
  // v1 reports an unlimited cgroup as a page-rounded 2^63 - 1.
  return number >= 2 ** 62 ? undefined : number;
}

// The counters from the files of one cgroup directory, given as name -> content.
export function memoryCounters(version: 1 | 2, files: ReadonlyMap<string, string>): MemoryCounters {
  if (version === 1) {
    const control = parseKeyValues(files.get('memory.oom_control') ?? '');
    return {
      cgroupVersion: 1,
      oomKills: control.get('oom_kill'),
      limitHits: parseBytes(files.get('memory.failcnt')),
      limitBytes: parseBytes(files.get('memory.limit_in_bytes')),
      usageBytes: parseBytes(files.get('memory.usage_in_bytes')),
      maxUsageBytes: parseBytes(files.get('memory.max_usage_in_bytes')),
    };
  }
  const events = parseKeyValues(files.get('memory.events') ?? '');
  return {
    cgroupVersion: 2,
    oomKills: events.get('oom_kill'),
    limitHits: events.get('max'),
    limitBytes: parseBytes(files.get('memory.max')),
    usageBytes: parseBytes(files.get('memory.current')),
    maxUsageBytes: parseBytes(files.get('memory.peak')),
  };
}

const FILES: Record<1 | 2, readonly string[]> = {
  1: ['memory.oom_control', 'memory.failcnt', 'memory.limit_in_bytes', 'memory.usage_in_bytes', 'memory.max_usage_in_bytes'],
  2: ['memory.events', 'memory.max', 'memory.current', 'memory.peak'],
};

// Reads the container's counters, or undefined when its cgroup is not found (gone with the
// container, or a layout this does not know). Only the host's cgroup file system is read.
export function readMemoryCounters(location: CgroupLocation, root = '/sys/fs/cgroup'): MemoryCounters | undefined {
  // cgroup v2 has one hierarchy: its root holds cgroup.controllers; v1's root is a tmpfs of controllers.
  const version: 1 | 2 = readSmallFile(join(root, 'cgroup.controllers')) !== undefined ? 2 : 1;
  for (const directory of cgroupCandidates(location, version)) {
    const files = new Map<string, string>();
    for (const name of FILES[version]) {
      const content = readSmallFile(join(root, directory, name));
      if (content !== undefined) files.set(name, content);
    }
    if (files.size > 0) return memoryCounters(version, files);
  }
  return undefined;
}

function readSmallFile(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    const buffer = (scratch ??= Buffer.allocUnsafe(MAX_FILE_BYTES));
    let length = 0;
    for (;;) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0 || length + read >= buffer.length) {
        length += read;
        break;
      }
      length += read;
    }
    return buffer.toString('utf8', 0, length);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
