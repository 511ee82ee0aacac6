// Table tests of the task lifecycle's pure step function: every path without Docker.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialState, step, type TaskEffect, type TaskEvent, type TaskMachineState, type TaskSettings } from '../../src/executor/task-machine.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;
const { Reason } = mesos.v1.TaskStatus;
const SETTINGS: TaskSettings = { taskKillingCapable: true, maxCompletionMs: undefined, killConfirmMs: 40_000 };
const RUNNING_FIELDS = { state: TaskState.TASK_RUNNING, data: Buffer.from('[{}]') };
const EXIT_0 = { exitCode: 0, oomKilled: false };
const EXIT_TERM = { exitCode: 143, oomKilled: false };

interface Trace {
  readonly state: TaskMachineState;
  readonly effects: TaskEffect[];
}

// Steps through events at the given times (ms), collecting every effect in order.
function run(events: ReadonlyArray<TaskEvent | [number, TaskEvent]>, settings: TaskSettings = SETTINGS, from?: TaskMachineState): Trace {
  let state = from ?? initialState(settings);
  const effects: TaskEffect[] = [];
  for (const entry of events) {
    const [now, event] = Array.isArray(entry) ? entry : [0, entry];
    const next = step(state, event as TaskEvent, now);
    state = next.state;
    effects.push(...next.effects);
  }
  return { state, effects };
}

function reports(trace: Trace): Array<{ state: number; reason?: number | null; message?: string | null }> {
  return trace.effects.flatMap((effect) => (effect.type === 'report' ? [{ state: effect.fields.state, reason: effect.fields.reason, message: effect.fields.message }] : []));
}

function kinds(trace: Trace): string[] {
  return trace.effects.map((effect) => (effect.type === 'signal' ? `signal ${effect.signal}` : effect.type === 'set-timer' ? `set-timer ${effect.name} ${effect.ms}` : effect.type));
}

const TO_RUNNING: TaskEvent[] = [
  { type: 'launch' },
  { type: 'validated' },
  { type: 'image-ready' },
  { type: 'created', containerId: 'c1' },
  { type: 'watching' },
  { type: 'started' },
  { type: 'inspected', stopSignal: 'SIGTERM', hasStarted: true, running: RUNNING_FIELDS },
];

describe('launch', () => {
  it('runs STARTING, the pull, create, attach, start, RUNNING, checks, exit, drain, one terminal update, removal', () => {
    const trace = run([...TO_RUNNING, { type: 'exited', exit: EXIT_0 }, { type: 'output-drained' }, { type: 'removed' }]);
    assert.deepEqual(reports(trace).map((r) => r.state), [TaskState.TASK_STARTING, TaskState.TASK_RUNNING, TaskState.TASK_FINISHED]);
    assert.equal(reports(trace)[2]!.message, 'Container exited with status 0');
    assert.deepEqual(kinds(trace).filter((k) => !k.startsWith('cancel-timer')), [
      'report', 'validate', 'pull', 'create', 'watch', 'start', 'inspect', 'report', 'start-checks',
      'stop-checks', 'drain-output', 'report', 'stop-checks', 'abort-pull', 'remove', 'done',
    ]);
    assert.equal(trace.state.phase, 'done');
    assert.equal(trace.state.terminal?.state, TaskState.TASK_FINISHED);
  });

  it('an invalid task ends at once, nothing created', () => {
    const trace = run([{ type: 'launch' }, { type: 'invalid', fields: { state: TaskState.TASK_FAILED, reason: Reason.REASON_TASK_INVALID, message: 'Invalid task: x' } }]);
    assert.deepEqual(reports(trace).map((r) => r.message), [undefined, 'Invalid task: x']);
    assert.ok(!kinds(trace).includes('create'));
    assert.equal(trace.state.phase, 'removing');
  });

  it('a failed pull, create, attach or start ends TASK_FAILED with its message', () => {
    const failure = { state: TaskState.TASK_FAILED, reason: Reason.REASON_CONTAINER_LAUNCH_FAILED, message: 'boom' };
    const cases: TaskEvent[][] = [
      [{ type: 'launch' }, { type: 'validated' }, { type: 'image-failed', cancelled: false, fields: failure }],
      [{ type: 'launch' }, { type: 'validated' }, { type: 'image-ready' }, { type: 'launch-failed', stage: 'create', fields: failure }],
      [...TO_RUNNING.slice(0, 4), { type: 'launch-failed', stage: 'attach', fields: failure }],
      [...TO_RUNNING.slice(0, 5), { type: 'launch-failed', stage: 'start', fields: failure }],
    ];
    for (const events of cases) {
      const trace = run(events);
      assert.equal(reports(trace).at(-1)!.message, 'boom', events.at(-1)!.type);
      assert.equal(trace.state.phase, 'removing');
    }
  });

  it('a container that fails its inspect still runs to its exit, without RUNNING', () => {
    const trace = run([...TO_RUNNING.slice(0, 6), { type: 'inspected', stopSignal: undefined, hasStarted: false, running: undefined }, { type: 'exited', exit: EXIT_0 }, { type: 'output-drained' }]);
    assert.deepEqual(reports(trace).map((r) => r.state), [TaskState.TASK_STARTING, TaskState.TASK_FINISHED]);
  });
});

