// Status updates sent but not yet acknowledged by the agent, in the order they were made. They
// are resent in the next SUBSCRIBE; an acknowledged update is never sent again. Bounded under a
// flood (a check failing back to back while the agent does not acknowledge): an update identical
// in effect to its task's latest pending one is coalesced, and each task keeps at most
// MAX_PENDING_PER_TASK non-terminal updates, the oldest giving way to later ones.
import { mesos } from '../proto/generated/mesos.js';
import { isTerminalState } from './task-states.js';

export type Update = mesos.v1.executor.Call.IUpdate & { status: mesos.v1.ITaskStatus };

// Far beyond what a task reports between two acknowledgements; only a flood reaches it.
export const MAX_PENDING_PER_TASK = 256;

export class UpdateLedger {
  private readonly pending = new Map<string, Update>();
  private readonly acknowledgedTasks = new Set<string>();

  // False when the update was coalesced: its task's latest pending update says the same.
  add(update: Update): boolean {
    const taskId = update.status.task_id?.value;
    const mine = [...this.pending.values()].filter((pending) => pending.status.task_id?.value === taskId);
    const latest = mine.at(-1);
    if (latest && sameEffect(latest.status, update.status)) return false;
    this.pending.set(uuidKey(update.status.uuid), update);
    // A dropped update is superseded by this later one of the same task; a terminal one never goes.
    const nonTerminal = mine.filter((pending) => !isTerminalState(pending.status.state));
    const excess = nonTerminal.length + (isTerminalState(update.status.state) ? 0 : 1) - MAX_PENDING_PER_TASK;
    for (const dropped of nonTerminal.slice(0, Math.max(0, excess))) this.pending.delete(uuidKey(dropped.status.uuid));
    return true;
  }

  // Returns the acknowledged update, or undefined for a uuid this executor is not waiting on.
  acknowledge(uuid: Uint8Array | null | undefined): Update | undefined {
    const key = uuidKey(uuid);
    const update = this.pending.get(key);
    if (!update) return undefined;
    this.pending.delete(key);
    const taskId = update.status.task_id?.value;
    if (taskId != null) this.acknowledgedTasks.add(taskId);
    return update;
  }

  unacknowledged(): Update[] {
    return [...this.pending.values()];
  }

  isTaskAcknowledged(taskId: string): boolean {
    return this.acknowledgedTasks.has(taskId);
  }

  // For a restored checkpoint: tasks that had an update acknowledged before.
  markAcknowledged(taskId: string): void {
    this.acknowledgedTasks.add(taskId);
  }

  acknowledgedTaskIds(): string[] {
    return [...this.acknowledgedTasks];
  }

  hasUnacknowledgedTerminal(): boolean {
    return [...this.pending.values()].some((update) => isTerminalState(update.status.state));
  }

  get size(): number {
    return this.pending.size;
  }
}

// The same status but for its uuid and timestamp: sending it again would tell the agent nothing.
export function sameEffect(a: mesos.v1.ITaskStatus, b: mesos.v1.ITaskStatus): boolean {
  return effectKey(a) === effectKey(b);
}

// A repeated check result tells the agent nothing new while one of the same state and health is
// still unacknowledged, even if its message counts the attempts.
const { Reason } = mesos.v1.TaskStatus;
const CHECK_REASONS = new Set<number>([Reason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED, Reason.REASON_TASK_CHECK_STATUS_UPDATED]);

function effectKey(status: mesos.v1.ITaskStatus): string {
  const { uuid: _uuid, timestamp: _timestamp, ...effect } = status;
  if (CHECK_REASONS.has(Number(status.reason))) delete effect.message;
  return JSON.stringify(effect, (_key, value: unknown) => {
    if (value instanceof Uint8Array) return `bytes:${Buffer.from(value).toString('hex')}`;
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
      return `bytes:${Buffer.from((value as { data: number[] }).data).toString('hex')}`;
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      // Key order must not matter (a restored checkpoint may list fields in another order); unset is absent.
      return Object.fromEntries(Object.entries(value).filter(([, v]) => v != null).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
    }
    return value;
  });
}

export function uuidKey(uuid: Uint8Array | null | undefined): string {
  return uuid ? Buffer.from(uuid).toString('hex') : '';
}
