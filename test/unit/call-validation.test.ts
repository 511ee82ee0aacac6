import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidUuid, validateExecutorCall } from '../../src/agent/call-validation.js';
import { mesos } from '../../src/proto/generated/mesos.js';

import Call = mesos.v1.executor.Call;

const UUID_V4 = Buffer.from('3f2b8c1e7d4a4f6b9c2d1a2b3c4d5e6f', 'hex');
const IDS = { executor_id: { value: 'exec-1' }, framework_id: { value: 'fw-1' } };

function withVersion(version: number): Buffer {
  const bytes = Buffer.from(UUID_V4);
  bytes[6] = (version << 4) | (bytes[6]! & 0x0f);
  return bytes;
}

function status(overrides: Partial<mesos.v1.ITaskStatus> = {}): mesos.v1.ITaskStatus {
  return {
    task_id: { value: 'task-1' },
    state: mesos.v1.TaskState.TASK_RUNNING,
    source: mesos.v1.TaskStatus.Source.SOURCE_EXECUTOR,
    uuid: UUID_V4,
    executor_id: { value: 'exec-1' },
    timestamp: 1_700_000_000,
    ...overrides,
  };
}

function updateCall(overrides: Partial<mesos.v1.ITaskStatus> = {}): Call.$Properties {
  return { ...IDS, type: Call.Type.UPDATE, update: { status: status(overrides) } };
}

test('valid calls of every type are accepted', () => {
  const cases: Array<[string, Call.$Properties]> = [
    ['SUBSCRIBE with an empty subscribe', { ...IDS, type: Call.Type.SUBSCRIBE, subscribe: {} }],
    ['SUBSCRIBE with unacknowledged updates', {
      ...IDS,
      type: Call.Type.SUBSCRIBE,
      subscribe: { unacknowledged_updates: [{ status: status() }], unacknowledged_tasks: [] },
    }],
    ['UPDATE', updateCall()],
    ['UPDATE without executor_id in the status', updateCall({ executor_id: null })],
    ['UPDATE terminal', updateCall({ state: mesos.v1.TaskState.TASK_FINISHED })],
    ['UPDATE STARTING', updateCall({ state: mesos.v1.TaskState.TASK_STARTING })],
    ['MESSAGE', { ...IDS, type: Call.Type.MESSAGE, message: { data: Buffer.from('hi') } }],
    ['HEARTBEAT', { ...IDS, type: Call.Type.HEARTBEAT }],
    ['HEARTBEAT with the dummy ids of the reference library', { executor_id: { value: 'unused' }, framework_id: { value: 'unused' }, type: Call.Type.HEARTBEAT }],
    ['UNKNOWN', { ...IDS, type: Call.Type.UNKNOWN }],
  ];
  for (const [name, call] of cases) {
    assert.equal(validateExecutorCall(call), undefined, name);
    assert.equal(validateExecutorCall(Call.fromObject(call)), undefined, `${name} (generated instance)`);
  }
});

test('type, executor_id and framework_id must be present', () => {
  const cases: Array<[string, Call.$Properties, string]> = [
    ['no type', { ...IDS }, "Expecting 'type' to be present"],
    ['type null', { ...IDS, type: null }, "Expecting 'type' to be present"],
    ['no executor_id', { framework_id: IDS.framework_id, type: Call.Type.HEARTBEAT } as Call.$Properties, "Expecting 'executor_id' to be present"],
    ['empty executor_id', { ...IDS, executor_id: { value: '' }, type: Call.Type.HEARTBEAT }, "Expecting 'executor_id' to be present"],
    ['no framework_id', { executor_id: IDS.executor_id, type: Call.Type.HEARTBEAT } as Call.$Properties, "Expecting 'framework_id' to be present"],
  ];
  for (const [name, call, error] of cases) {
    assert.equal(validateExecutorCall(call), error, name);
  }
});

// A decoded Call is a generated instance whose unset `type` reads as the proto2 default 0 (UNKNOWN)
// through the prototype; the agent checks has_type(), so a Call without type is still refused.
test('a decoded Call without type is refused', () => {
  assert.equal(validateExecutorCall(Call.fromObject({ ...IDS })), "Expecting 'type' to be present");
  assert.equal(validateExecutorCall(Call.decode(Call.encode(Call.fromObject({ ...IDS })).finish())), "Expecting 'type' to be present");
});

test('SUBSCRIBE needs the subscribe message, even empty', () => {
  assert.equal(validateExecutorCall({ ...IDS, type: Call.Type.SUBSCRIBE }), "Expecting 'subscribe' to be present");
  assert.equal(validateExecutorCall(Call.fromObject({ ...IDS, type: 'SUBSCRIBE' })), "Expecting 'subscribe' to be present");
});

test('MESSAGE needs the message', () => {
  assert.equal(validateExecutorCall({ ...IDS, type: Call.Type.MESSAGE }), "Expecting 'message' to be present");
});

test('UPDATE needs the update with its status', () => {
  assert.equal(validateExecutorCall({ ...IDS, type: Call.Type.UPDATE }), "Expecting 'update' to be present");
  assert.equal(
    validateExecutorCall({ ...IDS, type: Call.Type.UPDATE, update: {} as Call.Update.$Properties }),
    "Expecting 'update' to be present",
  );
});

test('an UPDATE status needs a uuid', () => {
  assert.equal(validateExecutorCall(updateCall({ uuid: undefined })), "Expecting 'uuid' to be present");
  assert.equal(validateExecutorCall(updateCall({ uuid: null })), "Expecting 'uuid' to be present");
});

