import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckScheduler } from '../../src/checks/check-scheduler.js';
import type { ProbeResult } from '../../src/checks/probe-result.js';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

test('first attempt after the delay, the next an interval after the previous one completed', async (t) => {
  const started: number[] = [];
  const origin = Date.now();
  const scheduler = new CheckScheduler({
    delayMs: 100,
    intervalMs: 50,
    timeoutMs: 0,
    probe: async () => {
      started.push(Date.now() - origin);
      await sleep(100);
      return { kind: 'exit', exitCode: 0, output: '' };
    },
    onResult: () => undefined,
  });
  t.after(() => scheduler.stop());
  scheduler.start();
  await sleep(480);
  await scheduler.stop();
  assert.ok(started.length === 3, `attempts at ${started.join(', ')} ms`);
  assert.ok(started[0]! >= 95, `first attempt at ${started[0]} ms, after the 100 ms delay`);
  // Each attempt lasts 100 ms, then 50 ms of interval.
  assert.ok(started[1]! - started[0]! >= 145, `second attempt ${started[1]! - started[0]!} ms after the first`);
  assert.ok(started[2]! - started[1]! >= 145, `third attempt ${started[2]! - started[1]!} ms after the second`);
});

test('an attempt beyond the timeout is aborted and reported as a timeout', async () => {
  let aborted = false;
  const results: ProbeResult[] = [];
  const scheduler = new CheckScheduler({
    delayMs: 0,
    intervalMs: 60_000,
    timeoutMs: 100,
    probe: (signal) => new Promise((_, reject) => {
      signal.addEventListener('abort', () => {
        aborted = true;
        reject(signal.reason);
      });
    }),
    onResult: (result) => results.push(result),
  });
  scheduler.start();
  await sleep(300);
  await scheduler.stop();
  assert.equal(aborted, true);
  assert.deepEqual(results, [{ kind: 'timeout', afterMs: 100 }]);
});

test('a probe that throws gives an error result and the checks go on', async () => {
  const results: ProbeResult[] = [];
  const scheduler = new CheckScheduler({
    delayMs: 0,
    intervalMs: 10,
    timeoutMs: 0,
    probe: async () => {
      throw new Error('exec failed');
    },
    onResult: (result) => results.push(result),
  });
  scheduler.start();
  await sleep(100);
  await scheduler.stop();
  assert.ok(results.length >= 2, `${results.length} results`);
  assert.deepEqual(results[0], { kind: 'error', message: 'exec failed' });
});

test('stop() aborts the attempt in flight, waits for it, and no result follows', async () => {
  let finished = false;
  const results: ProbeResult[] = [];
  const scheduler = new CheckScheduler({
    delayMs: 0,
    intervalMs: 0,
    timeoutMs: 0,
    probe: (signal) => new Promise((_, reject) => {
      signal.addEventListener('abort', () => {
        // Cleaning up takes a while, as killing and reaping a process does.
        setTimeout(() => {
          finished = true;
          reject(signal.reason);
        }, 50);
      });
    }),
    onResult: (result) => results.push(result),
  });
  scheduler.start();
  await sleep(20);
  const stopping = scheduler.stop();
  assert.equal(scheduler.stop(), stopping, 'stop is idempotent');
  await stopping;
  assert.equal(finished, true, 'stop() settled only after the attempt ended');
  await sleep(50);
  assert.deepEqual(results, []);
});

test('stopped before its delay, a check never runs', async () => {
  let runs = 0;
  const scheduler = new CheckScheduler({
    delayMs: 50,
    intervalMs: 0,
    timeoutMs: 0,
    probe: async () => {
      runs += 1;
      return { kind: 'exit', exitCode: 0, output: '' };
    },
    onResult: () => undefined,
  });
  scheduler.start();
  await scheduler.stop();
  await sleep(100);
  assert.equal(runs, 0);
});
