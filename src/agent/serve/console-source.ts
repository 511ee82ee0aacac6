// What the live console reads and does, over the serve agent's TaskBook: the tasks as views, a
// change feed, the sandbox of a task (to tail its stdout and stderr) and kill. Times are
// milliseconds since the epoch.
import type { TaskEntry } from './task-book.js';
import type { ServeAgent } from './serve-agent.js';

export interface TaskView {
  taskId: string;
  executorId: string;
  state: string; // TASK_*
  healthy?: boolean;
  message?: string;
  reason?: string;
  sandbox: string;
  submittedAt: number;
  runningAt?: number;
  endedAt?: number;
  updates: Array<{ state: string; healthy?: boolean; message?: string; reason?: string; source?: string; timestamp: number }>;
}

export interface ConsoleSource {
  tasks(): TaskView[];
  // A new task or a new update; returns the unsubscribe.
  onChange(listener: (task: TaskView) => void): () => void;
  sandboxOf(taskId: string): string | undefined;
  kill(taskId: string, gracePeriodMs?: number): boolean;
}

export function taskView(entry: TaskEntry): TaskView {
  return {
    taskId: entry.taskId,
    executorId: entry.executor?.executorId ?? entry.taskId,
    state: entry.state,
    ...(entry.healthy !== undefined ? { healthy: entry.healthy } : {}),
    ...(entry.message !== undefined ? { message: entry.message } : {}),
    ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
    // Empty until the sandbox exists (the task is being fetched).
    sandbox: entry.executor?.sandbox ?? '',
    submittedAt: entry.submittedAt,
    ...(entry.runningAt !== undefined ? { runningAt: entry.runningAt } : {}),
    ...(entry.endedAt !== undefined ? { endedAt: entry.endedAt } : {}),
    updates: entry.updates.map(({ uuid: _uuid, ...update }) => ({ ...update })),
  };
}

export function consoleSource(serve: ServeAgent): ConsoleSource {
  return {
    tasks: () => serve.book.all().map(taskView),
    onChange: (listener) => serve.book.onChange((entry) => listener(taskView(entry))),
    sandboxOf: (taskId) => serve.book.get(taskId)?.executor?.sandbox,
    kill: (taskId, gracePeriodMs) => serve.kill(taskId, gracePeriodMs) === 'sent',
  };
}
