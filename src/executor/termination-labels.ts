// The facts of a container's end as TaskStatus labels, so that a framework reads the exit code,
// the signal, who stopped it and when without parsing the message. Keys: docs/terminal-status.md.
import type { mesos } from '../proto/generated/mesos.js';
import { signalName } from './signals.js';
import type { ContainerExit } from './terminal-status.js';

// Who ended the container: its own exit, or which stop.
export type StoppedBy =
  | 'task-exit' | 'kill' | 'health-check' | 'max-completion' | 'oom' | 'daemon' | 'external-stop' | 'shutdown' | 'agent-lost';

export const LABEL_PREFIX = 'termination.';

export function terminationLabels(exit: ContainerExit, stoppedBy: StoppedBy, oomKills: number, limitBytes?: number): mesos.v1.ILabels {
  const entries: Array<[string, string | undefined]> = [
    ['stopped_by', stoppedBy],
    ['exit_code', String(exit.exitCode)],
    ['signal', exitSignal(exit.exitCode)],
    ['oom_kills', oomKills > 0 ? String(oomKills) : undefined],
    ['memory_limit_bytes', limitBytes ?? exit.memoryLimitBytes ? String(limitBytes ?? exit.memoryLimitBytes) : undefined],
    ['created_at', dockerTime(exit.createdAt)],
    ['started_at', dockerTime(exit.startedAt)],
    ['finished_at', dockerTime(exit.finishedAt)],
  ];
  return { labels: entries.filter((entry): entry is [string, string] => entry[1] !== undefined).map(([key, value]) => ({ key: LABEL_PREFIX + key, value })) };
}

// A shell's convention: status 128 + n is death by signal n.
export function exitSignal(code: number): string | undefined {
  if (code <= 128 || code >= 160) return undefined;
  return signalName(code - 128) ?? String(code - 128);
}

// Docker's "never" (0001-01-01) and anything unparsable are left out.
function dockerTime(value: string | undefined): string | undefined {
  if (!value || value.startsWith('0001-01-01')) return undefined;
  return Number.isFinite(Date.parse(value)) ? value : undefined;
}
