// Attacks on the executor's state through what a task controls: the sandbox (the container writes
// every file in it and can race the executor) and its TaskInfo. The executor keeps its state in a
// private directory outside the sandbox, adopts only a container carrying this task's owner
// labels, runs once per sandbox, and writes no secret value anywhere.
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { launchExecutor } from '../../src/agent/launcher.js';
import { DockerRuntime } from '../../src/docker/docker-runtime.js';
import { readCheckpoint, writeCheckpoint } from '../../src/executor/checkpoint.js';
import { isTerminalState, stateName } from '../../src/executor/task-states.js';
import { allCommandLines, containerExists, createBody, DOCKER_SOCKET, eventually, exitCode, inspectContainer, sandboxFile, shellTask, startAgent, stateDirectoryOf, terminal } from '../helpers/harness.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;
const CallType = mesos.v1.executor.Call.Type;

const UNTIL_TERM = "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo \"line $i\"; sleep 0.05; done";

function canaryFile(): { path: string; content: string } {
  const directory = mkdtempSync(join(tmpdir(), 'host-canary-'));
  const path = join(directory, 'host-file');
  const content = `host file ${Date.now()}\n`;
  writeFileSync(path, content, { mode: 0o644 });
  return { path, content };
}

// The files under a directory, with their content; the executor may rename a temporary file
// away while this reads, which is not a file missed.
function filesUnder(directory: string): Array<{ path: string; content: string }> {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    try {
      const stat = lstatSync(path);
      return stat.isDirectory() ? filesUnder(path) : stat.isFile() ? [{ path, content: readFileSync(path, 'latin1') }] : [];
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  });
}

test('links and directories planted at every name the executor ever wrote in the sandbox change no host file', async (t) => {
  const canary = canaryFile();
  const agent = await startAgent(t, { checkpoint: true, subscriptionBackoffMaxMs: 200 });
  // The container plants links (as root, in the sandbox it owns) before the executor writes anything.
  const names = ['executor.checkpoint.json', 'checkpoint.json', 'lock-token', '.checkpoint.json.tmp'];
  const plant = names.map((name) => `ln -sf ${canary.path} /mnt/mesos/sandbox/${name}`).join('; ');
  const record = agent.launch(shellTask(`${plant}; mkdir -p /mnt/mesos/sandbox/executor.checkpoint.json.d; ${UNTIL_TERM}`));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
  // And at the executor's old temporary names, which carried its pid.
  const pid = record.process.pid!;
  for (const name of [`executor.checkpoint.json.${pid}.tmp`, `executor.checkpoint.json.${pid + 1}.tmp`]) symlinkSync(canary.path, join(record.sandbox, name));
  mkdirSync(join(record.sandbox, 'meta'), { recursive: true });

  // A restart reads state back: it must come from the private directory, not from these links.
  record.process.kill('SIGKILL');
  await exitCode(record);
  agent.relaunch(record.executorId);
  await eventually('the new executor to adopt the container', () => sandboxFile(record, 'stderr').includes('Adopting container') || undefined);
  agent.kill(record.executorId, 2000);
  const last = await terminal(agent, record);
  assert.equal(stateName(last.status.state), 'TASK_KILLED', last.status.message ?? '');
  assert.equal(await exitCode(record), 0);

  assert.equal(readFileSync(canary.path, 'utf8'), canary.content, 'the host file keeps its content');
  assert.equal(statSync(canary.path).mode & 0o777, 0o644, 'and its mode');
  for (const name of names) assert.equal(lstatSync(join(record.sandbox, name)).isSymbolicLink(), true, `${name} is left as the container made it`);
  assert.equal(await containerExists(record.containerName), false);
});

test('a forged checkpoint naming a foreign container: not adopted, not exec\'d into, not removed, its environment in no status', async (t) => {
  const docker = new DockerRuntime(DOCKER_SOCKET);
  t.after(() => docker.close());
  const foreignName = `foreign-${process.pid}-${Date.now()}`;
  const foreignSecret = 'foreign-env-secret-71d3';
  const created = await docker.create(foreignName, createBody({
    Cmd: ['sleep', '1000'], Env: [`TOKEN=${foreignSecret}`], Labels: { 'org.apache.mesos.framework_id': 'another-framework' },
  }));
  t.after(() => docker.remove(created));
  await docker.start(created);

  const agent = await startAgent(t, { checkpoint: true, subscriptionBackoffMaxMs: 200 });
  // The old sandbox location: a forged checkpoint there is never read.
  const task = shellTask(UNTIL_TERM);
  const record = agent.launch(task, { sandboxFiles: { 'executor.checkpoint.json': JSON.stringify({ version: 1, executor_id: task.task_id!.value, framework_id: agent.frameworkId, pid: 1, container_name: foreignName }) } });
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
  assert.equal(sandboxFile(record, 'stderr').includes('Adopting'), false, 'the sandbox checkpoint was not read');

  // Even a checkpoint in the private directory (damaged, or written by a bug) proves nothing by a name.
  record.process.kill('SIGKILL');
  await exitCode(record);
  const state = stateDirectoryOf(record);
  const checkpoint = readCheckpoint(state)!;
  const forgedTask = { ...checkpoint.task!, health_check: { type: mesos.v1.HealthCheck.Type.COMMAND, command: { value: 'touch /tmp/exec-ran' }, delay_seconds: 0, interval_seconds: 1 } };
  writeCheckpoint(state, { ...checkpoint, containerName: foreignName, task: forgedTask as never });
  agent.relaunch(record.executorId);
  const last = await terminal(agent, record);
  assert.equal(stateName(last.status.state), 'TASK_FAILED');
  assert.match(last.status.message ?? '', new RegExp(`container ${foreignName} is not this task's \\(its owner labels differ\\): it was not adopted`));
  assert.equal(await exitCode(record), 0);

  const foreign = await inspectContainer(foreignName);
  assert.equal(foreign.State.Running, true, 'the foreign container still runs');
  assert.equal(foreign.ExecIDs, null, 'nothing was exec\'d into it');
  for (const update of record.updates) {
    const text = `${update.status.message ?? ''}${Buffer.from(update.status.data ?? []).toString('utf8')}`;
    assert.ok(!text.includes(foreignSecret), 'its environment is in no status');
  }
  assert.ok(!sandboxFile(record, 'stderr').includes(foreignSecret));
});

