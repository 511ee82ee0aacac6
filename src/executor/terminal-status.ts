// Decides the one terminal update of a task from how its container ended, why if it was killed,
// and whether the kernel's OOM killer struck in it: the state, reason and message, and the same
// facts as labels a framework reads without parsing text (docs/terminal-status.md). Pure, so
// that each outcome is a table test.
import { signalName } from './signals.js';
import { mesos } from '../proto/generated/mesos.js';
import { terminationLabels, type StoppedBy } from './termination-labels.js';

const { TaskState } = mesos.v1;
const { Reason } = mesos.v1.TaskStatus;

export type KillCause = 'framework' | 'shutdown' | 'max-completion' | 'health-check' | 'agent-lost' | 'oom';

// An OOM kill in the container, as the executor saw it happen (the `oom` event, the cgroup's counters).
export interface OomSeen {
  // OOM kills counted in the container when it was seen (at least 1).
  readonly kills: number;
  // Whether the victim was the container's main process, when that is known.
  readonly victim: 'main' | 'other' | undefined;
  readonly limitBytes?: number | undefined;
}

// What else is known about the end beyond the exit and the kill.
export interface EndContext {
  readonly oom?: OomSeen | undefined;
  // The last line or two of the container's stderr, bounded and with secrets masked.
  readonly stderrTail?: string | undefined;
}

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
  // OOM kills the daemon's events or the cgroup's counters recorded for the container.
  readonly oomKills?: number | undefined;
  // From the final inspect, as Docker gives them (RFC 3339).
  readonly createdAt?: string | undefined;
  readonly startedAt?: string | undefined;
  readonly finishedAt?: string | undefined;
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
  readonly labels: mesos.v1.ILabels;
  // The memory limit the container hit, as Mesos's memory isolator reports it.
  readonly limitation?: mesos.v1.ITaskResourceLimitation;
}

const MB = 1024 * 1024;

export function terminalStatus(exit: ContainerExit, kill: KillRecord | undefined, context: EndContext = {}): TerminalFields {
  const decided = decide(exit, kill, context);
  return { ...decided.fields, labels: terminationLabels(exit, decided.stoppedBy, decided.oomKills, context.oom?.limitBytes) };
}

function decide(exit: ContainerExit, kill: KillRecord | undefined, context: EndContext): { fields: Omit<TerminalFields, 'labels'>; stoppedBy: StoppedBy; oomKills: number } {
  const oomKills = Math.max(context.oom?.kills ?? 0, exit.oomKills ?? 0, exit.oomKilled || context.oom ? 1 : 0);
  if (oomKills > 0) return { fields: oomStatus(exit, kill, context.oom, oomKills), stoppedBy: 'oom', oomKills };
  const fields = notOom(exit, kill, context.stderrTail);
  const stoppedBy: StoppedBy = kill
    ? kill.cause === 'framework' ? 'kill' : kill.cause
    : exit.daemonStopped ? 'daemon' : exit.stoppedBy ? 'external-stop' : 'task-exit';
  return { fields, stoppedBy, oomKills };
}

// Like Mesos's memory isolator: the container is failed for its memory limit whichever of its
// processes the kernel chose, and the message says which one when that is known.
function oomStatus(exit: ContainerExit, kill: KillRecord | undefined, oom: OomSeen | undefined, kills: number): Omit<TerminalFields, 'labels'> {
  const how = describeExit(exit.exitCode);
  const limitBytes = oom?.limitBytes ?? exit.memoryLimitBytes;
  const limit = limitBytes ? ` of ${Math.round(limitBytes / MB)} MB` : '';
  const destroyed = kill?.cause === 'oom';
  // Seen only at the end: a main process that was SIGKILLed without us asking was the victim.
  const victim = oom?.victim ?? (!kill && exit.exitCode === 137 ? 'main' : !kill && exit.exitCode !== 137 ? 'other' : undefined);
  const count = `${kills} OOM kill${kills === 1 ? '' : 's'} in the container`;
  const whom = victim === 'main'
    ? "the container's main process"
    : victim === 'other'
      ? "a process other than the container's main process (which was still running)"
      : 'a process in the container';
  const after = destroyed
    ? `; the executor destroyed the container at the OOM: it ${how}`
    : victim === 'other' && !kill ? `; the main process then ${how}` : `; the container ${how}`;
  return {
    state: TaskState.TASK_FAILED,
    reason: Reason.REASON_CONTAINER_LIMITATION_MEMORY,
    message: `Container was killed by the kernel's OOM killer for exceeding its memory limit${limit}: it killed ${whom} (${count})${after}`,
    ...(limitBytes ? { limitation: { resources: [{ name: 'mem', type: mesos.v1.Value.Type.SCALAR, scalar: { value: Math.round(limitBytes / MB) } }] } } : {}),
  };
}

function notOom(exit: ContainerExit, kill: KillRecord | undefined, stderrTail: string | undefined): Omit<TerminalFields, 'labels'> {
  const how = describeExit(exit.exitCode);
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
  // It failed on its own: its last words say why far better than the status does.
  const said = stderrTail ? `; its stderr ends: ${JSON.stringify(stderrTail)}` : '';
  return { state: TaskState.TASK_FAILED, message: `Container ${how}${detail}${said}` };
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
    case 'oom':
      return 'destroyed after an OOM kill';
  }
}

export function describeExit(code: number): string {
  if (code > 128 && code < 160) {
    const name = signalName(code - 128);
    return `exited with status ${code}${name ? ` (${name})` : ''}`;
  }
  return `exited with status ${code}`;
}

function formatGrace(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
