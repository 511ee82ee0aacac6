// What the serve agent knows of each task it was given: its state, health, every status update in
// the order they arrived (a resent update, same uuid, once), its executor and sandbox, and when it
// was submitted, launched, running and ended. The HTTP API, the console and the checkpoint read it;
// nothing here does I/O beyond telling listeners of a change.
import { mesos } from '../../proto/generated/mesos.js';
import { isTerminalState, stateName } from '../../executor/task-states.js';

export interface TaskUpdate {
  readonly state: string;
  readonly healthy?: boolean;
  readonly message?: string;
  readonly reason?: string;
  readonly source?: string;
  // Milliseconds since the epoch (the status's own timestamp).
  readonly timestamp: number;
  // Hex of the status uuid; none for an update the agent made up without one.
  readonly uuid?: string;
}

// Where a task's executor runs: known once it is launched.
export interface TaskExecutor {
  readonly executorId: string;
  readonly containerId: string;
  readonly containerName: string;
  readonly sandbox: string;
  // The executor process (pid and its start time in clock ticks since boot, to tell a reused pid).
  readonly pid?: number;
  readonly pidStart?: string;
  // An executor in a Docker container (a framework's image, or --docker_mesos_image): its name,
  // and its Docker id once created. A restarted agent finds it by these, not by a pid.
  readonly container?: { readonly name: string; readonly id?: string };
}

export interface TaskEntry {
  readonly taskId: string;
  readonly name: string;
  state: string;
  healthy?: boolean;
  message?: string;
  reason?: string;
  executor?: TaskExecutor;
  readonly submittedAt: number;
  launchedAt?: number;
  runningAt?: number;
  endedAt?: number;
  readonly updates: TaskUpdate[];
}

// Before any update, a task is staged (as Mesos reports a task not yet started by its executor).
export const STAGING = 'TASK_STAGING';

export class DuplicateTaskError extends Error {
  constructor(taskId: string) {
    super(`Task '${taskId}' was submitted already: task ids are unique`);
    this.name = 'DuplicateTaskError';
  }
}

export function isTerminalName(state: string): boolean {
  const value = (mesos.v1.TaskState as unknown as Record<string, number | undefined>)[state];
  return isTerminalState(value);
}

// A TaskStatus as the book keeps it: the fields a reader shows, without `data` (which carries the
// container's inspect and stays out of the checkpoint).
export function taskUpdate(status: mesos.v1.ITaskStatus, nowMs = Date.now()): TaskUpdate {
  // A decoded message has its proto2 defaults on the prototype: only own fields were sent.
  const sent = (field: keyof mesos.v1.ITaskStatus): boolean => Object.hasOwn(status, field) && status[field] != null;
  const reason = sent('reason') ? (mesos.v1.TaskStatus.Reason as unknown as Record<number, string | undefined>)[status.reason!] : undefined;
  const source = sent('source') ? (mesos.v1.TaskStatus.Source as unknown as Record<number, string | undefined>)[status.source!] : undefined;
  const uuid = status.uuid && status.uuid.length > 0 ? Buffer.from(status.uuid).toString('hex') : undefined;
  return {
    state: stateName(status.state),
    ...(sent('healthy') ? { healthy: status.healthy! } : {}),
    ...(status.message ? { message: status.message } : {}),
    ...(reason ? { reason } : {}),
    ...(source ? { source } : {}),
    timestamp: sent('timestamp') ? Math.round(Number(status.timestamp) * 1000) : nowMs,
    ...(uuid ? { uuid } : {}),
  };
}

export class TaskBook {
  private readonly entries = new Map<string, TaskEntry>();
  private readonly listeners = new Set<(entry: TaskEntry) => void>();

  constructor(restored: readonly TaskEntry[] = []) {
    for (const entry of restored) this.entries.set(entry.taskId, entry);
  }

  submit(taskId: string, name: string, nowMs = Date.now()): TaskEntry {
    if (this.entries.has(taskId)) throw new DuplicateTaskError(taskId);
    const entry: TaskEntry = { taskId, name, state: STAGING, submittedAt: nowMs, updates: [] };
    this.entries.set(taskId, entry);
    this.changed(entry);
    return entry;
  }

  launched(taskId: string, executor: TaskExecutor, nowMs = Date.now()): void {
    const entry = this.require(taskId);
    entry.executor = executor;
    entry.launchedAt = nowMs;
    this.changed(entry);
  }

  // Records an update; false when it is a resend of one recorded already (same uuid) or when the
  // task ended already (exactly one terminal update per task).
  record(taskId: string, update: TaskUpdate): boolean {
    const entry = this.require(taskId);
    if (update.uuid && entry.updates.some((seen) => seen.uuid === update.uuid)) return false;
    if (entry.endedAt !== undefined) return false;
    entry.updates.push(update);
    entry.state = update.state;
    if (update.healthy !== undefined) entry.healthy = update.healthy;
    entry.message = update.message;
    entry.reason = update.reason;
    if (update.state === 'TASK_RUNNING' && entry.runningAt === undefined) entry.runningAt = update.timestamp;
    if (isTerminalName(update.state)) entry.endedAt = update.timestamp;
    this.changed(entry);
    return true;
  }

  get(taskId: string): TaskEntry | undefined {
    return this.entries.get(taskId);
  }

  all(): TaskEntry[] {
    return [...this.entries.values()];
  }

  // Listens for a new task or a change to one; returns the unsubscribe.
  onChange(listener: (entry: TaskEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private require(taskId: string): TaskEntry {
    const entry = this.entries.get(taskId);
    if (!entry) throw new Error(`No task '${taskId}'`);
    return entry;
  }

  private changed(entry: TaskEntry): void {
    for (const listener of [...this.listeners]) listener(entry);
  }
}