// The generated TaskStatus has an empty-bytes default for uuid; the agent checks has_uuid().
test('a decoded UPDATE status without uuid says the uuid is missing', () => {
  const call = Call.fromObject({ ...IDS, type: 'UPDATE', update: { status: { task_id: { value: 't' }, state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR' } } });
  assert.equal(validateExecutorCall(call), "Expecting 'uuid' to be present");
});

test('the uuid must be 16 raw bytes with an RFC 4122 version of 1 to 5', () => {
  const text = Buffer.from(`${'3f2b8c1e-7d4a-4f6b-9c2d-1a2b3c4d5e6f'}\n`, 'ascii');
  assert.equal(text.length, 37);
  const cases: Array<[string, Uint8Array]> = [
    ['37-byte text uuid', text],
    ['36-byte text uuid', text.subarray(0, 36)],
    ['15 bytes', UUID_V4.subarray(0, 15)],
    ['17 bytes', Buffer.concat([UUID_V4, Buffer.from([0])])],
    ['empty', Buffer.alloc(0)],
    ['all zero (nil uuid)', Buffer.alloc(16)],
    ['version 0', withVersion(0)],
    ['version 6', withVersion(6)],
    ['version 15', withVersion(15)],
  ];
  for (const [name, uuid] of cases) {
    assert.equal(validateExecutorCall(updateCall({ uuid })), 'Not a valid UUID', name);
    assert.equal(isValidUuid(uuid), false, name);
  }
  for (const version of [1, 2, 3, 4, 5]) {
    assert.equal(validateExecutorCall(updateCall({ uuid: withVersion(version) })), undefined, `version ${version}`);
    assert.equal(isValidUuid(withVersion(version)), true, `version ${version}`);
  }
  // As it arrives from JSON: base64 of the 16 bytes, decoded by the generated class.
  const decoded = Call.fromObject({ ...updateCall(), update: { status: { ...status(), uuid: UUID_V4.toString('base64') } } });
  assert.equal(validateExecutorCall(decoded), undefined);
});

test("the status's executor_id, when set, must match the Call's", () => {
  assert.equal(
    validateExecutorCall(updateCall({ executor_id: { value: 'someone-else' } })),
    'ExecutorID in Call: exec-1 does not match ExecutorID in TaskStatus: someone-else',
  );
});

test('the status source must be SOURCE_EXECUTOR; unset reads as SOURCE_MASTER and fails', () => {
  const expected = "Received Call from executor exec-1 of framework fw-1 with invalid source, expecting 'SOURCE_EXECUTOR'";
  const cases: Array<[string, Call.$Properties | Call]> = [
    ['unset', updateCall({ source: undefined })],
    ['null', updateCall({ source: null })],
    ['SOURCE_MASTER', updateCall({ source: mesos.v1.TaskStatus.Source.SOURCE_MASTER })],
    ['SOURCE_AGENT', updateCall({ source: mesos.v1.TaskStatus.Source.SOURCE_AGENT })],
    ['unset in a generated instance', Call.fromObject(updateCall({ source: undefined }))],
  ];
  for (const [name, call] of cases) {
    assert.equal(validateExecutorCall(call), expected, name);
  }
});

test('an executor may not send TASK_STAGING', () => {
  assert.equal(
    validateExecutorCall(updateCall({ state: mesos.v1.TaskState.TASK_STAGING })),
    'Received TASK_STAGING from executor exec-1 which is not allowed',
  );
});

// Spec 1.5 rule 5: a check_status, when present, needs a type other than UNKNOWN and the
// sub-message of that type (validateCheckStatusInfo).
test('a check_status must be valid', () => {
  const CheckType = mesos.v1.CheckInfo.Type;
  const invalid: mesos.v1.ICheckStatusInfo[] = [
    {},
    { type: CheckType.UNKNOWN },
    { type: CheckType.COMMAND },
    { type: CheckType.HTTP, command: { exit_code: 0 } },
    { type: CheckType.TCP },
  ];
  for (const check_status of invalid) {
    assert.notEqual(validateExecutorCall(updateCall({ check_status })), undefined, JSON.stringify(check_status));
  }
  const valid: mesos.v1.ICheckStatusInfo[] = [
    { type: CheckType.COMMAND, command: { exit_code: 0 } },
    { type: CheckType.COMMAND, command: {} },
    { type: CheckType.HTTP, http: { status_code: 200 } },
    { type: CheckType.TCP, tcp: { succeeded: true } },
  ];
  for (const check_status of valid) {
    assert.equal(validateExecutorCall(updateCall({ check_status })), undefined, JSON.stringify(check_status));
  }
});

test('the checks apply in the agent order: uuid before executor id, source and state', () => {
  const call = updateCall({ uuid: withVersion(0), executor_id: { value: 'x' }, source: mesos.v1.TaskStatus.Source.SOURCE_MASTER, state: mesos.v1.TaskState.TASK_STAGING });
  assert.equal(validateExecutorCall(call), 'Not a valid UUID');
  const noUuid = updateCall({ uuid: withVersion(4), executor_id: { value: 'x' }, source: mesos.v1.TaskStatus.Source.SOURCE_MASTER, state: mesos.v1.TaskState.TASK_STAGING });
  assert.match(validateExecutorCall(noUuid)!, /^ExecutorID in Call/);
  const badSource = updateCall({ source: mesos.v1.TaskStatus.Source.SOURCE_MASTER, state: mesos.v1.TaskState.TASK_STAGING });
  assert.match(validateExecutorCall(badSource)!, /invalid source/);
});
