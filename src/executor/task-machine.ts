// The task's lifecycle as data: a pure step(state, event, now) that returns the next state and
// the effects to perform (Docker calls, updates, timers), which the task runner performs and
// answers with further events. Every path is a table test; the one terminal fact lives in
// `terminal`, set once by finish().
//
//   launching -> validating -> pulling -> creating -> starting -> running -> exited -> removing -> done
//   adopting ------------------------------------^ (a container an earlier executor started)
//
// A kill is orthogonal to the phase: before the start it ends the launch (killed during launch);
// after it, the stop signal goes out and SIGKILL follows at the deadline. An OOM kill in the
// container is a kill without grace (Mesos's memory isolator destroys the container at the OOM)
// and decides the terminal update whatever else happened.
import { formatDuration } from '../config/duration.js';
import { mesos } from '../proto/generated/mesos.js';
import type { StatusFields } from './task-status.js';
import { terminalStatus, type ContainerExit, type KillCause, type OomSeen } from './terminal-status.js';

const { TaskState } = mesos.v1;
const { Reason } = mesos.v1.TaskStatus;

export type Phase = 'launching' | 'validating' | 'pulling' | 'creating' | 'starting' | 'adopting' | 'running' | 'exited' | 'removing' | 'done';

export type TimerName = 'completion' | 'sigkill' | 'kill-confirm';

export interface Kill {
  readonly cause: KillCause;
  readonly graceMs: number;
  // When SIGKILL is due, in epoch milliseconds.
  readonly deadline: number;
  readonly stopSignalSent: boolean;
  readonly sigkillSent: boolean;
  // Why the health check killed the task, for its terminal update.
  readonly detail?: string | undefined;
}

export interface TaskSettings {
  // The framework can take TASK_KILLING.
  readonly taskKillingCapable: boolean;
  // max_completion_time, when the task has one.
  readonly maxCompletionMs: number | undefined;
  // How long after SIGKILL the daemon may take to show the exit before we stop waiting.
  readonly killConfirmMs: number;
}

export interface TaskMachineState {
  readonly phase: Phase;
  readonly settings: TaskSettings;
  readonly containerId: string | undefined;
  // The container's process was started (by this executor or an earlier one).
  readonly started: boolean;
  // The image's stop signal, once the container's inspect says it.
  readonly stopSignal: string;
  readonly kill: Kill | undefined;
  readonly runningReported: boolean;
  readonly exit: (ContainerExit & { readonly inspect?: Buffer | undefined }) | undefined;
  // An OOM kill seen in the container while the task ran.
  readonly oom: OomSeen | undefined;
  // The one terminal update, once decided.
  readonly terminal: StatusFields | undefined;
}

// Where a restarted executor found its predecessor's container.
export type AdoptionFinding =
  | { readonly found: 'gone' }
  | { readonly found: 'foreign'; readonly name: string }
  | { readonly found: 'created'; readonly containerId: string }
  | { readonly found: 'started'; readonly containerId: string; readonly startedAtMs: number | undefined };

export type LaunchStage = 'create' | 'attach' | 'start';

export type TaskEvent =
  | { readonly type: 'launch' }
  // lastState: the last state the earlier executor reported (its terminal one, if it did).
  | { readonly type: 'adopt'; readonly finding: AdoptionFinding; readonly name: string; readonly lastState: number | undefined; readonly terminalReported: boolean; readonly kill?: Kill | undefined }
  | { readonly type: 'invalid'; readonly fields: StatusFields }
  | { readonly type: 'validated' }
  | { readonly type: 'image-ready' }
  | { readonly type: 'image-failed'; readonly cancelled: boolean; readonly fields: StatusFields }
  | { readonly type: 'created'; readonly containerId: string }
  | { readonly type: 'launch-failed'; readonly stage: LaunchStage; readonly fields: StatusFields }
  | { readonly type: 'watching' }
  | { readonly type: 'started' }
  // The container's inspect after the start (or at adoption); undefined fields when it failed.
  | { readonly type: 'inspected'; readonly stopSignal: string | undefined; readonly hasStarted: boolean; readonly running: StatusFields | undefined }
  | { readonly type: 'kill'; readonly graceMs: number; readonly cause: KillCause; readonly detail?: string | undefined }
  | { readonly type: 'timer'; readonly name: TimerName }
  | { readonly type: 'exited'; readonly exit: ContainerExit & { readonly inspect?: Buffer | undefined } }
  | { readonly type: 'exit-unknown'; readonly message: string }
  // stderrTail: the container's last words on stderr, for a failure of its own.
  | { readonly type: 'output-drained'; readonly stderrTail?: string | undefined }
  // The kernel's OOM killer struck in the container (the `oom` event, or the cgroup's counters).
  | { readonly type: 'oom'; readonly oom: OomSeen }
  // A health or check result to report while the task runs.
  | { readonly type: 'check-update'; readonly fields: StatusFields }
  | { readonly type: 'removed' }
  | { readonly type: 'failed'; readonly message: string };

