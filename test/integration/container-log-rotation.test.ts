// Rotating sandbox logs for executors in containers: this executor under --docker_mesos_image
// (its output reaches the logger through a FIFO it reopens from the agent's descriptors, so it
// lands rotated while no agent runs) and a framework's executor image (its attach stream copied
// into the logger). Every rotated file is exactly the size bound, the kept files reassemble into
// the output's tail, the loggers exit with the container, and nothing but the rotated files is
// left in the sandbox or beside it.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { loggerFifoRoot } from '../../src/agent/launcher.js';
import type { LogrotateSettings } from '../../src/agent/logrotate-settings.js';
import { mesos } from '../../src/proto/generated/mesos.js';
import { allCommandLines, BUSYBOX, eventually, exitCode, shellTask, startAgent, terminal } from '../helpers/harness.js';
import { ensureExecutorImage } from '../helpers/executor-images.js';
import { cleanUpServe, readServeCheckpoint, startServe, submit, waitForState } from '../helpers/serve-process.js';

const { TaskState } = mesos.v1;
const LOGGER = resolve(import.meta.dirname, '../../dist/logrotate.js');
const KB = 1024;
const MAX = 16 * KB;
const KEEP = 3;
const ROTATION: LogrotateSettings = { loggerPath: LOGGER, stdout: { maxBytes: MAX, keep: KEEP }, stderr: { maxBytes: 10 * KB * KB, keep: 0 } };
const ROTATION_FLAGS = ['--container_logger=rotate', '--max_stdout_size=16KB', '--logrotate_stdout_options=rotate 3'];

// What busybox's `seq <first> <last>` writes.
function seqOutput(first: number, last: number): Buffer {
  const lines: string[] = [];
  for (let n = first; n <= last; n++) lines.push(`${n}\n`);
  return Buffer.from(lines.join(''));
}

// stdout, stdout.1 .. stdout.KEEP present, each rotated file exactly MAX bytes, and their
// reassembly (oldest first) the tail of `expected`.
function assertRotated(sandbox: string, expected: Buffer): void {
  const names = readdirSync(sandbox).filter((entry) => entry === 'stdout' || entry.startsWith('stdout.')).sort();
  assert.deepEqual(names, ['stdout', ...Array.from({ length: KEEP }, (_, index) => `stdout.${index + 1}`)]);
  for (let index = 1; index <= KEEP; index++) assert.equal(statSync(join(sandbox, `stdout.${index}`)).size, MAX, `stdout.${index} is full`);
  const kept = Buffer.concat([...Array.from({ length: KEEP }, (_, index) => readFileSync(join(sandbox, `stdout.${KEEP - index}`))), readFileSync(join(sandbox, 'stdout'))]);
  assert.equal(kept.length, KEEP * MAX + (expected.length % MAX || MAX));
  assert.ok(kept.equals(expected.subarray(expected.length - kept.length)), 'the kept files reassemble into the tail of the output');
}

// The current file holds the last bytes of `expected`: all of it has landed.
function landed(sandbox: string, expected: Buffer): true | undefined {
  const current = readFileSync(join(sandbox, 'stdout'));
  return current.length === (expected.length % MAX || MAX) && current.equals(expected.subarray(expected.length - current.length)) ? true : undefined;
}

// The loggers of this sandbox still running.
function loggersOf(sandbox: string): string[] {
  return allCommandLines().filter((line) => line.includes(`--log_filename=${sandbox}/`));
}

// The agent's FIFO directory holds no name (each FIFO is unlinked once open).
function assertNoFifoLeft(workDir: string): void {
  const root = loggerFifoRoot(workDir);
  assert.ok(existsSync(root), 'the loggers\' FIFOs were made in the agent\'s directory');
  assert.equal(statSync(root).mode & 0o777, 0o700);
  assert.deepEqual(readdirSync(root), []);
}

test('--docker_mesos_image with rotation: 200 KB at 16KB, rotate 3, byte-exact; nothing left behind', async (t) => {
  const image = await ensureExecutorImage();
  const agent = await startAgent(t, { dockerMesosImage: image, containerLogger: ROTATION });
  const last = 40_000;
  const record = agent.launch(shellTask(`seq 1 ${last}; echo done >&2`));
  const update = await terminal(agent, record, 120_000);
  assert.equal(update.status.state, TaskState.TASK_FINISHED, update.status.message ?? '');
  assert.equal(await exitCode(record), 0);
  const expected = seqOutput(1, last);
  assert.ok(expected.length > 200 * KB);
  assertRotated(record.sandbox, expected);
  assert.match(readFileSync(join(record.sandbox, 'stderr'), 'utf8'), /^done$/m);
  assert.deepEqual(readdirSync(record.sandbox).filter((name) => !/^std(out|err)(\.\d+)?$/.test(name)), [], 'nothing else in the sandbox');
  assert.deepEqual(loggersOf(record.sandbox), [], 'both loggers exited with the container');
  assertNoFifoLeft(record.spec.workDir);
});

