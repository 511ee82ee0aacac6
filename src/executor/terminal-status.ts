// Decides the one terminal update of a task from how its container ended and why, if it was
// killed. Pure, so that each outcome is a table test.
import { signalName } from './signals.js';
import { mesos } from '../proto/generated/mesos.js';

const { TaskState } = mesos.v1;
const { Reason } = mesos.v1.TaskStatus;

export type KillCause = 'framework' | 'shutdown' | 'max-completion' | 'health-check' | 'agent-lost';

export interface ContainerExit {
  readonly exitCode: number;
  readonly oomKilled: boolean;
  // Docker's own error for the exit (e.g. it could not start the process), if any.
  readonly error?: string | undefined;
  readonly memoryLimitBytes?: number | undefined;
  // The exit was seen only after the Docker daemon went away and came back.
  readonly daemonStopped?: boolean | undefined;
  // A signal someone else (docker stop/kill by hand, a daemon shutdown) sent to the container.
  readonly stoppedBy?: string | undefined;
}

export interface KillRecord {
  readonly cause: KillCause;
  readonly stopSignal: string;
  readonly sigkillSent: boolean;
  readonly graceMs: number;
  // Why the kill was decided, when the cause alone does not say (the failing health check).
  readonly detail?: string | undefined;
}

export interface TerminalFields {
  readonly state: number;
  readonly message: string;
  readonly reason?: number;
  // Set on a kill by the health check (spec 3.8).
  readonly healthy?: boolean;
}

export function terminalStatus(exit: ContainerExit, kill: KillRecord | undefined): TerminalFields {
  const how = describeExit(exit.exitCode);
  if (exit.oomKilled) {
    const limit = exit.memoryLimitBytes ? ` of ${Math.round(exit.memoryLimitBytes / (1024 * 1024))} MB` : '';
    return {
      state: TaskState.TASK_FAILED,
      reason: Reason.REASON_CONTAINER_LIMITATION_MEMORY,
      message: `Container was killed by the kernel's OOM killer for exceeding its memory limit${limit} (${how})`,
    };
  }
  if (kill?.cause === 'max-completion') {
    return {
      state: TaskState.TASK_FAILED,
      reason: Reason.REASON_MAX_COMPLETION_TIME_REACHED,
      message: `Task reached its max_completion_time and was killed: container ${how}`,
    };
  }
  if (kill) {
    const signal = kill.sigkillSent
      ? kill.graceMs > 0 && kill.stopSignal !== 'SIGKILL'
        ? `SIGKILL after the ${formatGrace(kill.graceMs)} grace period (it did not stop on ${kill.stopSignal})`
        : 'SIGKILL'
      : kill.stopSignal;
    return {
      state: TaskState.TASK_KILLED,
      message: `Container ${killVerb(kill.cause)} with ${signal}: it ${how}${kill.detail ? `; ${kill.detail}` : ''}`,
      ...(kill.cause === 'health-check' ? { healthy: false } : {}),
    };
  }
  if (exit.daemonStopped) {
    return {
      state: TaskState.TASK_FAILED,
      message: `Container was stopped while the Docker daemon restarted: it ${how}`,
    };
  }
  if (exit.stoppedBy) {
    return {
      state: TaskState.TASK_FAILED,
      message: `Container was stopped from outside the executor with ${exit.stoppedBy} (docker stop or kill, or a Docker daemon shutdown): it ${how}`,
    };
  }
  if (exit.exitCode === 0) {
    return { state: TaskState.TASK_FINISHED, message: 'Container exited with status 0' };
  }
  const detail = exit.error ? `: ${exit.error}` : '';
  return { state: TaskState.TASK_FAILED, message: `Container ${how}${detail}` };
}

function killVerb(cause: KillCause): string {
  switch (cause) {
    case 'framework':
      return 'killed on request';
    case 'shutdown':
      return 'stopped for executor shutdown';
    case 'health-check':
      return 'killed after failing its health check';
    case 'agent-lost':
      return 'stopped because the agent was lost';
    case 'max-completion':
      return 'killed at its max_completion_time';
  }
}

function describeExit(code: number): string {
  if (code > 128 && code < 160) {
    const name = signalName(code - 128);
    return `exited with status ${code}${name ? ` (${name})` : ''}`;
  }
  return `exited with status ${code}`;
}

function formatGrace(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