test('a second executor for a live sandbox refuses at once and sends nothing; one terminal update, no output twice', async (t) => {
  const agent = await startAgent(t, { checkpoint: true });
  const record = agent.launch(shellTask(UNTIL_TERM));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
  const subscribes = record.subscribeCalls.length;
  const callsBefore = agent.calls.length;

  const second = launchExecutor({ ...record.spec, sandboxFiles: undefined });
  const code = await new Promise<number | null>((resolve) => second.process.once('exit', (exit) => resolve(exit)));
  assert.equal(code, 1);
  assert.match(sandboxFile(record, 'stderr'), /mesos-docker-executor: Another executor is running for executor \S+ of framework \S+ \(sandbox .*\); this one exits without contacting the agent/);
  assert.equal(record.subscribeCalls.length, subscribes, 'no SUBSCRIBE from the second executor');
  assert.equal(agent.calls.slice(callsBefore).filter((call) => call.call.type === CallType.SUBSCRIBE).length, 0);

  agent.kill(record.executorId, 2000);
  await terminal(agent, record);
  assert.equal(await exitCode(record), 0);
  const terminals = record.updates.filter((update) => !update.duplicate && isTerminalState(update.status.state));
  assert.equal(terminals.length, 1, 'exactly one terminal update');
  const lines = sandboxFile(record, 'stdout').split('\n').filter(Boolean);
  lines.forEach((line, index) => assert.equal(line, `line ${index + 1}`, 'no line written twice'));
});

test('SECRET values in check environments reach no disk, status or argv', async (t) => {
  const healthSecret = 'health-secret-value-4e2a';
  const checkSecret = 'check-secret-value-9b0c';
  const agent = await startAgent(t, { checkpoint: true });
  const variable = (name: string, value: string) => ({ name, type: 'SECRET', secret: { type: 'VALUE', value: { data: Buffer.from(value).toString('base64') } } });
  const task = shellTask(UNTIL_TERM, {
    data: Buffer.from(`opaque ${healthSecret}`).toString('base64'),
    health_check: { type: 'COMMAND', command: { value: `test "$HS" = "${healthSecret.slice(0, 6)}$HS_TAIL"`, environment: { variables: [variable('HS', healthSecret), { name: 'HS_TAIL', value: healthSecret.slice(6) }] } }, delay_seconds: 0, interval_seconds: 1, grace_period_seconds: 30 },
    check: { type: 'COMMAND', command: { command: { value: 'test -n "$CS"', environment: { variables: [variable('CS', checkSecret)] } } }, delay_seconds: 0, interval_seconds: 1 },
  });
  const scans: string[][] = [];
  const scanner = setInterval(() => scans.push(allCommandLines()), 50);
  t.after(() => clearInterval(scanner));
  const record = agent.launch(task);
  // The health check passing proves the secret reached the check's command.
  await agent.waitForUpdate(record.executorId, (update) => update.status.healthy === true, 30_000);
  const state = stateDirectoryOf(record);
  const stateFiles = filesUnder(state);
  assert.ok(stateFiles.some((file) => file.path.endsWith('/checkpoint.json')), 'the checkpoint was written');
  const onDisk = [...stateFiles, ...filesUnder(record.sandbox)].map((file) => file.content).join('\n');
  agent.kill(record.executorId, 2000);
  await terminal(agent, record);
  clearInterval(scanner);

  for (const secret of [healthSecret, checkSecret]) {
    const encoded = Buffer.from(secret).toString('base64');
    assert.ok(!onDisk.includes(secret) && !onDisk.includes(encoded), 'no secret on disk');
    for (const update of record.updates) {
      assert.ok(!(update.status.message ?? '').includes(secret));
      assert.ok(!Buffer.from(update.status.data ?? []).toString('latin1').includes(secret));
    }
    for (const scan of scans) for (const line of scan) assert.ok(!line.includes(secret), 'no secret in any argv');
  }
  assert.ok(scans.length > 5);
});