export type TaskEffect =
  | { readonly type: 'report'; readonly fields: StatusFields }
  | { readonly type: 'validate' }
  | { readonly type: 'pull' }
  | { readonly type: 'abort-pull' }
  | { readonly type: 'create' }
  // Output stream and exit watch: an attach and a wait for the next exit before a start, or the
  // log (replayed past what the sandbox holds) and a wait while not running for an adoption.
  | { readonly type: 'watch'; readonly how: 'attach' | 'logs' }
  | { readonly type: 'start' }
  | { readonly type: 'inspect' }
  | { readonly type: 'signal'; readonly signal: string }
  | { readonly type: 'set-timer'; readonly name: TimerName; readonly ms: number }
  | { readonly type: 'cancel-timer'; readonly name: TimerName }
  | { readonly type: 'start-checks' }
  | { readonly type: 'stop-checks' }
  | { readonly type: 'drain-output' }
  | { readonly type: 'close-output' }
  // Let go of every stream and watch, then remove the container.
  | { readonly type: 'remove' }
  // Something a restarted executor would need changed: checkpoint it.
  | { readonly type: 'checkpoint' }
  | { readonly type: 'done' }
  | { readonly type: 'refused'; readonly why: string };

export interface Step {
  readonly state: TaskMachineState;
  readonly effects: readonly TaskEffect[];
}

export function initialState(settings: TaskSettings): TaskMachineState {
  return {
    phase: 'launching',
    settings,
    containerId: undefined,
    started: false,
    stopSignal: 'SIGTERM',
    kill: undefined,
    runningReported: false,
    exit: undefined,
    oom: undefined,
    terminal: undefined,
  };
}

export function isTerminal(state: TaskMachineState): boolean {
  return state.terminal !== undefined;
}

