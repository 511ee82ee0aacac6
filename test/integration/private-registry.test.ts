// Tasks whose image lives in a private registry (Debian's docker-registry on a loopback port with
// htpasswd auth, set up by scripts/setup-registry.sh), end to end through the executor.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { allCommandLines, exitCode, removeImage, sandboxFile, shellTask, startAgent, states, terminal } from '../helpers/harness.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;
const { Reason } = mesos.v1.TaskStatus;
import { REGISTRY, REGISTRY_PATTERN } from '../helpers/registry.js';

const IMAGE = `${REGISTRY}/private/busybox:e2e`;
const PASSWORD = 'testpassword';
const CONFIG = JSON.stringify({ auths: { [REGISTRY]: { auth: Buffer.from(`testuser:${PASSWORD}`).toString('base64') } } });

function removeLocalImage(): Promise<void> {
  return removeImage(IMAGE);
}

function privateTask(command: string) {
  const task = shellTask(command);
  task.container!.docker!.image = IMAGE;
  return task;
}


test('credentials seeded in the sandbox pull a private image; the password is in no argv, log or status', async (t) => {
  await removeLocalImage();
  const agent = await startAgent(t);
  const scans: string[][] = [];
  const scanner = setInterval(() => scans.push(allCommandLines()), 20);
  t.after(() => clearInterval(scanner));
  const record = agent.launch(privateTask('echo pulled and ran'), { sandboxFiles: { '.docker/config.json': CONFIG } });

  const last = await terminal(agent, record, 120_000);
  clearInterval(scanner);
  assert.equal(last.status.state, TaskState.TASK_FINISHED, last.status.message ?? '');
  assert.equal(sandboxFile(record, 'stdout'), 'pulled and ran\n');
  const starting = record.updates.filter((update) => update.status.state === TaskState.TASK_STARTING).map((update) => update.status.message ?? '');
  assert.ok(starting.some((message) => message.includes(`Pulling image '${IMAGE}'`)), 'pull progress reported in TASK_STARTING');
  assert.equal(await exitCode(record), 0);

  assert.ok(scans.length > 0);
  for (const scan of scans) for (const line of scan) assert.ok(!line.includes(PASSWORD), `password in argv: ${line}`);
  const texts = [sandboxFile(record, 'stderr'), sandboxFile(record, 'stdout'), ...record.updates.map((update) => update.status.message ?? '')];
  for (const text of texts) assert.ok(!text.includes(PASSWORD) && !text.includes(Buffer.from(`testuser:${PASSWORD}`).toString('base64')));
});

test('--docker_config given as a path supplies the credentials', async (t) => {
  await removeLocalImage();
  const path = join(mkdtempSync(join(tmpdir(), 'docker-config-')), 'config.json');
  writeFileSync(path, CONFIG, { mode: 0o600 });
  const agent = await startAgent(t, { executorFlags: [`--docker_config=file://${path}`] });
  const record = agent.launch(privateTask('true'));
  const last = await terminal(agent, record, 120_000);
  assert.equal(last.status.state, TaskState.TASK_FINISHED, last.status.message ?? '');
});

test('without credentials the pull fails with an authentication reason naming the image', async (t) => {
  await removeLocalImage();
  const agent = await startAgent(t);
  const record = agent.launch(privateTask('true'));
  const last = await terminal(agent, record, 120_000);
  assert.equal(last.status.state, TaskState.TASK_FAILED);
  assert.equal(last.status.reason, Reason.REASON_CONTAINER_LAUNCH_FAILED);
  assert.match(last.status.message ?? '', new RegExp(`${REGISTRY_PATTERN}/private/busybox:e2e`));
  assert.match(last.status.message ?? '', /requires credentials/);
  assert.equal(await exitCode(record), 0);
});

test('a missing image fails as not found', async (t) => {
  const agent = await startAgent(t);
  const task = privateTask('true');
  task.container!.docker!.image = `${REGISTRY}/private/busybox:no-such-tag`;
  const record = agent.launch(task, { sandboxFiles: { '.docker/config.json': CONFIG } });
  const last = await terminal(agent, record, 120_000);
  assert.deepEqual(states(record).filter((state) => state !== 'TASK_STARTING'), ['TASK_FAILED']);
  assert.match(last.status.message ?? '', /not found/);
});

test('force_pull_image pulls again an image that is present', async (t) => {
  const agent = await startAgent(t);
  const first = agent.launch(privateTask('true'), { sandboxFiles: { '.docker/config.json': CONFIG } });
  await terminal(agent, first, 120_000);
  await exitCode(first);

  const again = privateTask('true');
  again.container!.docker!.force_pull_image = true;
  const record = agent.launch(again, { sandboxFiles: { '.docker/config.json': CONFIG } });
  const last = await terminal(agent, record, 120_000);
  assert.equal(last.status.state, TaskState.TASK_FINISHED);
  assert.match(sandboxFile(record, 'stderr'), new RegExp(`Pulled image '${REGISTRY_PATTERN}/private/busybox:e2e'`));

  const plain = agent.launch(privateTask('true'), { sandboxFiles: { '.docker/config.json': CONFIG } });
  await terminal(agent, plain, 120_000);
  assert.doesNotMatch(sandboxFile(plain, 'stderr'), /Pulled image/, 'a present image is not pulled without force');
});
