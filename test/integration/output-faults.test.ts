// A full disk or a dead pipe behind the executor's stdout/stderr is lost output, counted and
// reported once, never a crash: kill, the terminal update, the container's removal and the exit
// code all still work (with the built executor and a real container).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { containerExists, eventually, exitCode, sandboxFile, shellTask, startAgent, states, terminal } from '../helpers/harness.js';
import { mesos } from '../../src/proto/generated/mesos.js';
import type { ExecutorRecord, LocalAgent } from '../../src/agent/local-agent.js';

const { TaskState } = mesos.v1;
const { Reason } = mesos.v1.TaskStatus;

// A directory on a tmpfs of `size`, unmounted after the test.
function tinyDisk(t: TestContext, size: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tiny-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  t.after(() => {
    execFileSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

const FLOOD = 'while :; do echo "line of output that keeps coming"; done';

// A KILL still ends the task as it should, whatever became of its output: TASK_KILLED once, the
// executor exits 0, nothing left behind.
async function killedCleanly(agent: LocalAgent, record: ExecutorRecord, gracePeriodMs?: number): Promise<void> {
  agent.kill(record.executorId, gracePeriodMs);
  const last = await terminal(agent, record);
  assert.equal(last.status.state, TaskState.TASK_KILLED, `TASK_KILLED: ${last.status.message}`);
  assert.equal(await exitCode(record), 0);
  assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLED']);
  assert.equal(await containerExists(record.containerName), false);
}

test('stdout on a full disk: the loss is reported once, kill still ends the task TASK_KILLED', { timeout: 120_000 }, async (t) => {
  const disk = tinyDisk(t, '256k');
  const agent = await startAgent(t, { executorOutput: { stdout: join(disk, 'stdout') } });
  const record = agent.launch(shellTask(FLOOD));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING, 60_000);
  const lost = await eventually('the loss diagnostic', () => sandboxFile(record, 'stderr').match(/Lost \d+ bytes of the container's stdout: ENOSPC \(no space left on device\); further losses are counted/g) ?? undefined);
  assert.equal(lost.length, 1);

  await killedCleanly(agent, record);
  const stderr = sandboxFile(record, 'stderr');
  assert.equal(stderr.match(/Lost \d+ bytes of the container's stdout/g)?.length, 1, 'reported once');
  assert.match(stderr, /In all, \d+ bytes of the container's stdout were lost \(first: ENOSPC/);
  assert.ok(readFileSync(join(disk, 'stdout')).length > 100_000, 'what fitted was written');
});

test('stdout and stderr pipes whose reader is gone: kill still ends the task and the executor exits', { timeout: 120_000 }, async (t) => {
  const agent = await startAgent(t, { executorOutput: { stdout: 'pipe', stderr: 'pipe' } });
  const record = agent.launch(shellTask(`${FLOOD} & while :; do echo "and on stderr" >&2; done`));
  record.process.stdout!.destroy();
  record.process.stderr!.destroy();
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING, 60_000);
  await killedCleanly(agent, record);
});

// The agent goes away for good (no checkpointing): the executor stops the task and exits 1, even
// though the pipe behind its stdout is full and never read.
test('a stdout pipe that is never read does not hold the exit nor turn its code into 0', { timeout: 120_000 }, async (t) => {
  const agent = await startAgent(t, { executorOutput: { stdout: 'pipe' } });
  const record = agent.launch(shellTask(FLOOD));
  // Never read: the pipe and everything behind it fill up.
  record.process.stdout!.pause();
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING, 60_000);
  await agent.stop();
  assert.equal(await exitCode(record, 60_000), 1);
  assert.equal(await containerExists(record.containerName), false);
  const stderr = sandboxFile(record, 'stderr');
  assert.match(stderr, /does not checkpoint; stopping the task and exiting/);
  assert.match(stderr, /Lost \d+ bytes of the container's stdout: its reader stopped taking any; further losses are counted/);
});

// The sandbox itself on a small tmpfs, filled by the container: the executor's own stdout and
// stderr (the sandbox files) have no room left, and the task still ends as asked.
async function fullSandbox(t: TestContext, extra: Record<string, unknown>) {
  const agent = await startAgent(t);
  const task = shellTask(`dd if=/dev/zero of=/mnt/mesos/sandbox/fill bs=4k 2>/dev/null; trap 'exit 0' TERM; ${FLOOD}`, extra);
  const containerId = randomUUID();
  const sandbox = agent.sandboxOf(task.task_id!.value, containerId);
  mkdirSync(sandbox, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', sandbox]);
  t.after(() => execFileSync('umount', ['-l', sandbox]));
  const record = agent.launch(task, { containerId });
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING, 60_000);
  await eventually('the container to fill the sandbox', () => (statfsSync(sandbox).bavail === 0 ? true : undefined));
  return { agent, record };
}

test('a sandbox filled by its container: KILL still ends the task, one terminal update, nothing left behind', { timeout: 120_000 }, async (t) => {
  const { agent, record } = await fullSandbox(t, {});
  await killedCleanly(agent, record, 1000);
});

test('a sandbox filled by its container: max_completion_time still ends the task', { timeout: 120_000 }, async (t) => {
  const { agent, record } = await fullSandbox(t, { max_completion_time: { nanoseconds: 4e9 } });
  const last = await terminal(agent, record);
  assert.equal(last.status.state, TaskState.TASK_FAILED);
  assert.equal(last.status.reason, Reason.REASON_MAX_COMPLETION_TIME_REACHED, `REASON_MAX_COMPLETION_TIME_REACHED: ${last.status.message}`);
  assert.equal(await exitCode(record), 0);
  assert.equal(record.updates.filter((update) => !update.duplicate && update.status.state === TaskState.TASK_FAILED).length, 1, 'one terminal update');
  assert.equal(await containerExists(record.containerName), false);
});
