import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_PENDING_PER_TASK, UpdateLedger, uuidKey, type Update } from '../../src/executor/update-ledger.js';
import { stateName } from '../../src/executor/task-states.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;
const { Reason } = mesos.v1.TaskStatus;
const { SOURCE_EXECUTOR } = mesos.v1.TaskStatus.Source;

let counter = 0;
// A distinct 16-byte uuid per update.
function uuid(): Buffer {
  const bytes = Buffer.alloc(16);
  bytes.writeUInt32BE(++counter, 12);
  bytes[6] = 0x40;
  return bytes;
}

function update(taskId: string, state: number): Update {
  return { status: { task_id: { value: taskId }, state, uuid: uuid(), source: SOURCE_EXECUTOR } };
}

const taskAndState = (u: Update) => `${u.status.task_id?.value}:${stateName(u.status.state)}`;

test('unacknowledged updates come back in the order they were added', () => {
  const ledger = new UpdateLedger();
  const updates = [
    update('t1', TaskState.TASK_STARTING),
    update('t1', TaskState.TASK_RUNNING),
    update('t2', TaskState.TASK_STARTING),
    update('t1', TaskState.TASK_FINISHED),
  ];
  updates.forEach((u) => ledger.add(u));
  assert.equal(ledger.size, 4);
  assert.deepEqual(ledger.unacknowledged(), updates);
});

test('acknowledge removes the update, keeps the order of the rest and marks its task acknowledged', () => {
  const ledger = new UpdateLedger();
  const [a, b, c, d] = [
    update('t1', TaskState.TASK_STARTING),
    update('t2', TaskState.TASK_STARTING),
    update('t1', TaskState.TASK_RUNNING),
    update('t3', TaskState.TASK_STARTING),
  ];
  [a, b, c, d].forEach((u) => ledger.add(u!));
  assert.equal(ledger.isTaskAcknowledged('t2'), false);

  assert.equal(ledger.acknowledge(b!.status.uuid), b);
  assert.deepEqual(ledger.unacknowledged().map(taskAndState), ['t1:TASK_STARTING', 't1:TASK_RUNNING', 't3:TASK_STARTING']);
  assert.equal(ledger.size, 3);
  assert.equal(ledger.isTaskAcknowledged('t2'), true);
  assert.equal(ledger.isTaskAcknowledged('t1'), false);
  assert.equal(ledger.isTaskAcknowledged('t3'), false);

  assert.equal(ledger.acknowledge(c!.status.uuid), c);
  assert.deepEqual(ledger.unacknowledged(), [a, d]);
  // One acknowledged update is enough for the task, even with older ones still pending.
  assert.equal(ledger.isTaskAcknowledged('t1'), true);
});

test('the uuid is matched by its bytes, not by object identity', () => {
  const ledger = new UpdateLedger();
  const u = update('t1', TaskState.TASK_RUNNING);
  ledger.add(u);
  const sameBytes = new Uint8Array(u.status.uuid!);
  assert.notEqual(sameBytes, u.status.uuid);
  assert.equal(ledger.acknowledge(sameBytes), u);
  assert.equal(ledger.size, 0);
});

test('an unknown uuid, or one acknowledged already, gives undefined and changes nothing', () => {
  const ledger = new UpdateLedger();
  const u = update('t1', TaskState.TASK_RUNNING);
  ledger.add(u);
  for (const unknown of [uuid(), Buffer.alloc(16), new Uint8Array(0), null, undefined]) {
    assert.equal(ledger.acknowledge(unknown), undefined, String(unknown && uuidKey(unknown)));
  }
  assert.equal(ledger.size, 1);
  assert.equal(ledger.isTaskAcknowledged('t1'), false);

  assert.equal(ledger.acknowledge(u.status.uuid), u);
  assert.equal(ledger.acknowledge(u.status.uuid), undefined);
  assert.equal(ledger.size, 0);
  assert.deepEqual(ledger.unacknowledged(), []);
});

test('hasUnacknowledgedTerminal is true exactly while a terminal update is pending', () => {
  const cases: Array<[keyof typeof TaskState, boolean]> = [
    ['TASK_FINISHED', true],
    ['TASK_FAILED', true],
    ['TASK_KILLED', true],
    ['TASK_ERROR', true],
    ['TASK_LOST', true],
    ['TASK_DROPPED', true],
    ['TASK_GONE', true],
    ['TASK_GONE_BY_OPERATOR', true],
    ['TASK_STARTING', false],
    ['TASK_RUNNING', false],
    ['TASK_KILLING', false],
    ['TASK_STAGING', false],
    ['TASK_UNREACHABLE', false],
    ['TASK_UNKNOWN', false],
  ];
  for (const [name, terminal] of cases) {
    const ledger = new UpdateLedger();
    assert.equal(ledger.hasUnacknowledgedTerminal(), false);
    ledger.add(update('t1', TaskState.TASK_RUNNING));
    const u = update('t1', TaskState[name]);
    ledger.add(u);
    assert.equal(ledger.hasUnacknowledgedTerminal(), terminal, name);
    ledger.acknowledge(u.status.uuid);
    assert.equal(ledger.hasUnacknowledgedTerminal(), false, `${name} after its acknowledgement`);
  }
});

test('uuidKey is the hex of the bytes, empty for none', () => {
  assert.equal(uuidKey(Buffer.from('00ff10', 'hex')), '00ff10');
  assert.equal(uuidKey(null), '');
  assert.equal(uuidKey(undefined), '');
});

