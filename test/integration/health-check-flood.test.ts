// A hostile health check through the built executor and the local agent: interval 0 and a
// million consecutive failures against a closed loopback port. Mesos accepts interval 0, so the
// task keeps running; the executor raises the interval to its floor, so the updates the agent
// gets, the executor's memory and the time a KILL takes all stay bounded.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, it } from 'node:test';
import type { ExecutorRecord, LocalAgent, ReceivedUpdate } from '../../src/agent/local-agent.js';
import { MIN_CHECK_INTERVAL_MS } from '../../src/checks/check-interval.js';
import { shellTask, sleep, startAgent, terminal } from '../helpers/harness.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;
const { Reason } = mesos.v1.TaskStatus;

const WINDOW_MS = 4000;
// The task stops at once on SIGTERM.
const UNTIL_TERM = "trap 'exit 0' TERM; while true; do sleep 0.1; done";

// A loopback port with nothing listening: each probe is refused at once.
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(match, `VmRSS of pid ${pid}`);
  return Number(match[1]) * 1024;
}

function healthUpdates(record: ExecutorRecord): ReceivedUpdate[] {
  return record.updates.filter((update) => !update.duplicate && update.status.reason === Reason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED);
}

// Launches the flooding task and watches it for WINDOW_MS after TASK_RUNNING: the largest RSS seen and the time watched.
async function flood(agent: LocalAgent): Promise<{ record: ExecutorRecord; elapsedMs: number; maxRss: number; firstRss: number }> {
  const record = agent.launch(shellTask(UNTIL_TERM, {
    health_check: { type: 'TCP', tcp: { port: await closedPort() }, delay_seconds: 0, interval_seconds: 0, grace_period_seconds: 0, consecutive_failures: 1_000_000 },
  }));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING, 30_000);
  const start = Date.now();
  const firstRss = rssBytes(record.process.pid!);
  let maxRss = firstRss;
  // A measurement over a window, not a wait for a condition.
  while (Date.now() - start < WINDOW_MS) {
    await sleep(200);
    maxRss = Math.max(maxRss, rssBytes(record.process.pid!));
  }
  return { record, elapsedMs: Date.now() - start, maxRss, firstRss };
}

describe('health-check flood', { concurrency: 2 }, () => {
  it('interval 0 keeps the task running with a bounded stream of updates, bounded memory and a prompt kill', async (t) => {
    const agent = await startAgent(t);
    const { record, elapsedMs, maxRss, firstRss } = await flood(agent);
    const updates = healthUpdates(record);
    const bound = Math.ceil(elapsedMs / MIN_CHECK_INTERVAL_MS) + 3;
    assert.ok(updates.length >= 2, `the check keeps running and failing: ${updates.length} health updates`);
    assert.ok(updates.length <= bound, `${updates.length} health updates in ${elapsedMs} ms; expected at most ${bound}`);
    assert.ok(updates.every((update) => update.status.state === TaskState.TASK_RUNNING && update.status.healthy === false));
    assert.equal(record.updates.filter((update) => update.status.state === TaskState.TASK_KILLED).length, 0, 'still running');
    assert.ok(maxRss - firstRss < 32 * 1024 * 1024, `RSS grew from ${firstRss} to ${maxRss} bytes`);

    const killedAt = Date.now();
    agent.kill(record.executorId, 1000);
    const last = await terminal(agent, record, 10_000);
    assert.equal(last.status.state, TaskState.TASK_KILLED);
    assert.ok(Date.now() - killedAt < 5000, `TASK_KILLED after ${Date.now() - killedAt} ms`);
  });

  it('without acknowledgements the distinct updates stay bounded too', async (t) => {
    const agent = await startAgent(t, { autoAcknowledge: false });
    const { record, elapsedMs } = await flood(agent);
    const distinct = new Set(record.updates.map((update) => Buffer.from(update.status.uuid ?? []).toString('hex')));
    const bound = Math.ceil(elapsedMs / MIN_CHECK_INTERVAL_MS) + 5;
    assert.ok(distinct.size <= bound, `${distinct.size} distinct updates in ${elapsedMs} ms; expected at most ${bound}`);
    // While the unhealthy update is unacknowledged, the same result again is not news.
    const health = new Set(healthUpdates(record).map((update) => Buffer.from(update.status.uuid ?? []).toString('hex')));
    assert.equal(health.size, 1, `${health.size} distinct health updates; repeated failures are coalesced`);

    const killedAt = Date.now();
    agent.kill(record.executorId, 1000);
    const last = await terminal(agent, record, 10_000);
    assert.equal(last.status.state, TaskState.TASK_KILLED);
    assert.ok(Date.now() - killedAt < 5000, `TASK_KILLED after ${Date.now() - killedAt} ms`);
  });
});
