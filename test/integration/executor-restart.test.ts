// An executor killed mid-task and started again for the same sandbox adopts its container:
// resubscribes, keeps the status history consistent, resumes the output with nothing lost or
// repeated, and carries on.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stateName } from '../../src/executor/task-states.js';
import { containerExists, DOCKER_SOCKET, eventually, exitCode, sandboxFile, shellTask, startAgent, stateDirectoryOf, terminal } from '../helpers/harness.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;

const COUNTER = "trap 'echo TERM >&2; exit 0' TERM; i=0; while true; do i=$((i+1)); echo \"line $i\"; echo \"err $i\" >&2; sleep 0.05; done";

function linesIn(text: string): number {
  return text.split('\n').filter((line) => line.startsWith('line ')).length;
}

// The number of the last line the container wrote, from Docker's log rather than the sandbox.
function lastLineWritten(container: string): number {
  const text = execFileSync('docker', ['-H', `unix://${DOCKER_SOCKET}`, 'logs', '--tail', '4', container], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return Math.max(0, ...[...text.matchAll(/^line (\d+)$/gm)].map((match) => Number(match[1])));
}

function consecutive(text: string, prefix: string): number {
  const lines = text.split('\n').filter((line) => line.startsWith(prefix));
  lines.forEach((line, index) => assert.equal(line, `${prefix}${index + 1}`, `line ${index + 1} of ${prefix.trim()} output`));
  return lines.length;
}

test('a SIGKILLed executor started again adopts the running container; output resumes exactly', async (t) => {
  const agent = await startAgent(t, { checkpoint: true, subscriptionBackoffMaxMs: 200 });
  const record = agent.launch(shellTask(COUNTER));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
  const checkpoint = join(stateDirectoryOf(record), 'checkpoint.json');
  await eventually('the checkpoint to be written', () => existsSync(checkpoint) || undefined);
  assert.equal(statSync(checkpoint).mode & 0o777, 0o600, 'the checkpoint is private');
  assert.equal(statSync(stateDirectoryOf(record)).mode & 0o777, 0o700, 'in a private directory');
  assert.equal(existsSync(join(record.sandbox, 'executor.checkpoint.json')), false, 'nothing of the executor\'s state is in the sandbox');

  record.process.kill('SIGKILL');
  await exitCode(record);
  // Lines written from now on reach the sandbox only through the next executor's adoption.
  const gapEnd = Math.max(linesIn(sandboxFile(record, 'stdout')) + 20, 51);
  await eventually('the container to write on while no executor runs', () => lastLineWritten(record.containerName) >= gapEnd || undefined);
  assert.equal(await containerExists(record.containerName), true, 'the container outlives its executor');
  const subscriptions = record.subscribeCalls.length;
  agent.relaunch(record.executorId);
  await eventually('the new executor to subscribe', () => record.subscribeCalls.length > subscriptions || undefined);
  await eventually('the adopted output to reach the sandbox', () => linesIn(sandboxFile(record, 'stdout')) >= gapEnd || undefined);

  agent.kill(record.executorId, 5000);
  const last = await terminal(agent, record);
  assert.equal(await exitCode(record), 0);
  assert.equal(stateName(last.status.state), 'TASK_KILLED');
  const fresh = record.updates.filter((update) => !update.duplicate).map((update) => stateName(update.status.state));
  assert.deepEqual(fresh, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLED'], 'no state repeated or lost');
  assert.equal(await containerExists(record.containerName), false);
  assert.equal(existsSync(stateDirectoryOf(record)), false, 'nothing is left to adopt once the container is gone');

  const stdoutLines = consecutive(sandboxFile(record, 'stdout'), 'line ');
  const stderrLines = consecutive(sandboxFile(record, 'stderr'), 'err ');
  assert.ok(stdoutLines > 50 && stdoutLines >= gapEnd, `${stdoutLines} lines, including those written while no executor ran (up to line ${gapEnd})`);
  assert.ok(Math.abs(stdoutLines - stderrLines) <= 1);
  assert.match(sandboxFile(record, 'stderr'), /Adopting container/);
});

test('unacknowledged updates survive the executor crash and are resent by the new executor', async (t) => {
  const agent = await startAgent(t, { checkpoint: true, subscriptionBackoffMaxMs: 200, autoAcknowledge: false });
  const record = agent.launch(shellTask(COUNTER));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
  record.process.kill('SIGKILL');
  await exitCode(record);

  agent.autoAcknowledge = true;
  agent.relaunch(record.executorId);
  await agent.waitForUpdate(record.executorId, (update) => update.viaSubscribe && update.status.state === TaskState.TASK_RUNNING);
  const resubscribe = record.subscribeCalls.at(-1)!.subscribe!;
  assert.deepEqual(resubscribe.unacknowledged_updates!.map((update) => stateName(update.status!.state)), ['TASK_STARTING', 'TASK_RUNNING']);
  assert.deepEqual(resubscribe.unacknowledged_tasks!.map((task) => task.task_id?.value), [record.executorId]);

  agent.kill(record.executorId, 5000);
  await terminal(agent, record);
  assert.equal(await exitCode(record), 0);
  assert.equal(await containerExists(record.containerName), false);
});

test('if the container is gone when the executor comes back, the task fails saying so', async (t) => {
  const agent = await startAgent(t, { checkpoint: true, subscriptionBackoffMaxMs: 200 });
  const record = agent.launch(shellTask(COUNTER));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
  record.process.kill('SIGKILL');
  await exitCode(record);
  await agent.destroyContainer(record);

  agent.relaunch(record.executorId);
  const last = await terminal(agent, record);
  assert.equal(stateName(last.status.state), 'TASK_FAILED');
  assert.match(last.status.message ?? '', /is gone/);
  assert.equal(await exitCode(record), 0);
});
