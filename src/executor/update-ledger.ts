// Status updates sent but not yet acknowledged by the agent, in the order they were made. They
// are resent in the next SUBSCRIBE; an acknowledged update is never sent again.
import type { mesos } from '../proto/generated/mesos.js';
import { isTerminalState } from './task-states.js';

export type Update = mesos.v1.executor.Call.IUpdate & { status: mesos.v1.ITaskStatus };

export class UpdateLedger {
  private readonly pending = new Map<string, Update>();
  private readonly acknowledgedTasks = new Set<string>();

  add(update: Update): void {
    this.pending.set(uuidKey(update.status.uuid), update);
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

export function uuidKey(uuid: Uint8Array | null | undefined): string {
  return uuid ? Buffer.from(uuid).toString('hex') : '';
}