test('a framework executor image with rotation: its attach stream goes through the logger', async (t) => {
  const agent = await startAgent(t, { containerLogger: ROTATION });
  const last = 40_000;
  const task = shellTask('unused: the executor image writes');
  task.executor = mesos.v1.ExecutorInfo.fromObject({
    executor_id: { value: `custom-${task.task_id.value}` },
    command: { shell: true, value: `seq 1 ${last}; echo done >&2` },
    container: { type: mesos.v1.ContainerInfo.Type.DOCKER, docker: { image: BUSYBOX } },
  });
  const record = agent.launch(task);
  assert.equal(await exitCode(record, 120_000), 0);
  assertRotated(record.sandbox, seqOutput(1, last));
  assert.equal(readFileSync(join(record.sandbox, 'stderr'), 'utf8'), 'done\n');
  assert.deepEqual(readdirSync(record.sandbox).filter((name) => !/^std(out|err)(\.\d+)?$/.test(name)), [], 'nothing else in the sandbox');
  assert.deepEqual(loggersOf(record.sandbox), [], 'both loggers exited with the container');
  assertNoFifoLeft(record.spec.workDir);
});

test('serve --docker_mesos_image with rotation SIGKILLed and restarted: output written while it is down lands rotated, byte-exact', { timeout: 300_000 }, async (t) => {
  const image = await ensureExecutorImage();
  const args = [`--docker_mesos_image=${image}`, '--recovery_timeout=60secs', ...ROTATION_FLAGS];
  const first = await startServe(t, { args: ['--port=0', ...args] });
  cleanUpServe(t, first.workDir);
  // Three parts of about 100 KB, each once the test says so: before, during and after the gap.
  const wait = (name: string): string => `while [ ! -e "$MESOS_SANDBOX/${name}" ]; do sleep 0.05; done`;
  const task = shellTask(`seq 1 20000; ${wait('go1')}; seq 20001 36000; ${wait('go2')}; seq 36001 52000`);
  const taskId = task.task_id.value;
  assert.equal((await submit(first.base, task)).status, 202);
  const running = await waitForState(first.base, taskId, 'TASK_RUNNING', 120_000);
  const sandbox = running.sandbox!;
  await eventually('the first part to be written', () => landed(sandbox, seqOutput(1, 20_000)), 60_000);

  first.child.kill('SIGKILL');
  await first.exited;
  // With no agent running, the second part goes on reaching the same loggers.
  writeFileSync(join(sandbox, 'go1'), '');
  const upToSecond = seqOutput(1, 36_000);
  await eventually('the second part to land rotated while the agent is down', () => landed(sandbox, upToSecond), 60_000);
  assertRotated(sandbox, upToSecond);

  const second = await startServe(t, { workDir: first.workDir, args });
  await eventually('the executor to resubscribe', () => (second.output().includes(`task ${taskId}: waiting`) ? true : undefined), 60_000);
  writeFileSync(join(sandbox, 'go2'), '');
  await waitForState(second.base, taskId, 'TASK_FINISHED', 120_000);
  // The loggers the first agent started write the last bytes, and exit with the container.
  await eventually('the loggers to exit', () => loggersOf(sandbox).length === 0 || undefined, 30_000);
  assertRotated(sandbox, seqOutput(1, 52_000));
  assert.deepEqual(readdirSync(sandbox).filter((name) => !/^(std(out|err)(\.\d+)?|go1|go2)$/.test(name)), [], 'nothing else in the sandbox');
  assertNoFifoLeft(first.workDir);
});

test('serve with a framework executor image and rotation, restarted: the container taken back writes through a new logger appending to the same files', { timeout: 300_000 }, async (t) => {
  // It never subscribes: the registration timeout (1 minute) and --recovery_timeout bound the test.
  const args = ['--recovery_timeout=120secs', ...ROTATION_FLAGS];
  const first = await startServe(t, { args: ['--port=0', ...args] });
  cleanUpServe(t, first.workDir);
  const task = shellTask('unused: the executor image writes');
  const taskId = task.task_id.value;
  task.executor = mesos.v1.ExecutorInfo.fromObject({
    executor_id: { value: `custom-${taskId}` },
    command: { shell: true, value: 'seq 1 20000; while [ ! -e "$MESOS_SANDBOX/go" ]; do sleep 0.05; done; seq 20001 40000' },
    container: { type: mesos.v1.ContainerInfo.Type.DOCKER, docker: { image: BUSYBOX } },
  });
  assert.equal((await submit(first.base, task)).status, 202);
  const executor = await eventually('the executor container to be checkpointed', () => {
    const entry = readServeCheckpoint(first.workDir)?.tasks.find(({ entry: candidate }) => candidate.taskId === taskId)?.entry.executor as { sandbox: string; container?: { id?: string } } | undefined;
    return entry?.container?.id !== undefined ? entry : undefined;
  }, 120_000);
  const sandbox = executor.sandbox;
  await eventually('the first part to be written', () => landed(sandbox, seqOutput(1, 20_000)), 60_000);

  first.child.kill('SIGKILL');
  await first.exited;
  // The first agent's loggers lose their only writer with it, write their last bytes and exit.
  await eventually('the first loggers to exit', () => loggersOf(sandbox).length === 0 || undefined, 30_000);
  const second = await startServe(t, { workDir: first.workDir, args });
  await eventually('the executor container to be taken back', () => (second.output().includes(`task ${taskId}: waiting`) ? true : undefined), 60_000);
  assert.equal(loggersOf(sandbox).length, 2, 'a new logger per stream');
  writeFileSync(join(sandbox, 'go'), '');
  await eventually('the second part to land', () => landed(sandbox, seqOutput(1, 40_000)), 60_000);
  await eventually('the new loggers to exit with the container', () => loggersOf(sandbox).length === 0 || undefined, 60_000);
  assertRotated(sandbox, seqOutput(1, 40_000));
  assert.deepEqual(readdirSync(sandbox).filter((name) => !/^(std(out|err)(\.\d+)?|go)$/.test(name)), [], 'nothing else in the sandbox');
  assertNoFifoLeft(first.workDir);
});