describe('kill before the container runs', () => {
  const killed = (events: TaskEvent[]) => {
    const trace = run([...events, { type: 'kill', graceMs: 5000, cause: 'framework' }]);
    return trace;
  };
  const cases: Array<[string, TaskEvent[], TaskEvent, string]> = [
    ['during the pull', [{ type: 'launch' }, { type: 'validated' }], { type: 'image-failed', cancelled: true, fields: { state: TaskState.TASK_FAILED } }, 'Task was killed while its image was being pulled'],
    ['after the pull', [{ type: 'launch' }, { type: 'validated' }], { type: 'image-ready' }, 'Task was killed before its container was created'],
    ['during create', [{ type: 'launch' }, { type: 'validated' }, { type: 'image-ready' }], { type: 'created', containerId: 'c1' }, 'Task was killed before its container was started'],
    ['during attach', TO_RUNNING.slice(0, 4), { type: 'watching' }, 'Task was killed before its container was started'],
    ['when the attach fails', TO_RUNNING.slice(0, 4), { type: 'launch-failed', stage: 'attach', fields: { state: TaskState.TASK_FAILED, message: 'x' } }, 'Task was killed before its container was started'],
  ];
  for (const [when, before, answer, message] of cases) {
    it(`${when}: TASK_KILLING, then TASK_KILLED during launch; the pull is abandoned`, () => {
      const trace = run([answer], SETTINGS, killed(before).state);
      const all = [...killed(before).effects, ...trace.effects];
      assert.ok(all.some((effect) => effect.type === 'abort-pull'));
      assert.ok(!all.some((effect) => effect.type === 'signal'), 'nothing to signal');
      const last = reports(trace).at(-1)!;
      assert.equal(last.state, TaskState.TASK_KILLED);
      assert.equal(last.reason, Reason.REASON_TASK_KILLED_DURING_LAUNCH);
      assert.equal(last.message, message);
      assert.ok(!kinds(trace).includes('start'));
    });
  }

  it('max_completion_time during the pull: TASK_FAILED with REASON_MAX_COMPLETION_TIME_REACHED, no TASK_KILLING', () => {
    const settings = { ...SETTINGS, maxCompletionMs: 1000 };
    const trace = run([{ type: 'launch' }, { type: 'validated' }, [1000, { type: 'timer', name: 'completion' }], { type: 'image-failed', cancelled: true, fields: { state: TaskState.TASK_FAILED } }], settings);
    assert.deepEqual(reports(trace).map((r) => r.state), [TaskState.TASK_STARTING, TaskState.TASK_FAILED]);
    assert.equal(reports(trace)[1]!.reason, Reason.REASON_MAX_COMPLETION_TIME_REACHED);
    assert.ok(kinds(trace).includes('set-timer completion 1000'));
  });

  it('without the TASK_KILLING_STATE capability no TASK_KILLING is sent', () => {
    const trace = run([...TO_RUNNING, { type: 'kill', graceMs: 100, cause: 'framework' }], { ...SETTINGS, taskKillingCapable: false });
    assert.ok(!reports(trace).some((r) => r.state === TaskState.TASK_KILLING));
  });
});

