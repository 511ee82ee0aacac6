import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UpdateLedger, uuidKey, type Update } from '../../src/executor/update-ledger.js';
import { TaskState } from '../../src/executor/task-states.js';

let counter = 0;
// A distinct 16-byte uuid per update.
function uuid(): Buffer {
  const bytes = Buffer.alloc(16);
  bytes.writeUInt32BE(++counter, 12);
  bytes[6] = 0x40;
  return bytes;
}

function update(taskId: string, state: number): Update {
  return { status: { task_id: { value: taskId }, state, uuid: uuid(), source: 2 } };
}

const taskAndState = (u: Update) => `${u.status.task_id?.value}:${u.status.state}`;

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
  assert.deepEqual(ledger.unacknowledged().map(taskAndState), ['t1:0', 't1:1', 't3:0']);
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
