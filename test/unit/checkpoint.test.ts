import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkpointPath, CheckpointError, readCheckpoint, saveCheckpoint, writeCheckpoint, type Checkpoint } from '../../src/executor/checkpoint.js';
import { newTaskStatus } from '../../src/executor/task-status.js';
import { mesos } from '../../src/proto/generated/mesos.js';

function sample(): Checkpoint {
  return {
    executorId: 'e1',
    frameworkId: 'f1',
    pid: 4242,
    containerName: 'mesos-c1',
    containerId: 'c1',
    task: {
      name: 't',
      task_id: { value: 't1' },
      agent_id: { value: 'a1' },
      command: {
        value: 'true',
        environment: { variables: [{ name: 'TOKEN', type: mesos.v1.Environment.Variable.Type.SECRET, secret: { type: mesos.v1.Secret.Type.VALUE, value: { data: Buffer.from('top-secret-value') } } }, { name: 'PLAIN', value: 'p' }] },
      },
      container: { type: mesos.v1.ContainerInfo.Type.DOCKER, docker: { image: 'busybox' } },
    },
    unacknowledged: [
      { status: newTaskStatus('t1', 'e1', { state: mesos.v1.TaskState.TASK_STARTING }) },
      { status: newTaskStatus('t1', 'e1', { state: mesos.v1.TaskState.TASK_RUNNING, message: 'running' }) },
    ],
    acknowledgedTasks: ['t0'],
    terminalReported: false,
    lastState: 1,
  };
}

test('a checkpoint reads back what was written, in order, privately and without secret values', () => {
  const sandbox = mkdtempSync(join(tmpdir(), 'checkpoint-'));
  const written = sample();
  writeCheckpoint(sandbox, written);
  assert.equal(statSync(checkpointPath(sandbox)).mode & 0o777, 0o600);
  assert.ok(!readFileSync(checkpointPath(sandbox), 'utf8').includes(Buffer.from('top-secret-value').toString('base64')));
  assert.ok(!readFileSync(checkpointPath(sandbox), 'latin1').includes('top-secret-value'));

  const read = readCheckpoint(sandbox)!;
  assert.equal(read.executorId, 'e1');
  assert.equal(read.pid, 4242);
  assert.equal(read.containerName, 'mesos-c1');
  assert.deepEqual(read.unacknowledged.map((update) => Buffer.from(update.status.uuid!).toString('hex')), written.unacknowledged.map((update) => Buffer.from(update.status.uuid!).toString('hex')));
  assert.deepEqual(read.unacknowledged.map((update) => update.status.state), [0, 1]);
  assert.equal(read.task?.task_id?.value, 't1');
  const variables = read.task?.command?.environment?.variables ?? [];
  assert.equal(variables.find((v) => v.name === 'PLAIN')?.value, 'p');
  assert.equal(Buffer.from(variables.find((v) => v.name === 'TOKEN')?.secret?.value?.data ?? []).length, 0);
  assert.deepEqual(read.acknowledgedTasks, ['t0']);
  assert.equal(read.lastState, 1);
});

test('a checkpoint saved off the event loop, durable or not, reads back the same, private, replacing a link at its name', async () => {
  for (const durable of [true, false]) {
    const directory = mkdtempSync(join(tmpdir(), 'checkpoint-'));
    const victim = join(directory, 'victim');
    writeFileSync(victim, 'untouched');
    symlinkSync(victim, checkpointPath(directory));
    await saveCheckpoint(directory, sample(), { durable });
    assert.equal(readFileSync(victim, 'utf8'), 'untouched', 'the link is replaced, not written through');
    assert.equal(lstatSync(checkpointPath(directory)).isFile(), true);
    assert.equal(statSync(checkpointPath(directory)).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(directory).sort(), ['checkpoint.json', 'victim'], 'no temporary file is left');
    const read = readCheckpoint(directory)!;
    assert.equal(read.containerName, 'mesos-c1');
    assert.deepEqual(read.unacknowledged.map((update) => update.status.state), [0, 1]);
    assert.ok(!readFileSync(checkpointPath(directory), 'latin1').includes('top-secret-value'));
  }
});

