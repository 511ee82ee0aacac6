import assert from 'node:assert/strict';
import { test } from 'node:test';
import { abortableSleep, retry } from '../../src/retry.js';

test('retry repeats with the delays the policy picks until the work succeeds', async () => {
  const seen: Array<[number, string]> = [];
  const result = await retry(async (attempt) => {
    if (attempt < 3) throw new Error(`fail ${attempt}`);
    return 'ok';
  }, (attempt, error) => {
    seen.push([attempt, (error as Error).message]);
    return 1;
  });
  assert.equal(result, 'ok');
  assert.deepEqual(seen, [[1, 'fail 1'], [2, 'fail 2']]);
});

test('retry stops when the policy says so, throwing the last error', async () => {
  let calls = 0;
  await assert.rejects(retry(async () => {
    calls += 1;
    throw new Error(`fail ${calls}`);
  }, (attempt) => (attempt < 2 ? 1 : undefined)), /fail 2/);
  assert.equal(calls, 2);
});

test('an abort ends the waiting at once and the retries with it', async () => {
  const controller = new AbortController();
  let calls = 0;
  const started = Date.now();
  const pending = retry(async () => {
    calls += 1;
    throw new Error('down');
  }, () => 60_000, controller.signal);
  setImmediate(() => controller.abort(new Error('the task ended')));
  await assert.rejects(pending, /down|the task ended/);
  assert.equal(calls, 1);
  assert.ok(Date.now() - started < 5000, 'not the 60 s delay');
  await abortableSleep(60_000, controller.signal);
});
