import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkStatusAfter, emptyCheckStatus, sameCheckStatus } from '../../src/checks/check-status.js';
import { describeResult, isHealthy, type ProbeResult } from '../../src/checks/probe-result.js';
import { validateExecutorCall } from '../../src/agent/call-validation.js';
import { decodeCall, encodeCall } from '../../src/protocol/codec.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const CheckType = mesos.v1.CheckInfo.Type;

test('an empty CheckStatusInfo has the check type and an empty sub-message', () => {
  assert.deepEqual(emptyCheckStatus('COMMAND'), { type: CheckType.COMMAND, command: {} });
  assert.deepEqual(emptyCheckStatus('HTTP'), { type: CheckType.HTTP, http: {} });
  assert.deepEqual(emptyCheckStatus('TCP'), { type: CheckType.TCP, tcp: {} });
});

test('results become check statuses; errors and timeouts the empty one; skipped attempts nothing', () => {
  const cases: Array<[Parameters<typeof checkStatusAfter>[0], ProbeResult, unknown]> = [
    ['COMMAND', { kind: 'exit', exitCode: 0, output: '' }, { type: CheckType.COMMAND, command: { exit_code: 0 } }],
    ['COMMAND', { kind: 'exit', exitCode: 137, output: 'x' }, { type: CheckType.COMMAND, command: { exit_code: 137 } }],
    ['COMMAND', { kind: 'timeout', afterMs: 1000 }, { type: CheckType.COMMAND, command: {} }],
    ['COMMAND', { kind: 'error', message: 'exec failed' }, { type: CheckType.COMMAND, command: {} }],
    ['HTTP', { kind: 'http', statusCode: 503 }, { type: CheckType.HTTP, http: { status_code: 503 } }],
    ['HTTP', { kind: 'error', message: 'curl exited with status 7' }, { type: CheckType.HTTP, http: {} }],
    ['TCP', { kind: 'tcp', connected: true }, { type: CheckType.TCP, tcp: { succeeded: true } }],
    ['TCP', { kind: 'tcp', connected: false, detail: 'refused' }, { type: CheckType.TCP, tcp: { succeeded: false } }],
    ['TCP', { kind: 'skipped', message: 'gone' }, undefined],
  ];
  for (const [type, result, expected] of cases) {
    assert.deepEqual(checkStatusAfter(type, result), expected, `${type} ${result.kind}`);
  }
});

test('a change is a different result, not a new attempt with the same one', () => {
  assert.equal(sameCheckStatus({ type: CheckType.COMMAND, command: { exit_code: 0 } }, { type: CheckType.COMMAND, command: { exit_code: 0 } }), true);
  assert.equal(sameCheckStatus({ type: CheckType.COMMAND, command: { exit_code: 0 } }, { type: CheckType.COMMAND, command: { exit_code: 1 } }), false);
  assert.equal(sameCheckStatus({ type: CheckType.COMMAND, command: {} }, { type: CheckType.COMMAND, command: { exit_code: 0 } }), false);
  assert.equal(sameCheckStatus(emptyCheckStatus('HTTP'), emptyCheckStatus('HTTP')), true);
  assert.equal(sameCheckStatus({ type: CheckType.TCP, tcp: { succeeded: true } }, { type: CheckType.TCP, tcp: { succeeded: false } }), false);
});

test('the statuses pass the agent validation of an UPDATE, in both content types', () => {
  for (const checkStatus of [emptyCheckStatus('COMMAND'), emptyCheckStatus('HTTP'), emptyCheckStatus('TCP'), { type: CheckType.COMMAND, command: { exit_code: 1 } }]) {
    const call = {
      type: mesos.v1.executor.Call.Type.UPDATE,
      executor_id: { value: 'e' },
      framework_id: { value: 'f' },
      update: { status: { task_id: { value: 't' }, state: mesos.v1.TaskState.TASK_RUNNING, source: mesos.v1.TaskStatus.Source.SOURCE_EXECUTOR, uuid: Buffer.from('3f2b8c1e7d4a4f6b9c2d1a2b3c4d5e6f', 'hex'), check_status: checkStatus } },
    };
    for (const contentType of ['application/json', 'application/x-protobuf'] as const) {
      const decoded = decodeCall(encodeCall(call, contentType), contentType);
      assert.equal(validateExecutorCall(decoded), undefined, `${JSON.stringify(checkStatus)} as ${contentType}`);
    }
  }
});

test('health reads exit 0, 2xx-3xx and a connection as healthy', () => {
  const cases: Array<[ProbeResult, boolean, string]> = [
    [{ kind: 'exit', exitCode: 0, output: '' }, true, 'exited with status 0'],
    [{ kind: 'exit', exitCode: 1, output: 'missing\n' }, false, 'exited with status 1: missing'],
    [{ kind: 'http', statusCode: 200 }, true, 'answered HTTP 200'],
    [{ kind: 'http', statusCode: 302 }, true, 'answered HTTP 302'],
    [{ kind: 'http', statusCode: 404 }, false, 'answered HTTP 404'],
    [{ kind: 'http', statusCode: 199 }, false, 'answered HTTP 199'],
    [{ kind: 'tcp', connected: true }, true, 'connected'],
    [{ kind: 'tcp', connected: false, detail: 'ECONNREFUSED' }, false, 'could not connect: ECONNREFUSED'],
    [{ kind: 'timeout', afterMs: 1500 }, false, 'timed out after 1.5s'],
    [{ kind: 'error', message: 'nsenter exited with status 1' }, false, 'nsenter exited with status 1'],
  ];
  for (const [result, healthy, description] of cases) {
    assert.equal(isHealthy(result), healthy, description);
    assert.equal(describeResult(result), description);
  }
});
