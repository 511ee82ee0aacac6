// A Docker daemon restart during a task. Restarting the daemon disturbs every container on the
// machine, so this file runs alone, after the other integration tests.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';
import type { ExecutorRecord } from '../../src/agent/local-agent.js';
import { isTerminalState } from '../../src/executor/task-states.js';
import { containerExists, eventually, exitCode, sandboxFile, shellTask, sleep, startAgent, terminal } from '../helpers/harness.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;

const SETUP = resolve(import.meta.dirname, '../../scripts/setup-docker.sh');

function dockerdPid(): number | undefined {
  try {
    return Number(execFileSync('pidof', ['dockerd'], { encoding: 'utf8' }).trim().split(/\s+/)[0]);
  } catch {
    return undefined;
  }
}

async function restartDockerd(downMs: number, flags = ''): Promise<void> {
  const pid = dockerdPid();
  assert.ok(pid, 'dockerd is running');
  process.kill(pid, 'SIGTERM');
  await eventually('dockerd to stop', () => (dockerdPid() === undefined ? true : undefined), 60_000);
  // The outage itself.
  await sleep(downMs);
  execFileSync('bash', [SETUP], { stdio: 'ignore', env: { ...process.env, DOCKERD_FLAGS: flags } });
}

test('the daemon restarting under a running task is reported truthfully and nothing is left behind', { timeout: 180_000 }, async (t) => {
  const agent = await startAgent(t, { checkpoint: true });
  const record = agent.launch(shellTask("trap 'echo stopped by TERM; exit 0' TERM; echo up; while true; do sleep 0.1; done"));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);

  await restartDockerd(2000);
  const last = await terminal(agent, record, 120_000);
  assert.equal(last.status.state, TaskState.TASK_FAILED, last.status.message ?? '');
  assert.match(last.status.message ?? '', /stopped (while the Docker daemon restarted|from outside the executor with SIGTERM)/);
  assert.equal(await exitCode(record, 60_000), 0);
  assert.equal(await containerExists(record.containerName), false);
  assert.match(sandboxFile(record, 'stdout'), /^up\n/);
});

function stdoutLines(record: ExecutorRecord): number {
  return sandboxFile(record, 'stdout').split('\n').filter(Boolean).length;
}

const COUNTER = "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo \"line $i\"; sleep 0.05; done";

test('with live-restore the task survives a daemon restart and its output resumes exactly', { timeout: 240_000 }, async (t) => {
  await restartDockerd(0, '--live-restore');
  t.after(() => restartDockerd(0));
  const agent = await startAgent(t, { checkpoint: true });
  const record = agent.launch(shellTask(COUNTER));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
  await eventually('output before the restart', () => stdoutLines(record) >= 10 || undefined);

  await restartDockerd(2000, '--live-restore');
  const resumeTo = Math.max(stdoutLines(record) + 10, 41);
  await eventually('the output to resume after the restart', () => stdoutLines(record) >= resumeTo || undefined, 30_000);
  assert.equal(record.updates.some((update) => isTerminalState(update.status.state)), false, 'still running');
  agent.kill(record.executorId, 5000);
  const last = await terminal(agent, record, 60_000);
  assert.equal(last.status.state, TaskState.TASK_KILLED, last.status.message ?? '');
  assert.equal(await exitCode(record, 60_000), 0);
  assert.equal(await containerExists(record.containerName), false);

  const lines = sandboxFile(record, 'stdout').split('\n').filter(Boolean);
  assert.ok(lines.length > 40, `${lines.length} lines`);
  lines.forEach((line, index) => assert.equal(line, `line ${index + 1}`, 'no line lost or repeated across the restart'));
});
