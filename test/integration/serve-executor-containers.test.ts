// `serve` running executors in Docker containers, SIGKILLed and started again as a new process on
// the same work directory: with --docker_mesos_image the executor containers outlive the agent,
// are taken back by name, id and labels, and their tasks finish with their output byte-exact; one
// whose executor container was killed meanwhile is lost, its task container and executor
// container removed; a kill after the restart works. A framework's executor image is taken back
// as well, its output followed again. The operator policy refuses a privileged executor image.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mesos } from '../../src/proto/generated/mesos.js';
import { containerExists, eventually, inspectContainer, shellTask, withDocker } from '../helpers/harness.js';
import { ensureCustomExecutorImage, ensureExecutorImage } from '../helpers/executor-images.js';
import { cleanUpServe, readServeCheckpoint, startServe, stateTasks, submit, waitForState } from '../helpers/serve-process.js';

const LINES = 150;

// Lines 1..LINES, one every 50 ms: about 8 s, across the restart.
function countingTask(): mesos.v1.TaskInfo {
  return shellTask(`i=1; while [ $i -le ${LINES} ]; do echo "line $i"; i=$((i+1)); sleep 0.05; done`);
}

function expectedLines(): string {
  return Array.from({ length: LINES }, (_, index) => `line ${index + 1}\n`).join('');
}

async function readAll(base: string, taskId: string, file: string): Promise<string> {
  const response = await fetch(`${base}/files/read?path=/tasks/${taskId}/${file}&offset=0&length=65536`);
  assert.equal(response.status, 200);
  return ((await response.json()) as { data: string }).data;
}