function health(taskId: string, healthy: boolean, message?: string, extra: Partial<Update['status']> = {}): Update {
  return {
    status: {
      task_id: { value: taskId },
      state: TaskState.TASK_RUNNING,
      reason: Reason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED,
      healthy,
      ...(message !== undefined ? { message } : {}),
      source: SOURCE_EXECUTOR,
      timestamp: Date.now() / 1000 + counter,
      uuid: uuid(),
      ...extra,
    },
  };
}

test('an update identical in effect to its task\'s latest pending update is coalesced', () => {
  const ledger = new UpdateLedger();
  const first = health('t1', false, 'The TCP check failed');
  assert.equal(ledger.add(first), true);
  assert.equal(ledger.add(health('t1', false, 'The TCP check failed')), false, 'same effect, new uuid and timestamp');
  assert.deepEqual(ledger.unacknowledged(), [first]);
  // Anything that differs is news.
  const differing: Array<[string, Update]> = [
    ['healthy', health('t1', true, 'The TCP check failed')],
    ['check_status', health('t1', false, 'The TCP check failed', { check_status: { type: mesos.v1.CheckInfo.Type.TCP, tcp: { succeeded: false } } })],
    ['container_status', health('t1', false, 'The TCP check failed', { container_status: { executor_pid: 7 } })],
    ['reason', health('t1', false, 'The TCP check failed', { reason: Reason.REASON_TASK_CHECK_STATUS_UPDATED })],
    ['state', health('t1', false, 'The TCP check failed', { state: TaskState.TASK_KILLING })],
    ['data', health('t1', false, 'The TCP check failed', { data: Buffer.from('x') })],
  ];
  for (const [field, u] of differing) {
    const fresh = new UpdateLedger();
    fresh.add(health('t1', false, 'The TCP check failed'));
    assert.equal(fresh.add(u), true, `a different ${field}`);
  }
  // A check result's message (which counts the failures) is not news; any other update's is.
  const counted = new UpdateLedger();
  counted.add(health('t1', false, 'The TCP check failed (1 consecutive)'));
  assert.equal(counted.add(health('t1', false, 'The TCP check failed (2 consecutive)')), false, 'same state and health');
  const plain = new UpdateLedger();
  plain.add(health('t1', false, 'starting', { reason: undefined, healthy: undefined, state: TaskState.TASK_STARTING }));
  assert.equal(plain.add(health('t1', false, 'pulling 50%', { reason: undefined, healthy: undefined, state: TaskState.TASK_STARTING })), true, 'a new message of another update');
  // Only the latest pending update counts: A, B, A is three updates.
  const ledger2 = new UpdateLedger();
  assert.equal(ledger2.add(health('t1', false, 'a')), true);
  assert.equal(ledger2.add(health('t1', true)), true);
  assert.equal(ledger2.add(health('t1', false, 'a')), true);
  assert.equal(ledger2.size, 3);
  // Another task's update does not hide this task's.
  assert.equal(ledger2.add(health('t2', false, 'a')), true);
  // Once acknowledged, the same effect is news again.
  const ledger3 = new UpdateLedger();
  const u = health('t1', false, 'a');
  ledger3.add(u);
  ledger3.acknowledge(u.status.uuid);
  assert.equal(ledger3.add(health('t1', false, 'a')), true);
});

test('coalescing ignores key order and how bytes are held (a restored checkpoint)', () => {
  const ledger = new UpdateLedger();
  ledger.add({ status: { task_id: { value: 't1' }, state: TaskState.TASK_RUNNING, data: Buffer.from('abc'), uuid: uuid() } });
  const restored = { uuid: uuid(), data: new Uint8Array(Buffer.from('abc')), state: TaskState.TASK_RUNNING, task_id: { value: 't1' } };
  assert.equal(ledger.add({ status: restored }), false);
});

test(`each task keeps at most ${MAX_PENDING_PER_TASK} pending non-terminal updates, dropping the oldest; order kept; terminal never dropped`, () => {
  const ledger = new UpdateLedger();
  const starting = update('t1', TaskState.TASK_STARTING);
  const other = update('t2', TaskState.TASK_RUNNING);
  ledger.add(starting);
  ledger.add(other);
  const flood = Array.from({ length: 1000 }, (_, index) => health('t1', index % 2 === 0, `result ${index + 1}`));
  flood.forEach((u) => assert.equal(ledger.add(u), true));
  const t1 = ledger.unacknowledged().filter((u) => u.status.task_id?.value === 't1');
  assert.equal(t1.length, MAX_PENDING_PER_TASK);
  assert.deepEqual(t1, flood.slice(-MAX_PENDING_PER_TASK), 'the newest are kept, in order');
  assert.ok(ledger.unacknowledged().includes(other), "another task's update stays");

  const terminal = update('t1', TaskState.TASK_KILLED);
  ledger.add(terminal);
  ledger.add(health('t1', false, 'late'));
  const after = ledger.unacknowledged().filter((u) => u.status.task_id?.value === 't1');
  assert.ok(after.includes(terminal), 'the terminal update stays');
  assert.equal(after.filter((u) => u.status.state !== TaskState.TASK_KILLED).length, MAX_PENDING_PER_TASK);
  assert.equal(after.at(-1)!.status.message, 'late', 'the newest stays');
  assert.ok(ledger.size <= MAX_PENDING_PER_TASK + 2);
});