test('no checkpoint reads as undefined; a corrupt one is a clear error', () => {
  const sandbox = mkdtempSync(join(tmpdir(), 'checkpoint-'));
  assert.equal(readCheckpoint(sandbox), undefined);
  writeFileSync(checkpointPath(sandbox), '{not json');
  assert.throws(() => readCheckpoint(sandbox), (error: unknown) => error instanceof CheckpointError && /unreadable/.test(error.message));
  writeFileSync(checkpointPath(sandbox), JSON.stringify({ version: 1, executor_id: 'e', framework_id: 'f', unacknowledged: ['!!!'] }));
  assert.throws(() => readCheckpoint(sandbox), CheckpointError);
});

test('no Secret value from anywhere in the TaskInfo reaches the checkpoint file', () => {
  const directory = mkdtempSync(join(tmpdir(), 'checkpoint-'));
  const secret = (text: string) => ({ type: mesos.v1.Secret.Type.VALUE, value: { data: Buffer.from(text) } });
  const env = (text: string) => ({ variables: [{ name: 'S', type: mesos.v1.Environment.Variable.Type.SECRET, secret: secret(text) }] });
  const task = {
    ...sample().task,
    data: Buffer.from('framework-data-secret'),
    command: { value: 'true', environment: env('command-env-secret') },
    health_check: { type: mesos.v1.HealthCheck.Type.COMMAND, command: { value: 'true', environment: env('health-env-secret') } },
    check: { type: mesos.v1.CheckInfo.Type.COMMAND, command: { command: { value: 'true', environment: env('check-env-secret') } } },
    container: {
      type: mesos.v1.ContainerInfo.Type.DOCKER,
      docker: { image: 'busybox' },
      volumes: [
        { container_path: '/s', mode: mesos.v1.Volume.Mode.RO, source: { type: mesos.v1.Volume.Source.Type.SECRET, secret: secret('volume-secret') } },
        { container_path: '/c', mode: mesos.v1.Volume.Mode.RO, source: { type: mesos.v1.Volume.Source.Type.CSI_VOLUME, csi_volume: { plugin_name: 'p', static_provisioning: { volume_id: 'v', volume_capability: { mount: {}, access_mode: { mode: mesos.v1.Volume.Source.CSIVolume.VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER } }, node_stage_secrets: { k: secret('csi-stage-secret') }, node_publish_secrets: { k: secret('csi-publish-secret') } } } } },
      ],
    },
  };
  writeCheckpoint(directory, { ...sample(), task: task as never });
  const text = readFileSync(checkpointPath(directory), 'latin1');
  const decoded = Buffer.from(JSON.parse(text).task, 'base64').toString('latin1');
  for (const value of ['framework-data-secret', 'command-env-secret', 'health-env-secret', 'check-env-secret', 'volume-secret', 'csi-stage-secret', 'csi-publish-secret']) {
    assert.ok(!text.includes(value) && !decoded.includes(value) && !text.includes(Buffer.from(value).toString('base64')), value);
  }
  const read = readCheckpoint(directory)!;
  assert.equal(read.task?.health_check?.command?.environment?.variables?.[0]?.name, 'S', 'the variable stays, without its value');
  assert.equal(read.task?.container?.volumes?.length, 2);
});

test('a kill in progress is checkpointed and read back; a malformed one is dropped', () => {
  const directory = mkdtempSync(join(tmpdir(), 'checkpoint-'));
  const kill = { cause: 'framework' as const, graceMs: 20_000, deadline: 1_800_000_000_000, stopSignalSent: true };
  writeCheckpoint(directory, { ...sample(), kill });
  assert.deepEqual(readCheckpoint(directory)!.kill, kill);
  writeCheckpoint(directory, { ...sample(), kill: { ...kill, cause: 'bogus' as never } });
  assert.equal(readCheckpoint(directory)!.kill, undefined);
});