export function step(state: TaskMachineState, event: TaskEvent, now: number): Step {
  const refuse = (why: string): Step => ({ state, effects: [{ type: 'refused', why: `${event.type} in ${state.phase}: ${why}` }] });
  // Once the terminal update is decided only the removal's end matters; the answers of work the
  // end cut short (an aborted pull, a closed stream) still arrive and change nothing.
  if (state.terminal !== undefined && event.type !== 'removed') return { state, effects: [] };
  switch (event.type) {
    case 'launch': {
      if (state.phase !== 'launching') return refuse('launched already');
      const completion = state.settings.maxCompletionMs;
      return {
        state: { ...state, phase: 'validating' },
        effects: [
          { type: 'report', fields: { state: TaskState.TASK_STARTING } },
          ...(completion !== undefined ? [{ type: 'set-timer', name: 'completion', ms: completion } as const] : []),
          { type: 'validate' },
        ],
      };
    }
    case 'adopt':
      return adopt(state, event, now);
    case 'invalid':
      return finish(state, event.fields);
    case 'validated':
      if (state.phase !== 'validating') return refuse('not validating');
      if (state.kill) return killedBeforeStart(state, 'before its container was created');
      return { state: { ...state, phase: 'pulling' }, effects: [{ type: 'pull' }] };
    case 'image-ready':
      if (state.phase !== 'pulling') return refuse('no pull under way');
      if (state.kill) return killedBeforeStart(state, 'before its container was created');
      return { state: { ...state, phase: 'creating' }, effects: [{ type: 'create' }] };
    case 'image-failed':
      if (state.phase !== 'pulling') return refuse('no pull under way');
      if (event.cancelled || state.kill) return killedBeforeStart(state, 'while its image was being pulled');
      return finish(state, event.fields);
    case 'created': {
      if (state.phase !== 'creating') return refuse('no create under way');
      const created = { ...state, containerId: event.containerId };
      if (state.kill) return killedBeforeStart(created, 'before its container was started');
      return { state: { ...created, phase: 'starting' }, effects: [{ type: 'watch', how: 'attach' }] };
    }
    case 'launch-failed':
      if (event.stage === 'attach' && state.kill) return killedBeforeStart(state, 'before its container was started');
      return finish(state, event.fields);
    case 'watching':
      if (state.phase === 'adopting') return { state, effects: [{ type: 'inspect' }] };
      if (state.phase !== 'starting') return refuse('nothing to watch');
      if (state.kill) return killedBeforeStart(state, 'before its container was started');
      return { state, effects: [{ type: 'start' }] };
    case 'started':
      if (state.phase !== 'starting') return refuse('no start under way');
      return { state: { ...state, started: true }, effects: [{ type: 'inspect' }] };
    case 'inspected':
      return inspected(state, event, now);
    case 'kill':
      return kill(state, event, now);
    case 'timer':
      return timer(state, event.name, now);
    case 'exited':
      if (state.phase === 'exited') return { state, effects: [] };
      return {
        state: { ...state, phase: 'exited', exit: event.exit },
        effects: [{ type: 'stop-checks' }, { type: 'cancel-timer', name: 'sigkill' }, { type: 'cancel-timer', name: 'kill-confirm' }, { type: 'drain-output' }],
      };
    case 'exit-unknown': {
      const ended = finish(state, { state: TaskState.TASK_FAILED, message: event.message });
      return { state: ended.state, effects: [{ type: 'close-output' }, ...ended.effects] };
    }
    case 'output-drained':
      if (state.phase !== 'exited' || !state.exit) return refuse('no exit seen');
      return finish(state, terminalFields(state, state.exit, event.stderrTail));
    case 'oom':
      return oom(state, event.oom, now);
    case 'check-update':
      // No check result may follow a kill or the container's end.
      if (state.phase !== 'running' || state.kill || state.terminal) return { state, effects: [] };
      return { state, effects: [{ type: 'report', fields: event.fields }] };
    case 'removed':
      if (state.phase !== 'removing') return refuse('no removal under way');
      return { state: { ...state, phase: 'done' }, effects: [{ type: 'done' }] };
    case 'failed':
      // Anything unexpected still ends in one terminal update and no container left behind.
      return finish(state, { state: TaskState.TASK_FAILED, message: `Executor error: ${event.message}` });
  }
}

function adopt(state: TaskMachineState, event: Extract<TaskEvent, { type: 'adopt' }>, now: number): Step {
  if (state.phase !== 'launching') return { state, effects: [{ type: 'refused', why: `adopt in ${state.phase}` }] };
  const finding = event.finding;
  const containerId = finding.found === 'created' || finding.found === 'started' ? finding.containerId : undefined;
  const runningReported = event.lastState !== undefined && event.lastState !== TaskState.TASK_STARTING;
  if (event.terminalReported) {
    // Only the container's removal was left to do.
    return removing({ ...state, containerId, runningReported, terminal: { state: event.lastState ?? TaskState.TASK_FAILED } });
  }
  if (finding.found === 'gone' || finding.found === 'foreign') {
    return finish(state, {
      state: TaskState.TASK_FAILED,
      reason: Reason.REASON_EXECUTOR_TERMINATED,
      message: finding.found === 'foreign'
        ? `The executor restarted and container ${finding.name} is not this task's (its owner labels differ): it was not adopted`
        : `The executor restarted and container ${event.name} is gone: it was removed while no executor watched it`,
    });
  }
  const completion = state.settings.maxCompletionMs;
  if (finding.found === 'created') {
    // The earlier executor died between create and start: the task has not run yet.
    return {
      state: { ...state, phase: 'starting', containerId, runningReported },
      effects: [
        ...(completion !== undefined ? [{ type: 'set-timer', name: 'completion', ms: completion } as const] : []),
        { type: 'watch', how: 'attach' },
      ],
    };
  }
  const elapsed = finding.startedAtMs !== undefined ? Math.max(0, now - finding.startedAtMs) : 0;
  return {
    // A kill that arrived while the container was being looked up counts as much as one carried on.
    state: { ...state, phase: 'adopting', containerId, started: true, runningReported, kill: event.kill ?? state.kill },
    effects: [
      // A kill under way goes on: no second stop signal, SIGKILL at the same deadline.
      ...(completion !== undefined && !event.kill && !state.kill ? [{ type: 'set-timer', name: 'completion', ms: Math.max(0, completion - elapsed) } as const] : []),
      { type: 'watch', how: 'logs' },
    ],
  };
}

