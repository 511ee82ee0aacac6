// What `postmortem.json` in the sandbox says about a task that ended abnormally: the terminal
// update, the status timeline, the last health-check results, the memory counters and limit
// last seen, the OOM kills, the tail of the output and the final inspect. Pure: the caller
// writes it (sandbox-write.ts). Every string passes through `mask` and secret variables' values
// in the inspect are replaced, so that the file never holds a secret.
import type { MemoryCounters } from '../docker/cgroup-memory.js';
import { scrubInspectData } from '../docker/container-inspect.js';
import type { OomSeen } from './terminal-status.js';

export const POSTMORTEM_FILE = 'postmortem.json';
// Health results kept for the post-mortem.
export const HEALTH_RESULTS_KEPT = 5;

export interface TimelineEntry {
  readonly at: string;
  readonly state: string;
  readonly reason?: string | undefined;
  readonly message?: string | undefined;
  readonly healthy?: boolean | undefined;
}

export interface HealthResult {
  readonly at: string;
  readonly healthy: boolean;
  readonly message?: string | undefined;
}

export interface PostmortemInput {
  readonly taskId: string;
  readonly containerName: string;
  readonly containerId: string | undefined;
  readonly terminal: TimelineEntry | undefined;
  readonly labels: ReadonlyArray<{ readonly key?: string | null; readonly value?: string | null }>;
  readonly removedAt: string | undefined;
  readonly timeline: readonly TimelineEntry[];
  readonly healthChecks: readonly HealthResult[];
  readonly memory: { readonly at: string; readonly counters: MemoryCounters } | undefined;
  readonly memoryLimitBytes: number | undefined;
  readonly oom: OomSeen | undefined;
  readonly output: { readonly stdout: string; readonly stderr: string };
  // The final inspect as Docker sent it.
  readonly inspect: Uint8Array | undefined;
  readonly secretNames: ReadonlySet<string>;
}

export function postmortem(input: PostmortemInput, mask: (text: string) => string): string {
  let inspect: unknown = null;
  if (input.inspect) {
    const scrubbed = scrubInspectData(input.inspect, input.secretNames);
    try {
      inspect = JSON.parse(scrubbed);
    } catch {
      inspect = scrubbed;
    }
  }
  const counters = input.memory?.counters;
  const document = {
    task_id: input.taskId,
    container: { name: input.containerName, id: input.containerId ?? null },
    terminal: input.terminal ?? null,
    labels: Object.fromEntries(input.labels.map((label) => [label.key ?? '', label.value ?? ''])),
    removed_at: input.removedAt ?? null,
    timeline: input.timeline,
    health_checks: input.healthChecks,
    memory: {
      limit_bytes: counters?.limitBytes ?? input.memoryLimitBytes ?? null,
      sampled_at: input.memory?.at ?? null,
      cgroup_version: counters?.cgroupVersion ?? null,
      oom_kills: counters?.oomKills ?? null,
      limit_hits: counters?.limitHits ?? null,
      usage_bytes: counters?.usageBytes ?? null,
      max_usage_bytes: counters?.maxUsageBytes ?? null,
    },
    oom: input.oom ? { kills: input.oom.kills, victim: input.oom.victim ?? 'unknown', limit_bytes: input.oom.limitBytes ?? null } : null,
    output_tail: input.output,
    inspect,
  };
  return `${JSON.stringify(masked(document, mask), null, 2)}\n`;
}

// Every string of a JSON value through `mask`, keys included.
function masked(value: unknown, mask: (text: string) => string): unknown {
  if (typeof value === 'string') return mask(value);
  if (Array.isArray(value)) return value.map((item) => masked(item, mask));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [mask(key), masked(item, mask)]));
  }
  return value;
}
