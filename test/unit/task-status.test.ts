import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newTaskStatus, uuidBytes, type StatusFields } from '../../src/executor/task-status.js';
import { validateExecutorCall } from '../../src/agent/call-validation.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;

test('a status carries the task, the executor, source SOURCE_EXECUTOR and the given fields', () => {
  const status = newTaskStatus('task-1', 'exec-1', { state: TaskState.TASK_RUNNING, message: 'running', healthy: true }, () => 1_700_000_000_123);
  assert.deepEqual(status.task_id, { value: 'task-1' });
  assert.deepEqual(status.executor_id, { value: 'exec-1' });
  assert.equal(status.source, mesos.v1.TaskStatus.Source.SOURCE_EXECUTOR);
  assert.equal(status.state, TaskState.TASK_RUNNING);
  assert.equal(status.message, 'running');
  assert.equal(status.healthy, true);
});

test('the timestamp is in seconds since the epoch, fractions kept', () => {
  const status = newTaskStatus('t', 'e', { state: TaskState.TASK_STARTING }, () => 1_700_000_000_123);
  assert.equal(status.timestamp, 1_700_000_000.123);

  const before = Date.now() / 1000;
  const now = newTaskStatus('t', 'e', { state: TaskState.TASK_STARTING }).timestamp!;
  const after = Date.now() / 1000;
  assert.ok(now >= before && now <= after, `${now} not within [${before}, ${after}]`);
});

test('agent_id is left unset for the agent to fill in', () => {
  const status = newTaskStatus('t', 'e', { state: TaskState.TASK_RUNNING });
  assert.equal('agent_id' in status, false);
});

test('the fields cannot override the identity, source, time or uuid', () => {
  const sneaky = {
    state: TaskState.TASK_RUNNING,
    task_id: { value: 'other-task' },
    executor_id: { value: 'other-executor' },
    source: mesos.v1.TaskStatus.Source.SOURCE_MASTER,
    timestamp: 1,
    uuid: Buffer.alloc(16),
  } as unknown as StatusFields;
  const status = newTaskStatus('t', 'e', sneaky, () => 5_000);
  assert.deepEqual(status.task_id, { value: 't' });
  assert.deepEqual(status.executor_id, { value: 'e' });
  assert.equal(status.source, mesos.v1.TaskStatus.Source.SOURCE_EXECUTOR);
  assert.equal(status.timestamp, 5);
  assert.notDeepEqual(status.uuid, Buffer.alloc(16));
});

test('the uuid is 16 raw bytes of an RFC 4122 version 4 uuid', () => {
  for (let i = 0; i < 200; i++) {
    const uuid = newTaskStatus('t', 'e', { state: TaskState.TASK_RUNNING }).uuid!;
    assert.equal(uuid.length, 16);
    assert.equal(uuid[6]! >> 4, 4, 'version nibble');
    assert.equal(uuid[8]! & 0xc0, 0x80, 'variant bits 10xx');
  }
  assert.equal(uuidBytes().length, 16);
});

test('every status gets a fresh uuid', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    seen.add(Buffer.from(newTaskStatus('t', 'e', { state: TaskState.TASK_RUNNING }).uuid!).toString('hex'));
  }
  assert.equal(seen.size, 1000);
});

test('an UPDATE carrying the status passes the agent validation', () => {
  for (const state of [TaskState.TASK_STARTING, TaskState.TASK_RUNNING, TaskState.TASK_KILLING, TaskState.TASK_FINISHED, TaskState.TASK_FAILED]) {
    const status = newTaskStatus('t', 'exec-1', { state });
    const error = validateExecutorCall({
      type: mesos.v1.executor.Call.Type.UPDATE,
      executor_id: { value: 'exec-1' },
      framework_id: { value: 'fw' },
      update: { status },
    });
    assert.equal(error, undefined, `state ${state}`);
  }
});
