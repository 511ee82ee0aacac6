import { test } from 'node:test';
import assert from 'node:assert/strict';
import { terminalStatus, type ContainerExit, type KillRecord } from '../../src/executor/terminal-status.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;
const { Reason } = mesos.v1.TaskStatus;

const exit = (exitCode: number, extra: Partial<ContainerExit> = {}): ContainerExit => ({ exitCode, oomKilled: false, ...extra });
const kill = (extra: Partial<KillRecord> = {}): KillRecord => ({
  cause: 'framework',
  stopSignal: 'SIGTERM',
  sigkillSent: false,
  graceMs: 5_000,
  ...extra,
});

test('a container that ended on its own: FINISHED on 0, FAILED otherwise, with no reason', () => {
  const cases: Array<[ContainerExit, number, string]> = [
    [exit(0), TaskState.TASK_FINISHED, 'Container exited with status 0'],
    [exit(3), TaskState.TASK_FAILED, 'Container exited with status 3'],
    [exit(1), TaskState.TASK_FAILED, 'Container exited with status 1'],
    [exit(255), TaskState.TASK_FAILED, 'Container exited with status 255'],
    [exit(128), TaskState.TASK_FAILED, 'Container exited with status 128'],
    [exit(137), TaskState.TASK_FAILED, 'Container exited with status 137 (SIGKILL)'],
    [exit(143), TaskState.TASK_FAILED, 'Container exited with status 143 (SIGTERM)'],
    [exit(139), TaskState.TASK_FAILED, 'Container exited with status 139 (SIGSEGV)'],
    [exit(127, { error: 'exec: "nope": executable file not found in $PATH' }), TaskState.TASK_FAILED,
      'Container exited with status 127: exec: "nope": executable file not found in $PATH'],
  ];
  for (const [containerExit, state, message] of cases) {
    const status = terminalStatus(containerExit, undefined);
    assert.equal(status.state, state, message);
    assert.equal(status.message, message);
    assert.equal(status.reason, undefined, `${message} has no reason`);
  }
});

test('exit 137 without the OOM flag is not reported as a memory limitation', () => {
  const status = terminalStatus(exit(137), undefined);
  assert.equal(status.state, TaskState.TASK_FAILED);
  assert.notEqual(status.reason, Reason.REASON_CONTAINER_LIMITATION_MEMORY);
  assert.doesNotMatch(status.message, /OOM|memory/i);
});

