// The agent restarting at each step of a task's life: the executor resubscribes with exactly
// its unacknowledged updates, in order; nothing is lost, nothing arrives twice as new, nothing is
// left running.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LocalAgent, ReceivedUpdate } from '../../src/agent/local-agent.js';
import { stateName } from '../../src/executor/task-states.js';
import { uuidKey } from '../../src/executor/update-ledger.js';
import { containerExists, eventually, exitCode, sandboxFile, shellTask, sleep, startAgent, states, terminal } from '../helpers/harness.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;
const { TASK_KILLING_STATE } = mesos.v1.FrameworkInfo.Capability.Type;

const CHECKPOINTING = { checkpoint: true, subscriptionBackoffMaxMs: 300, recoveryTimeoutMs: 60_000 };

// Restarts the agent (same port, same memory) after `downMs`, as `mesos-agent --recover=reconnect` does.
async function restart(agent: LocalAgent, downMs = 1000): Promise<void> {
  await agent.stop();
  // The outage itself: the executor's attempts to reach the agent fail meanwhile.
  await sleep(downMs);
  await agent.start();
}

function assertDeliveredOnce(updates: ReceivedUpdate[], expected: string[]): void {
  const fresh = updates.filter((update) => !update.duplicate);
  assert.deepEqual(fresh.map((update) => stateName(update.status.state)), expected);
  // Every resend is a resend of something already received (same uuid), never a new update.
  const seen = new Set(fresh.map((update) => uuidKey(update.status.uuid)));
  for (const update of updates.filter((u) => u.duplicate)) assert.ok(seen.has(uuidKey(update.status.uuid)));
}

test('agent down before the executor subscribes', async (t) => {
  const agent = await startAgent(t, CHECKPOINTING);
  await agent.stop();
  const record = agent.launch(shellTask('echo hello'));
  // The outage itself, long enough for the new executor's first attempts to fail.
  await sleep(1500);
  await agent.start();

  await terminal(agent, record);
  assert.equal(await exitCode(record), 0);
  assertDeliveredOnce(record.updates, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
});

test('agent restarts after LAUNCH, before RUNNING is acknowledged', async (t) => {
  const agent = await startAgent(t, CHECKPOINTING);
  agent.autoAcknowledge = false;
  const record = agent.launch(shellTask('sleep 1; echo done'));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_STARTING);
  await restart(agent);
  agent.autoAcknowledge = true;
  // The resubscription carries the unacknowledged STARTING (and RUNNING if it was made meanwhile).
  for (const update of record.updates) agent.acknowledge(record.executorId, update.status);

  await terminal(agent, record);
  assert.equal(await exitCode(record), 0);
  assertDeliveredOnce(record.updates, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  const resubscribe = record.subscribeCalls[1]!.subscribe!;
  assert.equal(stateName(resubscribe.unacknowledged_updates![0]!.status!.state), 'TASK_STARTING');
  assert.deepEqual(resubscribe.unacknowledged_tasks!.map((task) => task.task_id?.value), [record.executorId]);
});

test('agent restarts during a kill', async (t) => {
  const agent = await startAgent(t, { ...CHECKPOINTING, frameworkCapabilities: [TASK_KILLING_STATE] });
  const record = agent.launch(shellTask("trap '' TERM; echo trapped; while true; do sleep 0.1; done"));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
  await eventually('the task to ignore TERM', () => sandboxFile(record, 'stdout').includes('trapped') || undefined);

  agent.kill(record.executorId, 2000);
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_KILLING);
  await restart(agent, 3000);

  await terminal(agent, record);
  assert.equal(await exitCode(record), 0);
  assertDeliveredOnce(record.updates, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
  assert.equal(await containerExists(record.containerName), false);
});

test('agent restarts after the terminal update, before acknowledging it', async (t) => {
  const agent = await startAgent(t, CHECKPOINTING);
  const record = agent.launch(shellTask('echo bye'));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
  agent.autoAcknowledge = false;
  const last = await terminal(agent, record);
  await restart(agent);
  assert.equal(record.exitCode, undefined, 'still waiting for the acknowledgement');
  await eventually('the resubscription', () => record.subscribeCalls.length >= 2 || undefined);
  agent.autoAcknowledge = true;
  const resent = record.subscribeCalls.at(-1)!.subscribe!.unacknowledged_updates!;
  assert.deepEqual(resent.map((update) => uuidKey(update.status!.uuid)), [uuidKey(last.status.uuid)]);
  agent.acknowledge(record.executorId, last.status);

  assert.equal(await exitCode(record), 0);
  assertDeliveredOnce(record.updates, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
});

test('the container exits while the agent is away: the terminal update waits for it', async (t) => {
  const agent = await startAgent(t, CHECKPOINTING);
  const record = agent.launch(shellTask('sleep 1; exit 4'));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
  await restart(agent, 3000);

  const last = await terminal(agent, record);
  assert.equal(last.status.message, 'Container exited with status 4');
  assert.equal(last.viaSubscribe, true, 'delivered with the resubscription');
  assert.equal(await exitCode(record), 0);
  assertDeliveredOnce(record.updates, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
});
