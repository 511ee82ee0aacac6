// The executor's side of the v1 Executor HTTP API against the local agent: subscription retries,
// resubscription with unacknowledged updates, recovery timeout, no-checkpoint disconnection, auth.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { uuidKey } from '../../src/executor/update-ledger.js';
import { stateName } from '../../src/executor/task-states.js';
import { containerExists, eventually, exitCode, sandboxFile, shellTask, sleep, startAgent, states, terminal } from '../helpers/harness.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;
const CallType = mesos.v1.executor.Call.Type;

const KEEP_RUNNING = "trap 'exit 0' TERM; echo started; while true; do sleep 0.1; done";

test('SUBSCRIBE is retried until the agent accepts it', async (t) => {
  const agent = await startAgent(t);
  agent.setRecovering(true);
  const record = agent.launch(shellTask('echo hi'));
  await eventually('a second SUBSCRIBE refused while the agent recovers', () => agent.refusedWhileRecovering >= 2 || undefined);
  assert.equal(record.subscribeCalls.length, 0, 'no subscription while the agent recovers');
  assert.equal(record.exitCode, undefined, 'the executor keeps trying');
  agent.setRecovering(false);

  await terminal(agent, record);
  assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  assert.equal(await exitCode(record), 0);
});

test('every UPDATE carries a 16-byte v4 uuid, a timestamp, SOURCE_EXECUTOR and the executor id', async (t) => {
  const agent = await startAgent(t);
  const record = agent.launch(shellTask('true'));
  await terminal(agent, record);
  await exitCode(record);

  const updates = agent.calls.filter((call) => call.call.type === CallType.UPDATE).map((call) => call.call.update!.status!);
  assert.equal(updates.length, 3);
  const uuids = new Set<string>();
  for (const status of updates) {
    assert.equal(status.uuid!.length, 16);
    assert.equal(status.uuid![6]! >> 4, 4);
    uuids.add(uuidKey(status.uuid));
    assert.equal(status.source, mesos.v1.TaskStatus.Source.SOURCE_EXECUTOR);
    assert.equal(status.executor_id?.value, record.executorId);
    assert.ok(Math.abs(status.timestamp! - Date.now() / 1000) < 60);
    assert.equal(Object.hasOwn(status, 'agent_id'), false, 'agent_id is left for the agent');
  }
  assert.equal(uuids.size, 3);
  const subscribe = record.subscribeCalls[0]!;
  assert.equal(subscribe.subscribe?.unacknowledged_updates?.length ?? 0, 0);
  assert.equal(subscribe.subscribe?.unacknowledged_tasks?.length ?? 0, 0);
});

test('after a dropped stream the executor resubscribes with its unacknowledged updates and task, in order', async (t) => {
  const agent = await startAgent(t, { checkpoint: true, autoAcknowledge: false, subscriptionBackoffMaxMs: 200, frameworkCapabilities: [] });
  const record = agent.launch(shellTask(KEEP_RUNNING));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
  const sent = record.updates.map((update) => uuidKey(update.status.uuid));
  assert.equal(sent.length, 2);

  agent.dropStream(record.executorId);
  await eventually('a second SUBSCRIBE', () => record.subscribeCalls.length >= 2 || undefined);
  const resubscribe = record.subscribeCalls[1]!.subscribe!;
  assert.deepEqual(resubscribe.unacknowledged_updates!.map((update) => uuidKey(update.status!.uuid)), sent);
  assert.deepEqual(resubscribe.unacknowledged_updates!.map((update) => stateName(update.status!.state)), ['TASK_STARTING', 'TASK_RUNNING']);
  assert.deepEqual(resubscribe.unacknowledged_tasks!.map((task) => task.task_id?.value), [record.executorId]);

  // Acknowledge what was resent; nothing is sent a third time once acknowledged.
  for (const update of record.updates.filter((u) => u.viaSubscribe)) agent.acknowledge(record.executorId, update.status);
  agent.autoAcknowledge = true;
  agent.kill(record.executorId, 5000);
  await terminal(agent, record);
  assert.equal(await exitCode(record), 0);
  assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLED']);
  assert.equal(await containerExists(record.containerName), false);
});

