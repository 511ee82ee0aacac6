import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckScheduler } from '../../src/checks/check-scheduler.js';
import type { ProbeResult } from '../../src/checks/probe-result.js';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Resolves once `condition` holds, checked each time `poke` is called; fails after `timeoutMs`.
function until(what: string, timeoutMs = 5000): { poke: (condition: boolean) => void; reached: Promise<void> } {
  let poke!: (condition: boolean) => void;
  const reached = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), timeoutMs);
    poke = (condition) => {
      if (!condition) return;
      clearTimeout(timer);
      resolve();
    };
  });
  return { poke, reached };
}

test('first attempt after the delay, the next an interval after the previous one completed', async (t) => {
  const started: number[] = [];
  const third = until('a third attempt');
  const origin = Date.now();
  const scheduler = new CheckScheduler({
    delayMs: 100,
    intervalMs: 50,
    timeoutMs: 0,
    probe: async () => {
      started.push(Date.now() - origin);
      third.poke(started.length >= 3);
      await sleep(100);
      return { kind: 'exit', exitCode: 0, output: '' };
    },
    onResult: () => undefined,
  });
  t.after(() => scheduler.stop());
  scheduler.start();
  await third.reached;
  await scheduler.stop();
  assert.ok(started.length >= 3, `attempts at ${started.join(', ')} ms`);
  assert.ok(started[0]! >= 95, `first attempt at ${started[0]} ms, after the 100 ms delay`);
  // Each attempt lasts 100 ms, then 50 ms of interval: never two attempts closer than that.
  for (let i = 1; i < started.length; i += 1) {
    assert.ok(started[i]! - started[i - 1]! >= 145, `attempt ${i + 1} ${started[i]! - started[i - 1]!} ms after the previous one`);
  }
});

test('an attempt beyond the timeout is aborted and reported as a timeout', async () => {
  let aborted = false;
  const results: ProbeResult[] = [];
  const reported = until('the timeout result');
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
    onResult: (result) => {
      results.push(result);
      reported.poke(true);
    },
  });
  scheduler.start();
  await reported.reached;
  await scheduler.stop();
  assert.equal(aborted, true);
  assert.deepEqual(results, [{ kind: 'timeout', afterMs: 100 }]);
});

test('a probe that throws gives an error result and the checks go on', async () => {
  const results: ProbeResult[] = [];
  const second = until('a second result');
  const scheduler = new CheckScheduler({
    delayMs: 0,
    intervalMs: 10,
    timeoutMs: 0,
    probe: async () => {
      throw new Error('exec failed');
    },
    onResult: (result) => {
      results.push(result);
      second.poke(results.length >= 2);
    },
  });
  scheduler.start();
  await second.reached;
  await scheduler.stop();
  assert.ok(results.length >= 2, `${results.length} results`);
  assert.deepEqual(results[0], { kind: 'error', message: 'exec failed' });
});

test('stop() aborts the attempt in flight, waits for it, and no result follows', async () => {
  let finished = false;
  const results: ProbeResult[] = [];
  const inFlight = until('the attempt to start');
  const scheduler = new CheckScheduler({
    delayMs: 0,
    intervalMs: 0,
    timeoutMs: 0,
    probe: (signal) => new Promise((_, reject) => {
      inFlight.poke(true);
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
  await inFlight.reached;
  const stopping = scheduler.stop();
  assert.equal(scheduler.stop(), stopping, 'stop is idempotent');
  await stopping;
  assert.equal(finished, true, 'stop() settled only after the attempt ended');
  // A window of measurement: a result would come at once, so 50 ms without one shows none follows.
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
  // A window of measurement: twice the 50 ms delay, in which the cancelled first attempt would have run.
  await sleep(100);
  assert.equal(runs, 0);
});