test('serve --docker_mesos_image SIGKILLed and restarted: running tasks finish byte-exact, a kill works, a lost executor container is cleaned up', async (t) => {
  const image = await ensureExecutorImage();
  const args = [`--docker_mesos_image=${image}`, '--recovery_timeout=60secs'];
  const first = await startServe(t, { args: ['--port=0', ...args] });
  cleanUpServe(t, first.workDir);
  const counting = countingTask();
  const killable = shellTask("trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.1; done");
  const orphaned = shellTask('echo running; sleep 600');
  for (const task of [counting, killable, orphaned]) assert.equal((await submit(first.base, task)).status, 202);
  for (const task of [counting, killable, orphaned]) await waitForState(first.base, task.task_id.value, 'TASK_RUNNING', 120_000);
  await eventually('some counted lines', async () => (await readAll(first.base, counting.task_id.value, 'stdout')).includes('line 5\n') || undefined);

  // Checkpointed by container name and Docker id, not by pid.
  const saved = readServeCheckpoint(first.workDir)!;
  const executorOf = (taskId: string): { containerName: string; container?: { name: string; id?: string }; pid?: number } => (
    saved.tasks.find(({ entry }) => entry.taskId === taskId)!.entry.executor as never
  );
  for (const task of [counting, killable, orphaned]) {
    const executor = executorOf(task.task_id.value);
    assert.equal(executor.pid, undefined);
    assert.match(executor.container?.name ?? '', /^mesos-.*\.executor$/);
    assert.match(executor.container?.id ?? '', /^[0-9a-f]{64}$/);
  }

  first.child.kill('SIGKILL');
  await first.exited;
  // While the agent is down, one executor container dies (its task container runs on).
  const victim = executorOf(orphaned.task_id.value);
  await withDocker((docker) => docker.kill(victim.container!.id!, 'SIGKILL'));
  await eventually('the victim executor container to stop', async () => (await inspectContainer(victim.container!.name)).State.Running === false || undefined);
  assert.ok(await containerExists(victim.containerName), 'its task container still runs');
  for (const task of [counting, killable]) {
    assert.equal((await inspectContainer(executorOf(task.task_id.value).container!.name)).State.Running, true, 'executor containers outlive the agent');
  }

  const second = await startServe(t, { workDir: first.workDir, args });
  assert.equal(second.port, first.port);

  const lost = await waitForState(second.base, orphaned.task_id.value, 'TASK_LOST');
  assert.deepEqual(lost.statuses.map((status) => status.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_LOST']);
  assert.equal(lost.statuses.at(-1)?.source, 'SOURCE_AGENT');
  assert.equal(lost.statuses.at(-1)?.reason, 'REASON_EXECUTOR_TERMINATED');
  assert.match(lost.message ?? '', /exited \(status 137\) while the agent was down/);
  await eventually('the lost task\'s container to be removed', async () => !(await containerExists(victim.containerName)) || undefined, 30_000);
  await eventually('the dead executor container to be removed', async () => !(await containerExists(victim.container!.name)) || undefined, 30_000);

  // A kill after the restart reaches the resubscribed executor.
  await eventually('the killable task\'s executor to resubscribe', () => (second.output().includes(`task ${killable.task_id.value}: waiting`) ? true : undefined));
  const kill = await fetch(`${second.base}/api/v1/tasks/${killable.task_id.value}/kill`, { method: 'POST' });
  assert.equal(kill.status, 202);
  const killed = await waitForState(second.base, killable.task_id.value, 'TASK_KILLED', 90_000);
  assert.deepEqual(killed.statuses.map((status) => status.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
  assert.equal(await readAll(second.base, killable.task_id.value, 'stdout'), 'ready\ngot TERM\n');

  // The counting task ran through the restart: every line once, in order, nothing else.
  const finished = await waitForState(second.base, counting.task_id.value, 'TASK_FINISHED', 90_000);
  assert.deepEqual(finished.statuses.map((status) => status.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  assert.equal(await readAll(second.base, counting.task_id.value, 'stdout'), expectedLines());

  // The executor containers taken back are reaped once they exit, with their task containers.
  for (const task of [counting, killable]) {
    const executor = executorOf(task.task_id.value);
    await eventually(`${executor.container!.name} to be reaped`, async () => !(await containerExists(executor.container!.name)) || undefined, 30_000);
    assert.equal(await containerExists(executor.containerName), false);
  }
});

test('serve with a framework executor image, restarted: the executor resubscribes and its task finishes; a privileged one is refused by policy', async (t) => {
  const image = await ensureCustomExecutorImage();
  const args = ['--recovery_timeout=60secs', '--allow_privileged=false', '--allowed_capabilities='];
  const first = await startServe(t, { args: ['--port=0', ...args] });
  cleanUpServe(t, first.workDir);
  const task = shellTask('run_ms=8000');
  task.executor = mesos.v1.ExecutorInfo.fromObject({
    executor_id: { value: `custom-${task.task_id.value}` },
    command: { shell: false },
    container: { type: mesos.v1.ContainerInfo.Type.DOCKER, docker: { image } },
  });
  assert.equal((await submit(first.base, task)).status, 202);
  await waitForState(first.base, task.task_id.value, 'TASK_RUNNING', 120_000);
  const saved = readServeCheckpoint(first.workDir)!;
  const executor = saved.tasks.find(({ entry }) => entry.taskId === task.task_id.value)!.entry.executor as unknown as { container: { name: string; id: string } };

  first.child.kill('SIGKILL');
  await first.exited;
  const second = await startServe(t, { workDir: first.workDir, args });
  const finished = await waitForState(second.base, task.task_id.value, 'TASK_FINISHED', 90_000);
  assert.deepEqual(finished.statuses.map((status) => status.state), ['TASK_RUNNING', 'TASK_FINISHED']);
  await eventually('the executor container to be reaped', async () => !(await containerExists(executor.container.name)) || undefined, 30_000);
  // Its output after the restart was followed again into the sandbox.
  const stdout = await readAll(second.base, task.task_id.value, 'stdout');
  const subscribed = `custom executor custom-${task.task_id.value} subscribed; sandbox /mnt/mesos/sandbox\n`;
  assert.equal(stdout, `${subscribed}${subscribed}custom executor done\n`);

  // The same agent refuses a privileged executor container before creating anything.
  const privileged = shellTask('run_ms=0');
  privileged.executor = mesos.v1.ExecutorInfo.fromObject({
    executor_id: { value: `custom-${privileged.task_id.value}` },
    command: { shell: false },
    container: { type: mesos.v1.ContainerInfo.Type.DOCKER, docker: { image, privileged: true } },
  });
  assert.equal((await submit(second.base, privileged)).status, 202);
  const refused = await waitForState(second.base, privileged.task_id.value, 'TASK_FAILED');
  assert.equal(refused.statuses.length, 1);
  assert.equal(refused.statuses[0]?.reason, 'REASON_TASK_INVALID');
  assert.match(refused.message ?? '', /Refused by operator policy --allow_privileged=false: the task asks for a privileged container/);
  const created = await withDocker((docker) => docker.list([`org.apache.mesos.task_id=${privileged.task_id.value}`]));
  assert.deepEqual(created, [], 'no container was created');
  assert.ok((await stateTasks(second.base)).some((entry) => entry.id === task.task_id.value && entry.state === 'TASK_FINISHED'));
});

test('serve with executor containers stops on SIGTERM, leaving them running for the next one', async (t) => {
  const image = await ensureExecutorImage();
  const args = [`--docker_mesos_image=${image}`, '--recovery_timeout=60secs'];
  const first = await startServe(t, { args: ['--port=0', ...args] });
  cleanUpServe(t, first.workDir);
  const task = shellTask("trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.1; done");
  assert.equal((await submit(first.base, task)).status, 202);
  await waitForState(first.base, task.task_id.value, 'TASK_RUNNING', 120_000);
  first.child.kill('SIGTERM');
  // Its watch of the executor container does not keep it alive.
  const code = await Promise.race([first.exited, new Promise((resolveLate) => setTimeout(() => resolveLate('still running'), 20_000))]);
  assert.equal(code, 0);
  const executor = readServeCheckpoint(first.workDir)!.tasks[0]!.entry.executor as unknown as { container: { name: string } };
  assert.equal((await inspectContainer(executor.container.name)).State.Running, true, 'the executor container runs on');

  const second = await startServe(t, { workDir: first.workDir, args });
  assert.equal((await fetch(`${second.base}/api/v1/tasks/${task.task_id.value}/kill`, { method: 'POST' })).status, 202);
  const killed = await waitForState(second.base, task.task_id.value, 'TASK_KILLED', 90_000);
  assert.deepEqual(killed.statuses.map((status) => status.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
  assert.equal(await readAll(second.base, task.task_id.value, 'stdout'), 'ready\ngot TERM\n');
  await eventually('the executor container to be reaped', async () => !(await containerExists(executor.container.name)) || undefined, 30_000);
});