function inspected(state: TaskMachineState, event: Extract<TaskEvent, { type: 'inspected' }>, now: number): Step {
  if (state.phase !== 'starting' && state.phase !== 'adopting') return { state, effects: [] };
  const known = { ...state, stopSignal: event.stopSignal ?? state.stopSignal };
  if (known.kill) {
    const escalated = escalate({ ...known, phase: 'running' }, now);
    return { state: escalated.state, effects: escalated.effects };
  }
  if (!event.hasStarted) return { state: { ...known, phase: 'running' }, effects: [] };
  const effects: TaskEffect[] = [];
  if (!state.runningReported && event.running) effects.push({ type: 'report', fields: event.running });
  effects.push({ type: 'start-checks' });
  return { state: { ...known, phase: 'running', runningReported: true }, effects };
}

// A kill from the framework, shutdown, the health check or a deadline. A later one only shortens it.
function kill(state: TaskMachineState, event: Extract<TaskEvent, { type: 'kill' }>, now: number): Step {
  if (state.terminal !== undefined || state.phase === 'removing' || state.phase === 'done') return { state, effects: [] };
  const graceMs = Math.max(0, event.graceMs);
  const effects: TaskEffect[] = [];
  let next: TaskMachineState;
  if (!state.kill) {
    next = { ...state, kill: { cause: event.cause, graceMs, deadline: now + graceMs, stopSignalSent: false, sigkillSent: false, detail: event.detail } };
    effects.push({ type: 'cancel-timer', name: 'completion' });
    if (state.settings.taskKillingCapable && event.cause !== 'max-completion' && event.cause !== 'oom') {
      effects.push({ type: 'report', fields: { state: TaskState.TASK_KILLING } });
    }
    // A pull in progress is abandoned: the task will never run. Nothing else is cut short: an
    // adoption's watch on the container must live on to see the kill through.
    effects.push({ type: 'stop-checks' }, { type: 'abort-pull' });
  } else if (now + graceMs < state.kill.deadline) {
    next = { ...state, kill: { ...state.kill, graceMs: Math.min(graceMs, state.kill.graceMs), deadline: now + graceMs } };
  } else {
    return { state, effects: [] };
  }
  // Before the start, the launch ends at its next step; once started (and inspected), escalate.
  if (next.started && next.phase === 'running') {
    const escalated = escalate(next, now);
    next = escalated.state;
    effects.push(...escalated.effects);
  }
  effects.push({ type: 'checkpoint' });
  return { state: next, effects };
}

// Recorded for the terminal update, and the container destroyed at once if it still runs.
function oom(state: TaskMachineState, seen: OomSeen, now: number): Step {
  const known = state.oom;
  const merged: OomSeen = {
    kills: Math.max(seen.kills, known?.kills ?? 0, 1),
    victim: known?.victim ?? seen.victim,
    limitBytes: known?.limitBytes ?? seen.limitBytes,
  };
  const next = { ...state, oom: merged };
  if (known || !next.started || state.phase === 'exited') return { state: next, effects: [] };
  return kill(next, { type: 'kill', graceMs: 0, cause: 'oom' }, now);
}