test('an acknowledged task is not listed again, and the executor waits for the terminal acknowledgement', async (t) => {
  const agent = await startAgent(t, { checkpoint: true, subscriptionBackoffMaxMs: 200 });
  const record = agent.launch(shellTask(KEEP_RUNNING));
  // STARTING and RUNNING were acknowledged on receipt, on the stream ahead of the KILL below.
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
  agent.autoAcknowledge = false;
  agent.kill(record.executorId, 5000);
  const last = await terminal(agent, record);
  // A window of measurement: an executor not waiting for the acknowledgement would exit within it.
  await sleep(1000);
  assert.equal(record.exitCode, undefined, 'no exit before the terminal update is acknowledged');

  agent.dropStream(record.executorId);
  await eventually('a second SUBSCRIBE', () => record.subscribeCalls.length >= 2 || undefined);
  const resubscribe = record.subscribeCalls[1]!.subscribe!;
  assert.equal(resubscribe.unacknowledged_tasks?.length ?? 0, 0, 'the task had updates acknowledged');
  assert.deepEqual(resubscribe.unacknowledged_updates!.map((update) => uuidKey(update.status!.uuid)), [uuidKey(last.status.uuid)]);

  agent.acknowledge(record.executorId, last.status);
  assert.equal(await exitCode(record), 0);
});

test('when the agent stays away past the recovery timeout the container is stopped and the executor exits', async (t) => {
  const agent = await startAgent(t, { checkpoint: true, recoveryTimeoutMs: 2000, subscriptionBackoffMaxMs: 200 });
  const record = agent.launch(shellTask(KEEP_RUNNING));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
  assert.equal(await containerExists(record.containerName), true);

  const stopped = Date.now();
  await agent.stop();
  const code = await exitCode(record, 30_000);
  const elapsed = Date.now() - stopped;
  assert.notEqual(code, 0);
  assert.ok(elapsed >= 1800, `exited after ${elapsed} ms, not before the recovery timeout`);
  assert.equal(await containerExists(record.containerName), false, 'no container left behind');
  assert.match(sandboxFile(record, 'stderr'), /Recovery timeout of 2secs exceeded/);
});

test('without checkpointing, a disconnection kills the task and the executor exits', async (t) => {
  const agent = await startAgent(t, { checkpoint: false });
  const record = agent.launch(shellTask(KEEP_RUNNING));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);

  agent.dropStream(record.executorId);
  const code = await exitCode(record, 30_000);
  assert.notEqual(code, 0);
  assert.equal(record.subscribeCalls.length, 1, 'no resubscription');
  assert.equal(await containerExists(record.containerName), false);
  assert.match(sandboxFile(record, 'stderr'), /does not checkpoint/);
});

test('an agent that no longer knows the executor makes it stop the container and exit', async (t) => {
  const agent = await startAgent(t, { checkpoint: true, subscriptionBackoffMaxMs: 200 });
  const record = agent.launch(shellTask(KEEP_RUNNING));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
  await agent.stop();
  // A restarted agent with no memory of this executor answers 400 "Executor cannot be found".
  (agent as unknown as { executors: Map<string, unknown> }).executors.delete(record.executorId);
  await agent.start();

  const code = await exitCode(record, 30_000);
  assert.notEqual(code, 0);
  assert.equal(await containerExists(record.containerName), false);
  assert.match(sandboxFile(record, 'stderr'), /Executor cannot be found/);
});

test('the auth token is sent as a Bearer header and never reaches the container', async (t) => {
  const token = 'tok-9f8e7d6c5b4a';
  const agent = await startAgent(t, { authToken: token });
  const record = agent.launch(shellTask('env; echo done'));
  await terminal(agent, record);
  assert.equal(await exitCode(record), 0);

  assert.ok(agent.calls.length >= 4);
  for (const call of agent.calls) assert.equal(call.headers.authorization, `Bearer ${token}`);
  const stdout = sandboxFile(record, 'stdout');
  assert.match(stdout, /done/);
  assert.doesNotMatch(stdout, /MESOS_EXECUTOR_AUTHENTICATION_TOKEN/);
  assert.ok(!stdout.includes(token));
  assert.ok(!sandboxFile(record, 'stderr').includes(token), 'the token is not logged');
});

test('an executor with the wrong token is refused (401) and exits without running anything', async (t) => {
  const agent = await startAgent(t, { authToken: 'expected-token', executorEnv: { MESOS_EXECUTOR_AUTHENTICATION_TOKEN: 'wrong-token' } });
  const record = agent.launch(shellTask('true'));
  const code = await exitCode(record, 30_000);
  assert.notEqual(code, 0);
  assert.match(sandboxFile(record, 'stderr'), /401/);
  assert.equal(record.updates.length, 0);
  assert.equal(record.subscribeCalls.length, 0);
});

test('with MESOS_DOMAIN_SOCKET the executor talks to the agent over the unix socket', async (t) => {
  const socket = join(mkdtempSync(join(tmpdir(), 'agent-sock-')), 'agent.sock');
  const agent = await startAgent(t, { domainSocket: socket });
  const record = agent.launch(shellTask('echo over the socket'));
  await terminal(agent, record);
  assert.equal(await exitCode(record), 0);
  assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  assert.ok(agent.calls.length >= 4);
  assert.ok(agent.calls.every((call) => call.viaDomainSocket), 'every call came over the domain socket');
});
