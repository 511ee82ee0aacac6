// Containers whose executor is gone are found by their owner labels and removed; others are kept.
// Serial: any executor starting elsewhere would sweep these orphans first.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { ownerLabels, thisHost } from '../../src/docker/container-owner.js';
import { containerExists, createBody, DOCKER_SOCKET, eventually, exitCode, shellTask, startAgent, stateDirectoryOf, withDocker } from '../helpers/harness.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;

const AGENT = resolve(import.meta.dirname, '../../dist/agent.js');
const WINDOW_MS = 2000;

// A pid that is certainly dead: a process that has already exited.
function deadPid(): number {
  const child = spawnSync('sh', ['-c', 'echo $$']);
  return Number(child.stdout.toString().trim());
}

function idleMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return Infinity;
  }
}

async function createLabelled(name: string, labels: Record<string, string>): Promise<void> {
  await withDocker(async (docker) => docker.start(await docker.create(name, createBody({ Cmd: ['sleep', '1000'], Labels: labels }))));
}

async function remove(name: string): Promise<void> {
  await withDocker((docker) => docker.remove(name));
}

test('the sweep command removes containers of dead executors and keeps the rest', async (t) => {
  const suffix = `${process.pid}-${Date.now()}`;
  const names = { dead: `mesos-orphan-dead-${suffix}`, reused: `mesos-orphan-reused-${suffix}`, alive: `mesos-orphan-alive-${suffix}`, elsewhere: `mesos-orphan-elsewhere-${suffix}`, foreign: `not-ours-${suffix}` };
  t.after(async () => {
    for (const name of Object.values(names)) await remove(name);
  });
  await createLabelled(names.dead, ownerLabels(thisHost, deadPid()));
  // Our own pid, but a different start time: the pid was reused by another process.
  await createLabelled(names.reused, { ...ownerLabels(), 'org.apache.mesos.executor_start': '1' });
  await createLabelled(names.alive, ownerLabels());
  await createLabelled(names.elsewhere, { ...ownerLabels(thisHost, deadPid()), 'org.apache.mesos.executor_host': 'another-host' });
  await createLabelled(names.foreign, {});

  const dry = execFileSync(process.execPath, [AGENT, 'sweep', '--dry_run', `--docker_socket=${DOCKER_SOCKET}`], { encoding: 'utf8' });
  assert.match(dry, new RegExp(`would remove ${names.dead}`));
  assert.equal(await containerExists(names.dead), true, 'a dry run removes nothing');

  const output = execFileSync(process.execPath, [AGENT, 'sweep', `--docker_socket=${DOCKER_SOCKET}`], { encoding: 'utf8' });
  assert.match(output, new RegExp(`removed ${names.dead}`));
  assert.match(output, new RegExp(`removed ${names.reused}`));
  assert.equal(await containerExists(names.dead), false);
  assert.equal(await containerExists(names.reused), false);
  assert.equal(await containerExists(names.alive), true);
  assert.equal(await containerExists(names.elsewhere), true);
  assert.equal(await containerExists(names.foreign), true);
});

test('a SIGKILLed executor leaves its container, and the next executor to start after the adoption window removes it', { timeout: 120_000 }, async (t) => {
  const agent = await startAgent(t);
  const victim = agent.launch(shellTask("trap 'exit 0' TERM; while true; do sleep 0.1; done"));
  await agent.waitForUpdate(victim.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
  victim.process.kill('SIGKILL');
  await exitCode(victim);
  assert.equal(await containerExists(victim.containerName), true, 'the container outlived its executor');

  // Within the adoption window (30 s by default) the container waits for an executor started again to adopt it.
  const early = agent.launch(shellTask('true'));
  await exitCode(early);
  assert.equal(await containerExists(victim.containerName), true, 'spared for adoption');

  // An executor with a short window, started once the victim's checkpoint is older than that.
  const shortWindow = await startAgent(t, { executorFlags: [`--orphan_adoption_window=${WINDOW_MS}ms`] });
  const checkpoint = join(stateDirectoryOf(victim), 'checkpoint.json');
  await eventually('the dead executor\'s checkpoint to age past the window', () => idleMs(checkpoint) > WINDOW_MS || undefined);
  const next = shortWindow.launch(shellTask('true'));
  await eventually('the orphan to be removed', async () => (await containerExists(victim.containerName)) ? undefined : true);
  await exitCode(next);
});