// The stop signal now (once), SIGKILL when the deadline passes.
function escalate(state: TaskMachineState, now: number): Step {
  const kill = state.kill!;
  if (kill.sigkillSent || state.phase === 'exited') return { state, effects: [] };
  if (kill.deadline <= now) return sigkill(state);
  const effects: TaskEffect[] = [];
  let next = state;
  if (!kill.stopSignalSent) {
    next = { ...state, kill: { ...kill, stopSignalSent: true } };
    effects.push({ type: 'signal', signal: state.stopSignal });
  }
  effects.push({ type: 'set-timer', name: 'sigkill', ms: kill.deadline - now }, { type: 'checkpoint' });
  return { state: next, effects };
}

function sigkill(state: TaskMachineState): Step {
  const kill = state.kill!;
  if (kill.sigkillSent) return { state, effects: [] };
  return {
    state: { ...state, kill: { ...kill, sigkillSent: true } },
    effects: [
      { type: 'cancel-timer', name: 'sigkill' },
      { type: 'signal', signal: 'SIGKILL' },
      { type: 'set-timer', name: 'kill-confirm', ms: state.settings.killConfirmMs },
    ],
  };
}

function timer(state: TaskMachineState, name: TimerName, now: number): Step {
  if (state.terminal !== undefined) return { state, effects: [] };
  switch (name) {
    case 'completion':
      return kill(state, { type: 'kill', graceMs: 0, cause: 'max-completion' }, now);
    case 'sigkill':
      return state.kill && state.phase === 'running' ? sigkill(state) : { state, effects: [] };
    case 'kill-confirm': {
      if (state.phase === 'exited') return { state, effects: [] };
      const bound = formatDuration(state.settings.killConfirmMs);
      return step(state, { type: 'exit-unknown', message: `The Docker daemon did not confirm that the container stopped within ${bound} of SIGKILL` }, now);
    }
  }
}

function killedBeforeStart(state: TaskMachineState, when: string): Step {
  const byDeadline = state.kill?.cause === 'max-completion';
  return finish(state, {
    state: byDeadline ? TaskState.TASK_FAILED : TaskState.TASK_KILLED,
    reason: byDeadline ? Reason.REASON_MAX_COMPLETION_TIME_REACHED : Reason.REASON_TASK_KILLED_DURING_LAUNCH,
    message: `Task was killed ${when}`,
  });
}

function terminalFields(state: TaskMachineState, exit: ContainerExit & { readonly inspect?: Buffer | undefined }, stderrTail: string | undefined): StatusFields {
  const kill = state.kill
    ? {
      cause: state.kill.cause,
      graceMs: state.kill.graceMs,
      stopSignal: state.kill.stopSignalSent ? state.stopSignal : 'SIGKILL',
      sigkillSent: state.kill.sigkillSent,
      detail: state.kill.cause === 'health-check' ? state.kill.detail : undefined,
    }
    : undefined;
  // The final inspect rides along, for a post-mortem of how the container ended.
  const data = exit.inspect ? Buffer.concat([Buffer.from('['), exit.inspect, Buffer.from(']')]) : undefined;
  return { ...terminalStatus(exit, kill, { oom: state.oom, stderrTail }), ...(data ? { data } : {}) };
}

// The one terminal update: decided once, reported, and then the container goes.
function finish(state: TaskMachineState, fields: StatusFields): Step {
  if (state.terminal !== undefined) return { state, effects: [] };
  const ended = removing({ ...state, terminal: fields });
  return { state: ended.state, effects: [{ type: 'report', fields }, ...ended.effects] };
}

function removing(state: TaskMachineState): Step {
  const cleanup: TaskEffect[] = [
    { type: 'cancel-timer', name: 'completion' },
    { type: 'cancel-timer', name: 'sigkill' },
    { type: 'cancel-timer', name: 'kill-confirm' },
    { type: 'stop-checks' },
    { type: 'abort-pull' },
  ];
  return { state: { ...state, phase: 'removing' }, effects: [...cleanup, { type: 'remove' }] };
}
