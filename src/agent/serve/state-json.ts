// GET /state: the part of a Mesos agent's /state that this agent has, in its shape (frameworks ->
// executors -> tasks, each task with its state and statuses; timestamps in seconds), plus each
// task's timings, health and sandbox. A task still running is under `executors[].tasks`, an ended
// one under `completed_executors[].completed_tasks`, as in Mesos.
import { isTerminalName, type TaskEntry } from './task-book.js';

export interface AgentIdentity {
  readonly agentId: string;
  readonly frameworkId: string;
  readonly hostname: string;
  readonly ip: string;
  readonly port: number;
  readonly startTimeMs: number;
}

export function stateJson(identity: AgentIdentity, entries: readonly TaskEntry[]): Record<string, unknown> {
  const executor = (entry: TaskEntry) => ({
    id: entry.executor?.executorId ?? entry.taskId,
    name: `Docker executor (Task: ${entry.taskId})`,
    source: entry.taskId,
    container: entry.executor?.containerId ?? null,
    container_name: entry.executor?.containerName ?? null,
    directory: entry.executor?.sandbox ?? null,
    [isTerminalName(entry.state) ? 'completed_tasks' : 'tasks']: [task(identity, entry)],
    [isTerminalName(entry.state) ? 'tasks' : 'completed_tasks']: [],
  });
  return {
    id: identity.agentId,
    hostname: identity.hostname,
    pid: `slave(1)@${identity.ip}:${identity.port}`,
    start_time: identity.startTimeMs / 1000,
    frameworks: [{
      id: identity.frameworkId,
      name: 'local-agent',
      executors: entries.filter((entry) => !isTerminalName(entry.state)).map(executor),
      completed_executors: entries.filter((entry) => isTerminalName(entry.state)).map(executor),
    }],
  };
}

function task(identity: AgentIdentity, entry: TaskEntry): Record<string, unknown> {
  const seconds = (ms: number | undefined) => (ms === undefined ? null : ms / 1000);
  return {
    id: entry.taskId,
    name: entry.name,
    framework_id: identity.frameworkId,
    executor_id: entry.executor?.executorId ?? entry.taskId,
    slave_id: identity.agentId,
    state: entry.state,
    ...(entry.healthy !== undefined ? { healthy: entry.healthy } : {}),
    ...(entry.message !== undefined ? { message: entry.message } : {}),
    ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
    statuses: entry.updates.map((update) => ({
      state: update.state,
      timestamp: update.timestamp / 1000,
      ...(update.healthy !== undefined ? { healthy: update.healthy } : {}),
      ...(update.message !== undefined ? { message: update.message } : {}),
      ...(update.reason !== undefined ? { reason: update.reason } : {}),
      ...(update.source !== undefined ? { source: update.source } : {}),
    })),
    submitted_at: seconds(entry.submittedAt),
    launched_at: seconds(entry.launchedAt),
    running_at: seconds(entry.runningAt),
    ended_at: seconds(entry.endedAt),
    sandbox: entry.executor?.sandbox ?? null,
    container_name: entry.executor?.containerName ?? null,
  };
}