test('an OOM kill is FAILED with REASON_CONTAINER_LIMITATION_MEMORY, whatever the exit status', () => {
  for (const code of [137, 0, 1, 143]) {
    const status = terminalStatus(exit(code, { oomKilled: true }), undefined);
    assert.equal(status.state, TaskState.TASK_FAILED, `exit ${code}`);
    assert.equal(status.reason, Reason.REASON_CONTAINER_LIMITATION_MEMORY, `exit ${code}`);
    assert.match(status.message, /OOM killer/);
    assert.match(status.message, new RegExp(`exited with status ${code}`));
  }
  const withLimit = terminalStatus(exit(137, { oomKilled: true, memoryLimitBytes: 128 * 1024 * 1024 }), undefined);
  assert.match(withLimit.message, /memory limit of 128 MB: it killed the container's main process \(1 OOM kill in the container\); the container exited with status 137 \(SIGKILL\)$/);
});

test('a container killed by the framework is KILLED even when it exited 0, and the message says with which signal', () => {
  const cases: Array<[ContainerExit, KillRecord, RegExp]> = [
    [exit(0), kill(), /^Container killed on request with SIGTERM: it exited with status 0$/],
    [exit(143), kill(), /^Container killed on request with SIGTERM: it exited with status 143 \(SIGTERM\)$/],
    [exit(1), kill({ stopSignal: 'SIGINT' }), /with SIGINT: it exited with status 1$/],
    [exit(137), kill({ sigkillSent: true, graceMs: 10_000 }),
      /^Container killed on request with SIGKILL after the 10s grace period \(it did not stop on SIGTERM\): it exited with status 137 \(SIGKILL\)$/],
    [exit(137), kill({ sigkillSent: true, graceMs: 1_500 }), /SIGKILL after the 1500ms grace period/],
    [exit(137), kill({ sigkillSent: true, graceMs: 0 }), /^Container killed on request with SIGKILL: it exited/],
    [exit(137), kill({ stopSignal: 'SIGKILL', sigkillSent: true, graceMs: 5_000 }), /^Container killed on request with SIGKILL: it exited/],
  ];
  for (const [containerExit, record, pattern] of cases) {
    const status = terminalStatus(containerExit, record);
    assert.equal(status.state, TaskState.TASK_KILLED, String(pattern));
    assert.equal(status.reason, undefined, String(pattern));
    assert.match(status.message, pattern);
  }
});

test('every kill cause but max-completion gives KILLED with its own wording', () => {
  const cases: Array<[KillRecord['cause'], RegExp]> = [
    ['framework', /killed on request/],
    ['shutdown', /stopped for executor shutdown/],
    ['health-check', /killed after failing its health check/],
    ['agent-lost', /stopped because the agent was lost/],
  ];
  for (const [cause, pattern] of cases) {
    const status = terminalStatus(exit(0), kill({ cause }));
    assert.equal(status.state, TaskState.TASK_KILLED, cause);
    assert.match(status.message, pattern);
  }
});

test('reaching max_completion_time is FAILED with REASON_MAX_COMPLETION_TIME_REACHED, even on exit 0', () => {
  for (const [code, sigkillSent] of [[137, true], [0, false], [143, false]] as const) {
    const status = terminalStatus(exit(code), kill({ cause: 'max-completion', graceMs: 0, sigkillSent }));
    assert.equal(status.state, TaskState.TASK_FAILED, `exit ${code}`);
    assert.equal(status.reason, Reason.REASON_MAX_COMPLETION_TIME_REACHED, `exit ${code}`);
    assert.match(status.message, new RegExp(`max_completion_time.*exited with status ${code}`));
  }
});

test('an exit caused from outside the executor is a failure that says so, even with status 0', () => {
  const byHand = terminalStatus({ exitCode: 0, oomKilled: false, stoppedBy: 'SIGTERM' }, undefined);
  assert.equal(byHand.state, TaskState.TASK_FAILED);
  assert.match(byHand.message, /stopped from outside the executor with SIGTERM/);
  const daemon = terminalStatus({ exitCode: 143, oomKilled: false, daemonStopped: true }, undefined);
  assert.equal(daemon.state, TaskState.TASK_FAILED);
  assert.match(daemon.message, /while the Docker daemon restarted: it exited with status 143 \(SIGTERM\)/);
});

test('a kill by the health check is TASK_KILLED with healthy=false and says which check failed', () => {
  const status = terminalStatus(exit(143), kill({ cause: 'health-check', detail: "the COMMAND 'test -f /tmp/ok' health check failed 3 consecutive times, last: exited with status 1" }));
  assert.equal(status.state, TaskState.TASK_KILLED);
  assert.equal(status.healthy, false);
  assert.equal(status.message, "Container killed after failing its health check with SIGTERM: it exited with status 143 (SIGTERM); the COMMAND 'test -f /tmp/ok' health check failed 3 consecutive times, last: exited with status 1");
  assert.equal(terminalStatus(exit(143), kill({ cause: 'framework' })).healthy, undefined, 'other kills say nothing of health');
});

const labels = (status: { labels: mesos.v1.ILabels }): Record<string, string> =>
  Object.fromEntries((status.labels.labels ?? []).map((label) => [label.key, label.value ?? '']));

const TIMES = { createdAt: '2024-05-01T10:00:00.1Z', startedAt: '2024-05-01T10:00:00.5Z', finishedAt: '2024-05-01T10:00:07Z' };

test('the structured status: reason, exit code, signal, who stopped it and the times, for each way a container ends', () => {
  const cases: Array<[string, ContainerExit, KillRecord | undefined, number, number | undefined, Record<string, string>]> = [
    ['exit 0', exit(0, TIMES), undefined, TaskState.TASK_FINISHED, undefined, { stopped_by: 'task-exit', exit_code: '0' }],
    ['exit 3', exit(3, TIMES), undefined, TaskState.TASK_FAILED, undefined, { stopped_by: 'task-exit', exit_code: '3' }],
    ['a signal', exit(139, TIMES), undefined, TaskState.TASK_FAILED, undefined, { stopped_by: 'task-exit', exit_code: '139', signal: 'SIGSEGV' }],
    ['a kill', exit(143, TIMES), kill(), TaskState.TASK_KILLED, undefined, { stopped_by: 'kill', exit_code: '143', signal: 'SIGTERM' }],
    ['a failed health check', exit(137, TIMES), kill({ cause: 'health-check', sigkillSent: true }), TaskState.TASK_KILLED, undefined, { stopped_by: 'health-check', exit_code: '137', signal: 'SIGKILL' }],
    ['max completion time', exit(137, TIMES), kill({ cause: 'max-completion', graceMs: 0, sigkillSent: true }), TaskState.TASK_FAILED, Reason.REASON_MAX_COMPLETION_TIME_REACHED, { stopped_by: 'max-completion', exit_code: '137', signal: 'SIGKILL' }],
    ['an OOM', exit(137, { ...TIMES, oomKilled: true, memoryLimitBytes: 64 * 1024 * 1024 }), undefined, TaskState.TASK_FAILED, Reason.REASON_CONTAINER_LIMITATION_MEMORY, { stopped_by: 'oom', exit_code: '137', signal: 'SIGKILL', oom_kills: '1', memory_limit_bytes: String(64 * 1024 * 1024) }],
    ['the daemon', exit(143, { ...TIMES, daemonStopped: true }), undefined, TaskState.TASK_FAILED, undefined, { stopped_by: 'daemon', exit_code: '143', signal: 'SIGTERM' }],
    ['an external stop', exit(137, { ...TIMES, stoppedBy: 'SIGKILL' }), undefined, TaskState.TASK_FAILED, undefined, { stopped_by: 'external-stop', exit_code: '137', signal: 'SIGKILL' }],
    ['a shutdown', exit(143, TIMES), kill({ cause: 'shutdown' }), TaskState.TASK_KILLED, undefined, { stopped_by: 'shutdown', exit_code: '143', signal: 'SIGTERM' }],
  ];
  for (const [name, ended, killed, state, reason, expected] of cases) {
    const status = terminalStatus(ended, killed);
    assert.equal(status.state, state, name);
    assert.equal(status.reason, reason, name);
    const prefixed = Object.fromEntries(Object.entries({
      ...expected,
      created_at: TIMES.createdAt, started_at: TIMES.startedAt, finished_at: TIMES.finishedAt,
    }).map(([key, value]) => [`termination.${key}`, value]));
    assert.deepEqual(labels(status), prefixed, name);
  }
});

test('times Docker has not set (0001-01-01) are left out of the labels', () => {
  const status = terminalStatus(exit(1, { createdAt: '2024-05-01T10:00:00Z', startedAt: '0001-01-01T00:00:00Z', finishedAt: undefined }), undefined);
  assert.deepEqual(Object.keys(labels(status)).sort(), ['termination.created_at', 'termination.exit_code', 'termination.stopped_by']);
});

test('an OOM kill of a child while the main process ran is a memory limitation, whichever way the container then ended', () => {
  const limit = 64 * 1024 * 1024;
  // Destroyed by the executor at the OOM.
  const destroyed = terminalStatus(exit(137, { oomKilled: true }), kill({ cause: 'oom', graceMs: 0, sigkillSent: true }), { oom: { kills: 2, victim: 'other', limitBytes: limit } });
  assert.equal(destroyed.state, TaskState.TASK_FAILED);
  assert.equal(destroyed.reason, Reason.REASON_CONTAINER_LIMITATION_MEMORY);
  assert.equal(destroyed.message, "Container was killed by the kernel's OOM killer for exceeding its memory limit of 64 MB: it killed a process other than the container's main process (which was still running) (2 OOM kills in the container); the executor destroyed the container at the OOM: it exited with status 137 (SIGKILL)");
  assert.equal(labels(destroyed)['termination.oom_kills'], '2');
  assert.equal(labels(destroyed)['termination.stopped_by'], 'oom');
  assert.deepEqual(destroyed.limitation?.resources?.map((resource) => [resource.name, resource.scalar?.value]), [['mem', 64]]);
  // Seen only at the end (the daemon's events, the counters): the main process exited by itself.
  const atEnd = terminalStatus(exit(0, { oomKills: 1, memoryLimitBytes: limit }), undefined);
  assert.equal(atEnd.state, TaskState.TASK_FAILED);
  assert.equal(atEnd.reason, Reason.REASON_CONTAINER_LIMITATION_MEMORY);
  assert.match(atEnd.message, /a process other than the container's main process .*; the main process then exited with status 0$/);
  // Even a framework kill under way gives way to the OOM.
  const killed = terminalStatus(exit(137), kill(), { oom: { kills: 1, victim: 'main' } });
  assert.equal(killed.reason, Reason.REASON_CONTAINER_LIMITATION_MEMORY);
  assert.match(killed.message, /it killed the container's main process/);
});

test("a container that failed on its own says its last stderr lines; a kill or a success does not", () => {
  const tail = 'sh: frobnicate: not found';
  assert.equal(terminalStatus(exit(127), undefined, { stderrTail: tail }).message, 'Container exited with status 127; its stderr ends: "sh: frobnicate: not found"');
  assert.equal(terminalStatus(exit(0), undefined, { stderrTail: tail }).message, 'Container exited with status 0');
  assert.doesNotMatch(terminalStatus(exit(143), kill(), { stderrTail: tail }).message, /frobnicate/);
  assert.equal(terminalStatus(exit(1), undefined).message, 'Container exited with status 1');
});
