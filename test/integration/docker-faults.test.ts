// A hung or unreachable Docker daemon ends in a clear terminal update, never a hang.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startDockerProxy } from '../helpers/docker-proxy.js';
import { containerExists, DOCKER_SOCKET, exitCode, shellTask, startAgent, states, terminal } from '../helpers/harness.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;

function socketPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'docker-proxy-')), 'docker.sock');
}

test('a daemon that never answers fails the task within the API timeout', async (t) => {
  const proxy = await startDockerProxy(socketPath(), DOCKER_SOCKET, () => true);
  t.after(() => proxy.close());
  const agent = await startAgent(t, { dockerSocket: proxy.socketPath, executorFlags: ['--docker_api_timeout=2secs'] });
  const record = agent.launch(shellTask('true'));

  const started = Date.now();
  const last = await terminal(agent, record, 30_000);
  assert.ok(Date.now() - started < 15_000);
  assert.equal(last.status.state, TaskState.TASK_FAILED);
  assert.match(last.status.message ?? '', /did not answer .* within 2000 ms/);
  assert.equal(await exitCode(record, 30_000), 0);
});

test('an unreachable daemon fails the task with a message naming the socket', async (t) => {
  const missing = socketPath();
  const agent = await startAgent(t, { dockerSocket: missing });
  const record = agent.launch(shellTask('true'));

  const last = await terminal(agent, record, 30_000);
  assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_FAILED']);
  assert.ok((last.status.message ?? '').includes(missing), last.status.message ?? '');
  assert.equal(await exitCode(record, 30_000), 0);
});

test('a daemon that hangs on kill still ends the task, and the container is removed', async (t) => {
  const proxy = await startDockerProxy(socketPath(), DOCKER_SOCKET, (method, url) => method === 'POST' && /\/kill\b/.test(url));
  t.after(() => proxy.close());
  const agent = await startAgent(t, { dockerSocket: proxy.socketPath, executorFlags: ['--docker_api_timeout=2secs'] });
  const record = agent.launch(shellTask("trap '' TERM; while true; do sleep 0.1; done"));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);

  const started = Date.now();
  agent.kill(record.executorId, 500);
  const last = await terminal(agent, record, 60_000);
  assert.ok(Date.now() - started < 30_000, 'bounded');
  assert.equal(last.status.state, TaskState.TASK_FAILED);
  assert.match(last.status.message ?? '', /did not confirm that the container stopped/);
  assert.ok(proxy.hung.some((request) => request.includes('signal=SIGKILL')));
  assert.equal(await exitCode(record, 30_000), 0);
  assert.equal(await containerExists(record.containerName), false, 'removed with force even though kill hung');
});
