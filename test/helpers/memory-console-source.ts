// An in-memory ConsoleSource for the console's tests: tasks whose sandboxes are real directories
// under one root, changed by the test, and the kills the console asked for.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ConsoleSource, TaskView } from '../../src/agent/serve/console-source.js';

export class MemoryConsoleSource implements ConsoleSource {
  readonly views = new Map<string, TaskView>();
  readonly kills: Array<{ taskId: string; gracePeriodMs?: number }> = [];
  private readonly listeners = new Set<(task: TaskView) => void>();
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  add(taskId: string, state = 'TASK_STARTING', extra: Partial<TaskView> = {}): TaskView {
    const sandbox = join(this.root, taskId);
    mkdirSync(sandbox, { recursive: true });
    const view: TaskView = { taskId, executorId: taskId, state, sandbox, submittedAt: Date.now(), updates: [{ state, timestamp: Date.now() }], ...extra };
    this.set(view);
    return view;
  }

  // A new update; the history keeps the last `keep` of them.
  update(taskId: string, state: string, extra: Partial<TaskView> = {}, keep = Infinity): void {
    const view = { ...this.views.get(taskId)!, state, ...extra };
    view.updates = [...view.updates, { state, timestamp: Date.now(), ...(extra.healthy !== undefined ? { healthy: extra.healthy } : {}) }].slice(-keep);
    this.set(view);
  }

  tasks(): TaskView[] {
    return [...this.views.values()];
  }

  onChange(listener: (task: TaskView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  sandboxOf(taskId: string): string | undefined {
    // An empty sandbox: the task's URIs are still being fetched.
    return this.views.get(taskId)?.sandbox || undefined;
  }

  kill(taskId: string, gracePeriodMs?: number): boolean {
    this.kills.push({ taskId, gracePeriodMs });
    return true;
  }

  private set(view: TaskView): void {
    this.views.set(view.taskId, view);
    for (const listener of this.listeners) listener(view);
  }
}
