import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { KillEscalation } from '../../src/executor/kill-escalation.js';

// A KillEscalation on mocked setTimeout and Date, recording each signal with the mocked time
// (ms since the test started) at which it was sent.
function setup(t: TestContext, stopSignal = 'SIGTERM') {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const sent: string[] = [];
  const escalation = new KillEscalation({
    stopSignal,
    signal: async (signal) => {
      sent.push(`${Date.now()} ${signal}`);
    },
  });
  return { escalation, sent, tick: (ms: number) => t.mock.timers.tick(ms) };
}

test('the stop signal goes first, SIGKILL when the grace period ends', (t) => {
  const { escalation, sent, tick } = setup(t);
  assert.equal(escalation.stopSignalSent, false);
  escalation.request(10_000);
  assert.deepEqual(sent, ['0 SIGTERM']);
  assert.equal(escalation.stopSignalSent, true);
  assert.equal(escalation.sigkillSent, false);
  tick(9_999);
  assert.deepEqual(sent, ['0 SIGTERM']);
  tick(1);
  assert.deepEqual(sent, ['0 SIGTERM', '10000 SIGKILL']);
  assert.equal(escalation.sigkillSent, true);
});

test("the image's stop signal is used", (t) => {
  const { escalation, sent, tick } = setup(t, 'SIGQUIT');
  assert.equal(escalation.stopSignal, 'SIGQUIT');
  escalation.request(1_000);
  tick(1_000);
  assert.deepEqual(sent, ['0 SIGQUIT', '1000 SIGKILL']);
});

test('a zero or negative grace period sends SIGKILL only, at once', (t) => {
  for (const grace of [0, -5]) {
    const { escalation, sent, tick } = setup(t);
    escalation.request(grace);
    assert.deepEqual(sent, ['0 SIGKILL'], `grace ${grace}`);
    assert.equal(escalation.stopSignalSent, false);
    assert.equal(escalation.sigkillSent, true);
    tick(60_000);
    assert.deepEqual(sent, ['0 SIGKILL'], `grace ${grace}`);
    t.mock.timers.reset();
  }
});

test('a second request with a shorter grace pulls SIGKILL earlier, without a second stop signal', (t) => {
  const { escalation, sent, tick } = setup(t);
  escalation.request(10_000);
  tick(2_000);
  escalation.request(3_000);
  assert.deepEqual(sent, ['0 SIGTERM']);
  tick(2_999);
  assert.deepEqual(sent, ['0 SIGTERM']);
  tick(1);
  assert.deepEqual(sent, ['0 SIGTERM', '5000 SIGKILL']);
  tick(10_000);
  assert.deepEqual(sent, ['0 SIGTERM', '5000 SIGKILL']);
});

test('a second request with grace 0 sends SIGKILL at once', (t) => {
  const { escalation, sent, tick } = setup(t);
  escalation.request(600_000);
  tick(1_000);
  escalation.request(0);
  assert.deepEqual(sent, ['0 SIGTERM', '1000 SIGKILL']);
  tick(600_000);
  assert.equal(sent.length, 2);
});

test('a second request with a longer grace, or the same grace later, does not delay SIGKILL', (t) => {
  const { escalation, sent, tick } = setup(t);
  escalation.request(3_000);
  tick(1_000);
  escalation.request(10_000);
  tick(1_000);
  escalation.request(3_000);
  tick(999);
  assert.deepEqual(sent, ['0 SIGTERM']);
  tick(1);
  assert.deepEqual(sent, ['0 SIGTERM', '3000 SIGKILL']);
});

test('nothing is sent after SIGKILL', (t) => {
  const { escalation, sent, tick } = setup(t);
  escalation.request(1_000);
  tick(1_000);
  assert.deepEqual(sent, ['0 SIGTERM', '1000 SIGKILL']);
  escalation.request(0);
  escalation.request(5_000);
  tick(60_000);
  assert.deepEqual(sent, ['0 SIGTERM', '1000 SIGKILL']);
});

test('cancel stops the pending SIGKILL', (t) => {
  const { escalation, sent, tick } = setup(t);
  escalation.request(1_000);
  escalation.cancel();
  tick(60_000);
  assert.deepEqual(sent, ['0 SIGTERM']);
  assert.equal(escalation.sigkillSent, false);
});

test('with an injected clock and real timers, a shorter request pulls SIGKILL in', async () => {
  const now = 1_000_000;
  const sent: string[] = [];
  const escalation = new KillEscalation({
    stopSignal: 'SIGTERM',
    now: () => now,
    signal: async (signal) => {
      sent.push(signal);
    },
  });
  escalation.request(60_000);
  escalation.request(40);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(sent, ['SIGTERM']);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(sent, ['SIGTERM', 'SIGKILL']);
});

test('a kill carried on by a restarted executor sends no second stop signal, only SIGKILL at the deadline', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const sent: string[] = [];
  const escalation = new KillEscalation({ stopSignal: 'SIGTERM', signal: async (signal) => { sent.push(`${Date.now()} ${signal}`); }, stopSignalSent: true });
  escalation.request(5_000);
  assert.deepEqual(sent, [], 'the stop signal went out before the restart');
  assert.equal(escalation.stopSignalSent, true);
  t.mock.timers.tick(4_999);
  assert.deepEqual(sent, []);
  t.mock.timers.tick(1);
  assert.deepEqual(sent, ['5000 SIGKILL']);
});
