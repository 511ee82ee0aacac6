// The orphan sweep and executors in containers: a task container whose executor runs in a
// container (its pid meaningless here) is kept while that container runs and removed once it
// stops; a label naming some other running container protects nothing.
// Serial: any executor starting elsewhere would sweep these orphans too.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { ownerLabels, thisHost } from '../../src/docker/container-owner.js';
import { containerExists, createBody, DOCKER_SOCKET, eventually, inspectContainer, withDocker } from '../helpers/harness.js';

const AGENT = resolve(import.meta.dirname, '../../dist/agent.js');

function deadPid(): number {
  return Number(spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim());
}

async function run(name: string, labels: Record<string, string> = {}): Promise<string> {
  return withDocker(async (docker) => {
    const id = await docker.create(name, createBody({ Cmd: ['sleep', '1000'], Labels: labels }));
    await docker.start(id);
    return id;
  });
}

function sweep(...flags: string[]): string {
  return execFileSync(process.execPath, [AGENT, 'sweep', `--docker_socket=${DOCKER_SOCKET}`, ...flags], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

test('a task container is kept while its executor\'s container runs, and removed once it has stopped', async (t) => {
  const suffix = `${process.pid}-${Date.now()}`;
  const task = `mesos-sweep-${suffix}`;
  const executor = `${task}.executor`;
  t.after(() => withDocker(async (docker) => {
    for (const name of [task, executor]) await docker.remove(name);
  }));
  const executorId = await run(executor);
  // As an executor in a container without pid=host labels its task's container: a pid of its own
  // namespace (here one that happens to be alive on the host, so that an older sweep elsewhere
  // keeps it too), that namespace, and its container's id.
  await run(task, { ...ownerLabels(), 'org.apache.mesos.executor_pid_namespace': 'pid:[1]', 'org.apache.mesos.executor_container_id': executorId });

  assert.doesNotMatch(sweep(), new RegExp(task));
  assert.equal(await containerExists(task), true, 'spared: its executor\'s container runs');

  await withDocker((docker) => docker.kill(executorId, 'SIGKILL'));
  await eventually('the executor\'s container to stop', async () => (await inspectContainer(executorId)).State.Running === false || undefined);
  assert.match(sweep(), new RegExp(`removed ${task} .*container ${executorId.slice(0, 12)} has stopped`));
  assert.equal(await containerExists(task), false);
});

test('a label naming a running container that is not the task\'s executor does not spare an orphan', async (t) => {
  const suffix = `${process.pid}-${Date.now()}`;
  const orphan = `mesos-sweep-orphan-${suffix}`;
  const foreign = `foreign-service-${suffix}`;
  t.after(() => withDocker(async (docker) => {
    for (const name of [orphan, foreign]) await docker.remove(name);
  }));
  const foreignId = await run(foreign);
  await run(orphan, { ...ownerLabels(thisHost, deadPid()), 'org.apache.mesos.executor_container_id': foreignId });

  // Judged by its pid, which is dead (an executor starting elsewhere may sweep it first).
  assert.match(sweep('--dry_run'), new RegExp(`would remove ${orphan} .*pid \\d+\\) is gone`));
  sweep();
  assert.equal(await containerExists(orphan), false);
  assert.equal(await containerExists(foreign), true, 'the foreign container is not touched');
});