describe('kill of a running container', () => {
  it('stop signal now, SIGKILL at the deadline, then the exit: TASK_KILLED naming the signals', () => {
    const trace = run([
      ...TO_RUNNING,
      [1000, { type: 'kill', graceMs: 5000, cause: 'framework' }],
      [6000, { type: 'timer', name: 'sigkill' }],
      [6010, { type: 'exited', exit: { exitCode: 137, oomKilled: false } }],
      { type: 'output-drained' },
    ]);
    assert.deepEqual(kinds(trace).filter((k) => k.startsWith('signal') || k.startsWith('set-timer')), ['signal SIGTERM', 'set-timer sigkill 5000', 'signal SIGKILL', 'set-timer kill-confirm 40000']);
    assert.deepEqual(reports(trace).map((r) => r.state).slice(2), [TaskState.TASK_KILLING, TaskState.TASK_KILLED]);
    assert.ok(!kinds(trace).slice(kinds(trace).indexOf('signal SIGTERM')).includes('start-checks'));
  });

  it("the image's stop signal is used", () => {
    const events = TO_RUNNING.slice(0, 6).concat([{ type: 'inspected', stopSignal: 'SIGQUIT', hasStarted: true, running: RUNNING_FIELDS }]);
    const trace = run([...events, { type: 'kill', graceMs: 5000, cause: 'framework' }]);
    assert.ok(kinds(trace).includes('signal SIGQUIT'));
  });

  it('the exit racing the escalation: no SIGKILL after the exit, one terminal update', () => {
    const trace = run([
      ...TO_RUNNING,
      [0, { type: 'kill', graceMs: 5000, cause: 'framework' }],
      [100, { type: 'exited', exit: EXIT_TERM }],
      [5000, { type: 'timer', name: 'sigkill' }],
      { type: 'output-drained' },
      [5001, { type: 'timer', name: 'sigkill' }],
    ]);
    assert.ok(!kinds(trace).includes('signal SIGKILL'));
    assert.ok(kinds(trace).includes('cancel-timer'));
    assert.equal(reports(trace).filter((r) => r.state === TaskState.TASK_KILLED).length, 1);
  });

  it('a second, shorter kill pulls SIGKILL earlier; a longer one changes nothing', () => {
    const trace = run([
      ...TO_RUNNING,
      [0, { type: 'kill', graceMs: 10_000, cause: 'framework' }],
      [1000, { type: 'kill', graceMs: 20_000, cause: 'framework' }],
      [2000, { type: 'kill', graceMs: 1000, cause: 'shutdown' }],
    ]);
    assert.deepEqual(kinds(trace).filter((k) => k.startsWith('signal') || k.startsWith('set-timer')), ['signal SIGTERM', 'set-timer sigkill 10000', 'set-timer sigkill 1000']);
    assert.equal(trace.state.kill?.deadline, 3000);
    assert.equal(trace.state.kill?.cause, 'framework', 'the first cause stands');
    assert.equal(reports(trace).filter((r) => r.state === TaskState.TASK_KILLING).length, 1);
  });

  it('a kill with no grace is SIGKILL at once', () => {
    const trace = run([...TO_RUNNING, { type: 'kill', graceMs: 0, cause: 'shutdown' }]);
    assert.deepEqual(kinds(trace).filter((k) => k.startsWith('signal')), ['signal SIGKILL']);
  });

  it('a daemon that never confirms the SIGKILL: TASK_FAILED saying so, output closed, container removed', () => {
    const trace = run([...TO_RUNNING, [0, { type: 'kill', graceMs: 0, cause: 'framework' }], [40_000, { type: 'timer', name: 'kill-confirm' }]]);
    const last = reports(trace).at(-1)!;
    assert.equal(last.state, TaskState.TASK_FAILED);
    assert.match(last.message ?? '', /did not confirm that the container stopped within 40secs of SIGKILL/);
    assert.ok(kinds(trace).includes('close-output') && kinds(trace).includes('remove'));
  });

  it('a kill between start and inspect waits for the inspect to choose the stop signal', () => {
    const trace = run([...TO_RUNNING.slice(0, 6), { type: 'kill', graceMs: 5000, cause: 'framework' }, { type: 'inspected', stopSignal: 'SIGINT', hasStarted: true, running: RUNNING_FIELDS }]);
    assert.deepEqual(kinds(trace).filter((k) => k.startsWith('signal')), ['signal SIGINT']);
    assert.ok(!reports(trace).some((r) => r.state === TaskState.TASK_RUNNING), 'no RUNNING once killed');
  });

  it('max_completion_time while running: SIGKILL at once, TASK_FAILED with its reason', () => {
    const trace = run([...TO_RUNNING, [1000, { type: 'timer', name: 'completion' }], { type: 'exited', exit: { exitCode: 137, oomKilled: false } }, { type: 'output-drained' }], { ...SETTINGS, maxCompletionMs: 1000 });
    const last = reports(trace).at(-1)!;
    assert.equal(last.state, TaskState.TASK_FAILED);
    assert.equal(last.reason, Reason.REASON_MAX_COMPLETION_TIME_REACHED);
    assert.ok(kinds(trace).includes('signal SIGKILL'));
  });
});

