// Which executor process owns a container, written into its labels at creation, and whether that
// owner still lives: same host, same boot, a process with that pid started at that same moment
// (so a reused pid is not mistaken for the owner).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { ownContainerId, ownPidNamespace } from './own-container.js';

export const OWNER_LABELS = {
  host: 'org.apache.mesos.executor_host',
  bootId: 'org.apache.mesos.executor_boot_id',
  pid: 'org.apache.mesos.executor_pid',
  start: 'org.apache.mesos.executor_start',
} as const;

// Where the owning executor keeps its checkpoint, whose age tells the orphan sweep how long ago
// that executor died (whatever --state_dir the sweeping one was given).
export const STATE_DIRECTORY_LABEL = 'org.apache.mesos.executor_state_dir';

// Where the owner's pid means something: its PID namespace, and the Docker container it runs in
// when it runs in one (the orphan sweep asks Docker about that container; see orphan-sweep.ts).
export const PID_NAMESPACE_LABEL = 'org.apache.mesos.executor_pid_namespace';
export const EXECUTOR_CONTAINER_LABEL = 'org.apache.mesos.executor_container_id';

export interface Host {
  readonly hostname: string;
  readonly bootId: string;
  // Start time of a live process (clock ticks since boot), undefined when there is none.
  processStart(pid: number): string | undefined;
  // This process's PID namespace (`pid:[...]`) and the Docker container it runs in, when known.
  readonly pidNamespace?: string;
  readonly containerId?: string | undefined;
}

export const thisHost: Host = {
  hostname: hostname(),
  bootId: readBootId(),
  processStart,
  pidNamespace: ownPidNamespace(),
  containerId: ownContainerId(),
};

export function ownerLabels(host: Host = thisHost, pid = process.pid): Record<string, string> {
  return {
    [OWNER_LABELS.host]: host.hostname,
    [OWNER_LABELS.bootId]: host.bootId,
    [OWNER_LABELS.pid]: String(pid),
    [OWNER_LABELS.start]: host.processStart(pid) ?? '',
    ...(host.pidNamespace ? { [PID_NAMESPACE_LABEL]: host.pidNamespace } : {}),
    ...(host.containerId ? { [EXECUTOR_CONTAINER_LABEL]: host.containerId } : {}),
  };
}

export type Ownership = 'alive' | 'gone' | 'elsewhere' | 'unowned';

export function ownership(labels: Readonly<Record<string, string>>, host: Host = thisHost): Ownership {
  const pid = Number(labels[OWNER_LABELS.pid]);
  if (!Number.isInteger(pid) || pid <= 0) return 'unowned';
  // Another machine's executor (a shared daemon) is not ours to judge.
  if (labels[OWNER_LABELS.host] !== undefined && labels[OWNER_LABELS.host] !== host.hostname) return 'elsewhere';
  if (labels[OWNER_LABELS.bootId] && labels[OWNER_LABELS.bootId] !== host.bootId) return 'gone';
  const start = host.processStart(pid);
  if (start === undefined) return 'gone';
  const recorded = labels[OWNER_LABELS.start];
  return recorded && recorded !== start ? 'gone' : 'alive';
}

function readBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

// A dead process that nobody reaped (an executor reparented to a pid 1 that does not reap stays
// a zombie) has no start: it is gone.
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' || fields[0] === 'X' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

// Whether a process lives: that pid, not a zombie, and (when known) started at that moment, so a
// reused pid is another process.
export function processLives(pid: number, start?: string, host: Host = thisHost): boolean {
  const actual = host.processStart(pid);
  return actual !== undefined && (!start || actual === start);
}

// The labels that say which task a container runs for. An executor adopts a container only when
// every one of them that it knows matches: a name alone (or a checkpoint) proves nothing.
const IDENTITY_LABELS = {
  frameworkId: 'org.apache.mesos.framework_id',
  executorId: 'org.apache.mesos.executor_id',
  taskId: 'org.apache.mesos.task_id',
  agentId: 'org.apache.mesos.agent_id',
  containerId: 'org.apache.mesos.container_id',
  sandbox: 'org.apache.mesos.sandbox',
} as const;

// Which task a container runs for; a part left out is neither labelled nor compared.
export type TaskIdentity = { readonly [part in keyof typeof IDENTITY_LABELS]?: string | undefined };

// The identity labels of a container, for the parts given.
export function identityLabels(identity: TaskIdentity): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [part, label] of Object.entries(IDENTITY_LABELS)) {
    const value = identity[part as keyof TaskIdentity];
    if (value !== undefined) labels[label] = value;
  }
  return labels;
}

// The first identity label that differs, or undefined when the container is this task's.
export function identityMismatch(actual: Readonly<Record<string, string>> | null | undefined, expected: Readonly<Record<string, string>>): string | undefined {
  for (const key of Object.values(IDENTITY_LABELS)) {
    if (expected[key] === undefined) continue;
    if (actual?.[key] !== expected[key]) return key;
  }
  return undefined;
}
