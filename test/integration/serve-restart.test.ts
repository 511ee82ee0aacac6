// The serve agent SIGKILLed and started again on the same work directory: it takes its port back,
// its running executors resubscribe and their tasks finish as if nothing happened (each update
// recorded once); a task whose executor died meanwhile is reported TASK_LOST and its container
// removed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerExists, eventually, shellTask } from '../helpers/harness.js';
import { cleanUpServe, readServeCheckpoint, startServe, stateTasks, submit, waitForState } from '../helpers/serve-process.js';

test('serve killed and restarted: running tasks come back and finish; one whose executor died is lost, its container gone', async (t) => {
  const first = await startServe(t, { args: ['--port=0', '--recovery_timeout=60secs'] });
  cleanUpServe(t, first.workDir);
  // Long enough to run across the restart, short enough to finish after it.
  const survivor = shellTask('echo before; sleep 12; echo after');
  const orphaned = shellTask('echo running; sleep 600');
  assert.equal((await submit(first.base, survivor)).status, 202);
  assert.equal((await submit(first.base, orphaned)).status, 202);
  await waitForState(first.base, survivor.task_id.value, 'TASK_RUNNING');
  const orphanedRunning = await waitForState(first.base, orphaned.task_id.value, 'TASK_RUNNING');
  assert.ok(await containerExists(orphanedRunning.container_name!));

  first.child.kill('SIGKILL');
  await first.exited;
  // While the agent is down, the orphaned task's executor dies too; its container keeps running.
  const saved = readServeCheckpoint(first.workDir)!;
  const victim = saved.tasks.find(({ entry }) => entry.taskId === orphaned.task_id.value)!.entry.executor!;
  process.kill(victim.pid!, 'SIGKILL');
  assert.ok(await containerExists(victim.containerName));

  // No --port: the checkpointed one, where the executors look for the agent.
  const second = await startServe(t, { workDir: first.workDir, args: ['--recovery_timeout=60secs'] });
  assert.equal(second.port, first.port);

  const lost = await waitForState(second.base, orphaned.task_id.value, 'TASK_LOST');
  assert.deepEqual(lost.statuses.map((status) => status.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_LOST']);
  assert.equal(lost.statuses.at(-1)?.source, 'SOURCE_AGENT');
  assert.equal(lost.statuses.at(-1)?.reason, 'REASON_EXECUTOR_TERMINATED');
  await eventually('the lost task\'s container to be removed', async () => !(await containerExists(victim.containerName)) || undefined, 30_000);

  // The survivor is listed as running again at once (from the checkpoint), its executor
  // resubscribes, and the task finishes with each update recorded once.
  const listed = (await stateTasks(second.base)).find((task) => task.id === survivor.task_id.value);
  assert.equal(listed?.state, 'TASK_RUNNING');
  const finished = await waitForState(second.base, survivor.task_id.value, 'TASK_FINISHED', 90_000);
  assert.deepEqual(finished.statuses.map((status) => status.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  const stdout = await fetch(`${second.base}/files/read?path=/tasks/${survivor.task_id.value}/stdout&offset=0`);
  assert.deepEqual(await stdout.json(), { data: 'before\nafter\n', offset: 0 });
  assert.match(second.output(), new RegExp(`task ${survivor.task_id.value}: TASK_FINISHED`));
  await eventually('the survivor\'s container to be removed by its executor', async () => !(await containerExists(finished.container_name!)) || undefined, 30_000);

  // A new task runs on the restarted agent as well.
  const later = shellTask('echo later');
  assert.equal((await submit(second.base, later)).status, 202);
  await waitForState(second.base, later.task_id.value, 'TASK_FINISHED');
});

test('a restarted serve refuses another port than the one its executors know', async (t) => {
  const first = await startServe(t, { args: ['--port=0'] });
  cleanUpServe(t, first.workDir);
  first.child.kill('SIGKILL');
  await first.exited;
  const other = first.port === 65000 ? 65001 : 65000;
  const second = await import('node:child_process').then(({ spawnSync }) => spawnSync(process.execPath, [
    new URL('../../dist/agent.js', import.meta.url).pathname, 'serve', `--work_dir=${first.workDir}`, `--port=${other}`,
  ], { encoding: 'utf8', timeout: 30_000 }));
  assert.equal(second.status, 1);
  assert.match(second.stderr, new RegExp(`was served on port ${first.port}.*use --port=${first.port}`));
  assert.equal(second.stderr.trimEnd().split('\n').length, 1);
});
