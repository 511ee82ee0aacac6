// Why a task ended, through the built executor and a real Docker engine: an OOM kill from any
// process of the container, the structured termination labels, the container's last stderr
// lines in the message, and the post-mortem file in the sandbox.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { containerExists, DOCKER_SOCKET, eventually, exitCode, sandboxFile, shellTask, startAgent, states, terminal } from '../helpers/harness.js';
import type { ReceivedUpdate } from '../../src/agent/local-agent.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;
const { Reason } = mesos.v1.TaskStatus;

// `tail` keeps a whole line in memory: 200 MB of zeros without a newline outgrows a 64 MB limit.
const MEMORY_HOG = 'head -c 200m /dev/zero | tail';
const SECRET = 'postmortem-sekrit-5d2a';

function labels(update: ReceivedUpdate): Record<string, string> {
  return Object.fromEntries((update.status.labels?.labels ?? []).map((label) => [label.key, label.value ?? '']));
}

function containerLog(container: string): string {
  return execFileSync('docker', ['-H', `unix://${DOCKER_SOCKET}`, 'logs', container], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

test('a child process OOM-killed while the main process runs on fails the task at once for its memory limit', async (t) => {
  const agent = await startAgent(t);
  const started = Date.now();
  const record = agent.launch(shellTask(`${MEMORY_HOG}; sleep 1000`));

  const last = await terminal(agent, record, 30_000);
  assert.ok(Date.now() - started < 30_000, 'not when the main process would have ended');
  assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
  assert.equal(last.status.reason, Reason.REASON_CONTAINER_LIMITATION_MEMORY);
  assert.match(last.status.message ?? '', /memory limit of 64 MB: it killed a process other than the container's main process \(which was still running\)/);
  assert.match(last.status.message ?? '', /the executor destroyed the container at the OOM/);
  const fields = labels(last);
  assert.equal(fields['termination.stopped_by'], 'oom');
  assert.ok(Number(fields['termination.oom_kills']) >= 1, `oom_kills ${fields['termination.oom_kills']}`);
  assert.equal(fields['termination.memory_limit_bytes'], String(64 * 1024 * 1024));
  assert.equal(fields['termination.exit_code'], '137');
  assert.equal(fields['termination.signal'], 'SIGKILL');
  assert.equal(await exitCode(record), 0);
  assert.equal(await containerExists(record.containerName), false);

  const postmortem = JSON.parse(sandboxFile(record, 'postmortem.json'));
  assert.equal(postmortem.terminal.reason, 'REASON_CONTAINER_LIMITATION_MEMORY');
  assert.ok(postmortem.oom.kills >= 1);
  assert.equal(postmortem.oom.victim, 'other');
  assert.equal(postmortem.memory.limit_bytes, 64 * 1024 * 1024);
  assert.ok(postmortem.memory.oom_kills >= 1, 'the cgroup counters');
});

test('the main process OOM-killed: the message names it', async (t) => {
  const agent = await startAgent(t);
  const record = agent.launch(shellTask('exec tail /dev/zero'));

  const last = await terminal(agent, record, 30_000);
  assert.equal(last.status.state, TaskState.TASK_FAILED);
  assert.equal(last.status.reason, Reason.REASON_CONTAINER_LIMITATION_MEMORY);
  assert.match(last.status.message ?? '', /memory limit of 64 MB: it killed the container's main process/);
  assert.equal(labels(last)['termination.stopped_by'], 'oom');
  assert.equal(labels(last)['termination.exit_code'], '137');
});

test('an OOM kill while no executor ran is found by the executor started again', async (t) => {
  const agent = await startAgent(t, { checkpoint: true, subscriptionBackoffMaxMs: 200 });
  const record = agent.launch(shellTask(`sleep 3; ${MEMORY_HOG}; echo after-oom; sleep 1000`));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
  record.process.kill('SIGKILL');
  await exitCode(record);
  await eventually('the OOM kill while no executor runs', () => containerLog(record.containerName).includes('after-oom') || undefined);

  agent.relaunch(record.executorId);
  const last = await terminal(agent, record, 30_000);
  assert.equal(last.status.state, TaskState.TASK_FAILED);
  assert.equal(last.status.reason, Reason.REASON_CONTAINER_LIMITATION_MEMORY);
  assert.match(last.status.message ?? '', /OOM killer/);
  assert.equal(labels(last)['termination.stopped_by'], 'oom');
  assert.equal(await exitCode(record), 0);
  assert.equal(await containerExists(record.containerName), false);
});

test('a task that fails on its own says its last stderr lines, masked, and leaves a post-mortem with no secret', async (t) => {
  const agent = await startAgent(t);
  const task = shellTask('echo "starting with $MY_SECRET"; echo "first words" >&2; echo "token $MY_SECRET rejected" >&2; echo "config missing: /etc/app.conf" >&2; exit 3');
  task.command = { ...task.command!, environment: {
    variables: [{ name: 'MY_SECRET', type: mesos.v1.Environment.Variable.Type.SECRET, secret: { type: mesos.v1.Secret.Type.VALUE, value: { data: Buffer.from(SECRET) } } }],
  } } as typeof task.command;
  const record = agent.launch(task);

  const last = await terminal(agent, record);
  assert.equal(last.status.state, TaskState.TASK_FAILED);
  assert.equal(last.status.message, 'Container exited with status 3; its stderr ends: "token *** rejected\\nconfig missing: /etc/app.conf"');
  const fields = labels(last);
  assert.equal(fields['termination.stopped_by'], 'task-exit');
  assert.equal(fields['termination.exit_code'], '3');
  assert.equal(fields['termination.signal'], undefined);
  for (const key of ['created_at', 'started_at', 'finished_at']) assert.ok(Number.isFinite(Date.parse(fields[`termination.${key}`] ?? '')), key);
  assert.ok(Date.parse(fields['termination.created_at']!) <= Date.parse(fields['termination.started_at']!));
  // Not started <= finished: Docker takes FinishedAt from containerd's exit time but StartedAt from
  // its own clock once the start returns, so a process that exits at once can finish "before" it started.
  assert.ok(Date.parse(fields['termination.created_at']!) <= Date.parse(fields['termination.finished_at']!));

  const path = join(record.sandbox, 'postmortem.json');
  await eventually('the post-mortem', () => { try { return lstatSync(path).isFile() || undefined; } catch { return undefined; } });
  const text = readFileSync(path, 'utf8');
  assert.doesNotMatch(text, new RegExp(SECRET));
  const postmortem = JSON.parse(text);
  assert.deepEqual(postmortem.timeline.map((entry: { state: string }) => entry.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
  assert.ok(postmortem.timeline.every((entry: { at: string }) => Number.isFinite(Date.parse(entry.at))));
  assert.equal(postmortem.terminal.message, last.status.message);
  assert.equal(postmortem.labels['termination.exit_code'], '3');
  assert.ok(Date.parse(postmortem.removed_at) >= Date.parse(fields['termination.finished_at']!), 'removal after the exit');
  assert.match(postmortem.output_tail.stderr, /first words\ntoken \*\*\* rejected\nconfig missing/);
  assert.match(postmortem.output_tail.stdout, /starting with \*\*\*/);
  assert.equal(postmortem.inspect.State.ExitCode, 3);
  assert.ok(postmortem.inspect.Config.Env.includes('MY_SECRET=***'));
  assert.equal(postmortem.memory.limit_bytes, 64 * 1024 * 1024);
  assert.deepEqual(postmortem.health_checks, []);
});

test('a task that finishes leaves no post-mortem', async (t) => {
  const agent = await startAgent(t);
  const record = agent.launch(shellTask('echo fine'));
  await terminal(agent, record);
  assert.equal(await exitCode(record), 0);
  assert.throws(() => sandboxFile(record, 'postmortem.json'), /ENOENT/);
});

test('a link planted at postmortem.json is replaced, never written through', async (t) => {
  const outside = mkdtempSync(join(tmpdir(), 'postmortem-canary-'));
  t.after(() => rmSync(outside, { recursive: true, force: true }));
  const canary = join(outside, 'canary');
  writeFileSync(canary, 'canary\n');
  const agent = await startAgent(t);
  const record = agent.launch(shellTask(`ln -s ${canary} /mnt/mesos/sandbox/postmortem.json; exit 1`));

  await terminal(agent, record);
  assert.equal(await exitCode(record), 0);
  assert.equal(readFileSync(canary, 'utf8'), 'canary\n', 'the host file is unchanged');
  const planted = lstatSync(join(record.sandbox, 'postmortem.json'));
  assert.ok(planted.isFile() && !planted.isSymbolicLink(), 'the link was replaced by the post-mortem');
  assert.equal(JSON.parse(sandboxFile(record, 'postmortem.json')).labels['termination.exit_code'], '1');
});
