// Races found by driving tasks with kills and executor restarts at awkward moments, each
// reproduced on its own: the task still ends as it should, once.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stateName } from '../../src/executor/task-states.js';
import { startDockerProxy } from '../helpers/docker-proxy.js';
import { containerExists, DOCKER_SOCKET, eventually, exitCode, inspectContainer, sandboxFile, shellTask, startAgent, states, terminal } from '../helpers/harness.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;
const EventType = mesos.v1.executor.Event.Type;

const UNTIL_TERM = "trap 'exit 0' TERM; while true; do sleep 0.05; done";

test('a KILL while a restarted executor adopts its container ends TASK_KILLED', async (t) => {
  const agent = await startAgent(t, { checkpoint: true, subscriptionBackoffMaxMs: 100 });
  const record = agent.launch(shellTask(UNTIL_TERM));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
  record.process.kill('SIGKILL');
  await exitCode(record);

  // The KILL goes out the moment the new executor's subscription is open, while it adopts.
  const killed = new Promise<void>((resolve) => {
    agent.on('subscribe', function onSubscribe(subscribed: { executorId: string }) {
      if (subscribed.executorId !== record.executorId) return;
      agent.off('subscribe', onSubscribe);
      setImmediate(() => {
        agent.kill(record.executorId, 2000);
        resolve();
      });
    });
  });
  agent.relaunch(record.executorId);
  await killed;
  const last = await terminal(agent, record);
  assert.equal(stateName(last.status.state), 'TASK_KILLED', last.status.message ?? '');
  assert.equal(await exitCode(record), 0);
  assert.equal(await containerExists(record.containerName), false);
});

test('an executor killed between create and start: the next one starts the container, and the task runs', async (t) => {
  let hangStart = true;
  const proxy = await startDockerProxy(join(mkdtempSync(join(tmpdir(), 'docker-proxy-')), 'docker.sock'), DOCKER_SOCKET,
    (method, url) => hangStart && method === 'POST' && /\/containers\/[^/]+\/start$/.test(url.split('?')[0]!));
  t.after(() => proxy.close());
  const agent = await startAgent(t, { checkpoint: true, subscriptionBackoffMaxMs: 100, dockerSocket: proxy.socketPath });
  const record = agent.launch(shellTask('echo ran; sleep 0.5'));
  await eventually('the start to be asked for', () => proxy.hung.length > 0 || undefined);
  assert.equal((await inspectContainer(record.containerName)).State.Status, 'created');
  record.process.kill('SIGKILL');
  await exitCode(record);

  hangStart = false;
  agent.relaunch(record.executorId);
  const last = await terminal(agent, record);
  assert.equal(stateName(last.status.state), 'TASK_FINISHED', last.status.message ?? '');
  assert.equal(last.status.message, 'Container exited with status 0');
  assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  assert.equal(sandboxFile(record, 'stdout'), 'ran\n', 'the task did run, once');
  assert.equal(await exitCode(record), 0);
  assert.equal(await containerExists(record.containerName), false);
});

test('a KILL right after SUBSCRIBED and LAUNCH neither crashes the executor nor loses the update', async (t) => {
  for (let round = 0; round < 5; round++) {
    const agent = await startAgent(t, { holdLaunch: true });
    const task = shellTask('sleep 30');
    const record = agent.launch(task);
    await eventually('the subscription', () => record.state === 'running' || undefined);
    agent.sendEvent(record.executorId, { type: EventType.LAUNCH, launch: { task } });
    await new Promise((resolve) => setTimeout(resolve, round));
    agent.sendEvent(record.executorId, { type: EventType.KILL, kill: { task_id: task.task_id! } });
    const last = await terminal(agent, record);
    assert.equal(stateName(last.status.state), 'TASK_KILLED', `round ${round}: ${last.status.message}`);
    assert.equal(await exitCode(record), 0, `round ${round}`);
    assert.equal(await containerExists(record.containerName), false);
  }
});

test('a kill in progress survives an executor restart: the task ends TASK_KILLED, not stopped from outside', async (t) => {
  const agent = await startAgent(t, { checkpoint: true, subscriptionBackoffMaxMs: 100 });
  // The task takes its time to stop on SIGTERM, then exits 0.
  const record = agent.launch(shellTask("trap 'sleep 2; exit 0' TERM; while true; do sleep 0.05; done"));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
  agent.kill(record.executorId, 20_000);
  await eventually('SIGTERM to be sent', () => sandboxFile(record, 'stderr').includes('Sending SIGTERM') || undefined);
  record.process.kill('SIGKILL');
  await exitCode(record);

  agent.relaunch(record.executorId);
  const last = await terminal(agent, record);
  assert.equal(stateName(last.status.state), 'TASK_KILLED', last.status.message ?? '');
  assert.doesNotMatch(last.status.message ?? '', /outside the executor/);
  assert.equal(await exitCode(record), 0);
  assert.equal(await containerExists(record.containerName), false);
});