describe('checks', () => {
  it('results are reported while running, never after a kill or the exit', () => {
    const health = { state: TaskState.TASK_RUNNING, healthy: false, reason: Reason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED };
    const trace = run([...TO_RUNNING, { type: 'check-update', fields: health }, { type: 'kill', graceMs: 1000, cause: 'health-check', detail: 'failed 3 times' }, { type: 'check-update', fields: health }]);
    assert.equal(reports(trace).filter((r) => r.reason === Reason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED).length, 1);
    const ended = run([{ type: 'exited', exit: EXIT_TERM }, { type: 'output-drained' }], SETTINGS, trace.state);
    const last = reports(ended).at(-1)!;
    assert.equal(last.state, TaskState.TASK_KILLED);
    assert.match(last.message ?? '', /failed 3 times/);
  });
});

describe('adoption', () => {
  const adopt = (finding: Extract<TaskEvent, { type: 'adopt' }>['finding'], extra: Partial<Extract<TaskEvent, { type: 'adopt' }>> = {}): TaskEvent =>
    ({ type: 'adopt', finding, name: 'mesos-c1', lastState: TaskState.TASK_RUNNING, terminalReported: false, ...extra });

  it('a running container: its log is followed, no RUNNING repeated, the exit reported', () => {
    const trace = run([adopt({ found: 'started', containerId: 'c1', startedAtMs: 0 }), { type: 'watching' }, { type: 'inspected', stopSignal: 'SIGTERM', hasStarted: true, running: RUNNING_FIELDS }, { type: 'exited', exit: EXIT_0 }, { type: 'output-drained' }]);
    assert.deepEqual(kinds(trace).slice(0, 2), ['watch', 'inspect']);
    assert.deepEqual(trace.effects.find((effect) => effect.type === 'watch'), { type: 'watch', how: 'logs' });
    assert.deepEqual(reports(trace).map((r) => r.state), [TaskState.TASK_FINISHED]);
  });

  it('RUNNING is reported when the earlier executor got no further than STARTING', () => {
    const trace = run([adopt({ found: 'started', containerId: 'c1', startedAtMs: 0 }, { lastState: TaskState.TASK_STARTING }), { type: 'watching' }, { type: 'inspected', stopSignal: 'SIGTERM', hasStarted: true, running: RUNNING_FIELDS }]);
    assert.deepEqual(reports(trace).map((r) => r.state), [TaskState.TASK_RUNNING]);
  });

  it('a KILL while adopting is carried out once the container is watched: TASK_KILLED', () => {
    const trace = run([adopt({ found: 'started', containerId: 'c1', startedAtMs: 0 }), { type: 'kill', graceMs: 2000, cause: 'framework' }, { type: 'watching' }, { type: 'inspected', stopSignal: 'SIGTERM', hasStarted: true, running: RUNNING_FIELDS }, { type: 'exited', exit: EXIT_TERM }, { type: 'output-drained' }]);
    assert.ok(!kinds(trace).includes('remove') || reports(trace).at(-1)!.state === TaskState.TASK_KILLED);
    assert.ok(kinds(trace).includes('signal SIGTERM'));
    assert.equal(reports(trace).at(-1)!.state, TaskState.TASK_KILLED);
  });

  it('a container created but never started is started now, with RUNNING reported', () => {
    const trace = run([adopt({ found: 'created', containerId: 'c1' }, { lastState: TaskState.TASK_STARTING }), { type: 'watching' }, { type: 'started' }, { type: 'inspected', stopSignal: 'SIGTERM', hasStarted: true, running: RUNNING_FIELDS }, { type: 'exited', exit: EXIT_0 }, { type: 'output-drained' }]);
    assert.deepEqual(trace.effects.find((effect) => effect.type === 'watch'), { type: 'watch', how: 'attach' });
    assert.ok(kinds(trace).includes('start'));
    assert.deepEqual(reports(trace).map((r) => r.state), [TaskState.TASK_RUNNING, TaskState.TASK_FINISHED]);
  });

  it('a kill in progress goes on to the same deadline without a second stop signal', () => {
    const kill = { cause: 'framework' as const, graceMs: 20_000, deadline: 25_000, stopSignalSent: true, sigkillSent: false };
    const trace = run([[10_000, adopt({ found: 'started', containerId: 'c1', startedAtMs: 0 }, { lastState: TaskState.TASK_KILLING, kill })], { type: 'watching' }, [10_000, { type: 'inspected', stopSignal: 'SIGTERM', hasStarted: true, running: RUNNING_FIELDS }], { type: 'exited', exit: EXIT_0 }, { type: 'output-drained' }]);
    assert.deepEqual(kinds(trace).filter((k) => k.startsWith('signal') || k.startsWith('set-timer')), ['set-timer sigkill 15000']);
    assert.equal(reports(trace).at(-1)!.state, TaskState.TASK_KILLED);
  });

  it('a container that is gone, or not this task\'s: TASK_FAILED saying which, nothing removed', () => {
    const gone = run([adopt({ found: 'gone' })]);
    assert.match(reports(gone)[0]!.message ?? '', /container mesos-c1 is gone/);
    assert.equal(gone.state.containerId, undefined);
    const foreign = run([adopt({ found: 'foreign', name: 'mesos-c1' })]);
    assert.match(reports(foreign)[0]!.message ?? '', /is not this task's \(its owner labels differ\): it was not adopted/);
    assert.equal(foreign.state.containerId, undefined, 'never removed');
  });

  it('when the terminal update went out already, only the removal is left', () => {
    const trace = run([adopt({ found: 'started', containerId: 'c1', startedAtMs: 0 }, { terminalReported: true, lastState: TaskState.TASK_FINISHED })]);
    assert.deepEqual(reports(trace), []);
    assert.equal(trace.state.terminal?.state, TaskState.TASK_FINISHED);
    assert.ok(kinds(trace).includes('remove'));
  });

  it('max_completion_time counts from the container\'s start', () => {
    const trace = run([[3000, adopt({ found: 'started', containerId: 'c1', startedAtMs: 1000 })]], { ...SETTINGS, maxCompletionMs: 10_000 });
    assert.ok(kinds(trace).includes('set-timer completion 8000'));
  });
});

describe('shutdown in each state, and illegal moves', () => {
  it('SHUTDOWN before anything, while pulling, running, exited or removing ends the task once', () => {
    const points: TaskEvent[][] = [[{ type: 'launch' }], TO_RUNNING.slice(0, 2), TO_RUNNING, [...TO_RUNNING, { type: 'exited', exit: EXIT_0 }]];
    for (const events of points) {
      const trace = run([...events, { type: 'kill', graceMs: 3000, cause: 'shutdown' }]);
      const after = trace.state.phase === 'exited'
        ? run([{ type: 'output-drained' }], SETTINGS, trace.state)
        : trace.state.phase === 'pulling'
          ? run([{ type: 'image-failed', cancelled: true, fields: { state: TaskState.TASK_FAILED } }], SETTINGS, trace.state)
          : trace.state.phase === 'running'
            ? run([{ type: 'exited', exit: EXIT_TERM }, { type: 'output-drained' }], SETTINGS, trace.state)
            : run([{ type: 'validated' }], SETTINGS, trace.state);
      const terminal = [...reports(trace), ...reports(after)].filter((r) => [TaskState.TASK_KILLED, TaskState.TASK_FINISHED].includes(r.state as never));
      assert.equal(terminal.length, 1, JSON.stringify(events.map((e) => e.type)));
    }
    const removing = run([...TO_RUNNING, { type: 'exited', exit: EXIT_0 }, { type: 'output-drained' }]);
    assert.deepEqual(run([{ type: 'kill', graceMs: 0, cause: 'shutdown' }], SETTINGS, removing.state).effects, [], 'nothing to kill while removing');
  });

  it('an illegal transition is refused, and the state is unchanged', () => {
    const start = initialState(SETTINGS);
    for (const event of [{ type: 'started' }, { type: 'image-ready' }, { type: 'created', containerId: 'x' }, { type: 'removed' }, { type: 'output-drained' }] as TaskEvent[]) {
      const next = step(start, event, 0);
      assert.equal(next.state, start, event.type);
      assert.equal(next.effects[0]?.type, 'refused', event.type);
    }
    const launched = run([{ type: 'launch' }]);
    assert.equal(step(launched.state, { type: 'launch' }, 0).effects[0]?.type, 'refused');
  });

  it('answers that arrive after the end change nothing', () => {
    const ended = run([{ type: 'launch' }, { type: 'validated' }, { type: 'kill', graceMs: 0, cause: 'framework' }, { type: 'image-failed', cancelled: true, fields: { state: TaskState.TASK_FAILED } }]);
    for (const event of [{ type: 'image-ready' }, { type: 'exited', exit: EXIT_0 }, { type: 'timer', name: 'completion' }, { type: 'kill', graceMs: 0, cause: 'shutdown' }] as TaskEvent[]) {
      assert.deepEqual(step(ended.state, event, 0), { state: ended.state, effects: [] }, event.type);
    }
  });
});

describe('a KILL before the adoption has found the container', () => {
  it('is kept through the adoption and carried out: TASK_KILLED', () => {
    const trace = run([
      { type: 'kill', graceMs: 2000, cause: 'framework' },
      { type: 'adopt', finding: { found: 'started', containerId: 'c1', startedAtMs: 0 }, name: 'mesos-c1', lastState: TaskState.TASK_RUNNING, terminalReported: false },
      { type: 'watching' },
      { type: 'inspected', stopSignal: 'SIGTERM', hasStarted: true, running: RUNNING_FIELDS },
      { type: 'exited', exit: EXIT_TERM },
      { type: 'output-drained' },
    ]);
    assert.ok(kinds(trace).includes('signal SIGTERM'));
    assert.equal(reports(trace).at(-1)!.state, TaskState.TASK_KILLED);
  });
});

describe('escalation edges', () => {
  it('a second kill with no grace sends SIGKILL at once; nothing is sent after SIGKILL; a negative grace is none', () => {
    const trace = run([
      ...TO_RUNNING,
      [0, { type: 'kill', graceMs: 10_000, cause: 'framework' }],
      [100, { type: 'kill', graceMs: 0, cause: 'shutdown' }],
      [200, { type: 'kill', graceMs: -5, cause: 'shutdown' }],
      [10_000, { type: 'timer', name: 'sigkill' }],
    ]);
    assert.deepEqual(kinds(trace).filter((k) => k.startsWith('signal')), ['signal SIGTERM', 'signal SIGKILL']);
    const negative = run([...TO_RUNNING, { type: 'kill', graceMs: -1000, cause: 'framework' }]);
    assert.deepEqual(kinds(negative).filter((k) => k.startsWith('signal')), ['signal SIGKILL']);
  });
});

describe('an OOM kill in the container', () => {
  const OOM = { type: 'oom', oom: { kills: 1, victim: 'other', limitBytes: 64 * 1024 * 1024 } } as const;

  it('destroys a running container at once (SIGKILL, no grace, no TASK_KILLING) and fails it for its memory limit', () => {
    const trace = run([...TO_RUNNING, [5000, OOM]]);
    assert.ok(kinds(trace).includes('signal SIGKILL'));
    assert.ok(!kinds(trace).some((kind) => kind === 'signal SIGTERM'));
    assert.ok(!reports(trace).some((report) => report.state === TaskState.TASK_KILLING));
    const ended = run([{ type: 'exited', exit: { exitCode: 137, oomKilled: true } }, { type: 'output-drained' }], SETTINGS, trace.state);
    const last = reports(ended).at(-1)!;
    assert.equal(last.state, TaskState.TASK_FAILED);
    assert.equal(last.reason, Reason.REASON_CONTAINER_LIMITATION_MEMORY);
    assert.match(last.message ?? '', /memory limit of 64 MB: it killed a process other than the container's main process/);
    assert.match(last.message ?? '', /destroyed the container at the OOM/);
  });

  it('shortens a framework kill in progress to SIGKILL now, and the OOM decides the update', () => {
    const trace = run([...TO_RUNNING, [1000, { type: 'kill', graceMs: 30_000, cause: 'framework' }], [2000, OOM], { type: 'exited', exit: { exitCode: 137, oomKilled: true } }, { type: 'output-drained' }]);
    assert.deepEqual(kinds(trace).filter((kind) => kind.startsWith('signal')), ['signal SIGTERM', 'signal SIGKILL']);
    assert.equal(reports(trace).at(-1)!.reason, Reason.REASON_CONTAINER_LIMITATION_MEMORY);
  });

  it('after the exit is only recorded: the main process was the victim', () => {
    const trace = run([...TO_RUNNING, { type: 'exited', exit: { exitCode: 137, oomKilled: true } }, { type: 'oom', oom: { kills: 1, victim: 'main' } }, { type: 'output-drained' }]);
    assert.ok(!kinds(trace).some((kind) => kind.startsWith('signal')));
    assert.equal(reports(trace).at(-1)!.reason, Reason.REASON_CONTAINER_LIMITATION_MEMORY);
    assert.match(reports(trace).at(-1)!.message ?? '', /it killed the container's main process/);
  });

  it('seen while an adopted container is looked at, it is destroyed once inspected', () => {
    const adopted = run([
      { type: 'adopt', finding: { found: 'started', containerId: 'c1', startedAtMs: 0 }, name: 'mesos-c1', lastState: TaskState.TASK_RUNNING, terminalReported: false },
      { type: 'watching' },
      OOM,
      { type: 'inspected', stopSignal: 'SIGTERM', hasStarted: true, running: RUNNING_FIELDS },
    ]);
    assert.ok(kinds(adopted).includes('signal SIGKILL'));
    assert.equal(adopted.state.kill?.cause, 'oom');
  });

  it('a second OOM only raises the count', () => {
    const trace = run([...TO_RUNNING, OOM, { type: 'oom', oom: { kills: 3, victim: undefined } }]);
    assert.equal(kinds(trace).filter((kind) => kind === 'signal SIGKILL').length, 1);
    assert.deepEqual(trace.state.oom, { kills: 3, victim: 'other', limitBytes: 64 * 1024 * 1024 });
  });

  it('a failure of its own quotes the stderr tail the drain brought', () => {
    const trace = run([...TO_RUNNING, { type: 'exited', exit: { exitCode: 127, oomKilled: false } }, { type: 'output-drained', stderrTail: 'sh: nope: not found' }]);
    assert.equal(reports(trace).at(-1)!.message, 'Container exited with status 127; its stderr ends: "sh: nope: not found"');
  });
});
