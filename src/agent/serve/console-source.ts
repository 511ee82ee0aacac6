export interface TaskView { taskId: string; executorId: string; state: string /* TASK_* */; healthy?: boolean; message?: string; reason?: string; sandbox: string; submittedAt: number; runningAt?: number; endedAt?: number; updates: Array<{ state: string; healthy?: boolean; message?: string; reason?: string; source?: string; timestamp: number }> }
export interface ConsoleSource {
  tasks(): TaskView[];
  onChange(listener: (task: TaskView) => void): () => void; // a new task or a new update; returns unsubscribe
  sandboxOf(taskId: string): string | undefined;
  kill(taskId: string, gracePeriodMs?: number): boolean;
}
