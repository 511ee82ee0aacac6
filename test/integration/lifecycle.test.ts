// A task's life through the built executor, the local agent and a real Docker engine.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerExists, exitCode, sandboxFile, shellTask, startAgent, states, terminal, withDocker } from '../helpers/harness.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;
const { Reason } = mesos.v1.TaskStatus;
const { TASK_KILLING_STATE } = mesos.v1.FrameworkInfo.Capability.Type;

for (const contentType of ['protobuf', 'json'] as const) {
  test(`a task that succeeds (${contentType})`, async (t) => {
    const agent = await startAgent(t, { executorFlags: [`--content_type=${contentType}`] });
    const record = agent.launch(shellTask('echo "out-$((6*7))"; echo "err-$((6*7))" >&2; echo "$MESOS_SANDBOX"'));

    const last = await terminal(agent, record);
    assert.equal(await exitCode(record), 0);
    assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    assert.equal(last.status.message, 'Container exited with status 0');
    assert.equal(sandboxFile(record, 'stdout'), 'out-42\n/mnt/mesos/sandbox\n');
    assert.match(sandboxFile(record, 'stderr'), /^err-42$/m);
    assert.doesNotMatch(sandboxFile(record, 'stderr'), /out-42/);

    const running = record.updates.find((update) => update.status.state === TaskState.TASK_RUNNING)!;
    const inspect = JSON.parse(Buffer.from(running.status.data!).toString('utf8')) as Array<{ Name: string }>;
    assert.equal(inspect[0]!.Name, `/${record.containerName}`);
    assert.ok(agent.calls.every((call) => call.contentType === (contentType === 'json' ? 'application/json' : 'application/x-protobuf')));
    assert.equal(await containerExists(record.containerName), false, 'the container is removed');
  });
}

test('a task that fails reports its exit status', async (t) => {
  const agent = await startAgent(t);
  const record = agent.launch(shellTask('echo about to fail; exit 3'));

  const last = await terminal(agent, record);
  assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
  assert.equal(last.status.message, 'Container exited with status 3');
  assert.equal(await exitCode(record), 0);
  assert.equal(sandboxFile(record, 'stdout'), 'about to fail\n');
  assert.equal(await containerExists(record.containerName), false);
});

test('a kill stops the container with its stop signal and reports TASK_KILLING then TASK_KILLED', async (t) => {
  const agent = await startAgent(t, { frameworkCapabilities: [TASK_KILLING_STATE] });
  const record = agent.launch(shellTask("trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.1; done"));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);

  const started = Date.now();
  assert.ok(agent.kill(record.executorId, 10_000));
  const last = await terminal(agent, record);
  assert.ok(Date.now() - started < 8000, 'the task stopped on SIGTERM, well before its grace period');
  assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
  assert.match(last.status.message ?? '', /SIGTERM/);
  assert.equal(sandboxFile(record, 'stdout'), 'ready\ngot TERM\n');
  assert.equal(await exitCode(record), 0);
  assert.equal(await containerExists(record.containerName), false);
});

test('a container that ignores SIGTERM is killed with SIGKILL at the end of the grace period', async (t) => {
  const agent = await startAgent(t);
  const record = agent.launch(shellTask("trap '' TERM; while true; do sleep 0.1; done"));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);

  const started = Date.now();
  agent.kill(record.executorId, 1000);
  const last = await terminal(agent, record);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 900 && elapsed < 10_000, `stopped after ${elapsed} ms`);
  assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLED'], 'no TASK_KILLING without the capability');
  assert.match(last.status.message ?? '', /SIGKILL after the 1s grace period/);
  assert.equal(await exitCode(record), 0);
});

test('a task whose image is missing fails with a clear message', async (t) => {
  const agent = await startAgent(t);
  const task = shellTask('true');
  task.container!.docker!.image = 'mesos-executor-test/does-not-exist:1';
  const record = agent.launch(task);

  const last = await terminal(agent, record);
  assert.deepEqual(states(record).filter((state) => state !== 'TASK_STARTING'), ['TASK_FAILED']);
  assert.equal(last.status.reason, Reason.REASON_CONTAINER_LAUNCH_FAILED);
  assert.match(last.status.message ?? '', /Failed to pull image 'mesos-executor-test\/does-not-exist:1'/);
  assert.equal(await exitCode(record), 0);
});

test('SHUTDOWN stops the task, reports TASK_KILLED and the executor exits', async (t) => {
  const agent = await startAgent(t, { shutdownGracePeriodMs: 4000 });
  const record = agent.launch(shellTask("trap 'echo bye; exit 0' TERM; while true; do sleep 0.1; done"));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);

  agent.shutdown(record.executorId);
  const last = await terminal(agent, record);
  assert.equal(last.status.state, TaskState.TASK_KILLED);
  assert.equal(await exitCode(record), 0);
  assert.equal(sandboxFile(record, 'stdout'), 'bye\n');
  assert.equal(await containerExists(record.containerName), false);
});

test('SIGTERM to the executor stops and removes its container before it exits', async (t) => {
  const agent = await startAgent(t);
  const record = agent.launch(shellTask("trap 'exit 0' TERM; while true; do sleep 0.1; done"));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);

  record.process.kill('SIGTERM');
  await exitCode(record, 30_000);
  assert.equal(await containerExists(record.containerName), false);
  const last = await terminal(agent, record);
  assert.equal(last.status.state, TaskState.TASK_KILLED, 'the kill is still reported while the agent is there');
});

test('max_completion_time fails the task with REASON_MAX_COMPLETION_TIME_REACHED', async (t) => {
  const agent = await startAgent(t, { frameworkCapabilities: [TASK_KILLING_STATE] });
  const record = agent.launch(shellTask('sleep 1000', { max_completion_time: { nanoseconds: 1_500_000_000 } }));

  const last = await terminal(agent, record);
  assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED'], 'no TASK_KILLING for a deadline');
  assert.equal(last.status.reason, Reason.REASON_MAX_COMPLETION_TIME_REACHED);
  assert.equal(await exitCode(record), 0);
  assert.equal(await containerExists(record.containerName), false);
});

test('an OOM kill is reported as TASK_FAILED with REASON_CONTAINER_LIMITATION_MEMORY', async (t) => {
  const agent = await startAgent(t);
  const task = shellTask('x=a; while :; do x=$x$x; done');
  task.resources = task.resources.map((resource) => (resource.name === 'mem' ? { ...resource, scalar: { value: 32 } } : resource)) as typeof task.resources;
  const record = agent.launch(task);

  const last = await terminal(agent, record);
  assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
  assert.equal(last.status.reason, Reason.REASON_CONTAINER_LIMITATION_MEMORY);
  assert.match(last.status.message ?? '', /memory limit of 32 MB/);
  assert.equal(await exitCode(record), 0);
});

test('exit status 137 without an OOM kill is not reported as a memory limitation', async (t) => {
  const agent = await startAgent(t);
  const record = agent.launch(shellTask("sh -c 'kill -9 $$'; exit $?"));
  const last = await terminal(agent, record);
  assert.equal(last.status.state, TaskState.TASK_FAILED);
  assert.equal(last.status.reason ?? 0, 0);
  assert.match(last.status.message ?? '', /status 137 \(SIGKILL\)/);
});

test('a second KILL with a shorter grace period shortens the kill', async (t) => {
  const agent = await startAgent(t, { frameworkCapabilities: [TASK_KILLING_STATE] });
  const record = agent.launch(shellTask("trap '' TERM; while true; do sleep 0.1; done"));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);

  const started = Date.now();
  agent.kill(record.executorId, 60_000);
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_KILLING);
  agent.kill(record.executorId, 500);
  const last = await terminal(agent, record);
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 10_000, `killed after ${elapsed} ms, not after the first 60 s grace`);
  assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED'], 'one TASK_KILLING only');
  assert.match(last.status.message ?? '', /SIGKILL/);
  assert.equal(await exitCode(record), 0);
});

test('a BRIDGE task reports its container IP in TASK_RUNNING', async (t) => {
  const agent = await startAgent(t);
  const task = shellTask("trap 'exit 0' TERM; while true; do sleep 0.1; done");
  task.container!.docker!.network = 2;
  const record = agent.launch(task);
  const running = await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);

  const addresses = running.status.container_status?.network_infos?.[0]?.ip_addresses ?? [];
  assert.equal(addresses.length, 1);
  assert.match(addresses[0]!.ip_address ?? '', /^\d+\.\d+\.\d+\.\d+$/);
  const inspect = JSON.parse(Buffer.from(running.status.data!).toString('utf8')) as Array<{ HostConfig: { NetworkMode: string } }>;
  assert.equal(inspect[0]!.HostConfig.NetworkMode, 'bridge');
  agent.kill(record.executorId, 2000);
  await terminal(agent, record);
  assert.equal(await exitCode(record), 0);
});

test('a host-network task carries no IP of its own (the agent adds its own)', async (t) => {
  const agent = await startAgent(t);
  const record = agent.launch(shellTask('true'));
  const running = await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
  assert.equal(running.status.container_status?.network_infos?.length ?? 0, 0);
  await terminal(agent, record);
});

test('an invalid TaskInfo fails with the reason, and nothing is created', async (t) => {
  const agent = await startAgent(t);
  const task = shellTask('true');
  task.container!.docker!.image = '--privileged';
  const record = agent.launch(task);
  const last = await terminal(agent, record);
  assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_FAILED']);
  assert.match(last.status.message ?? '', /'--privileged' is not a valid image reference/);
  assert.equal(last.status.reason, Reason.REASON_TASK_INVALID);
  assert.equal(await containerExists(record.containerName), false);
});

test('a container stopped by hand from outside the executor is reported as such', async (t) => {
  const agent = await startAgent(t);
  const record = agent.launch(shellTask("trap 'exit 0' TERM; while true; do sleep 0.1; done"));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);

  // `docker stop` is not a verb of the executor's: a raw call.
  const stopped = await withDocker((docker) => docker.call('POST', `/containers/${record.containerName}/stop?t=5`));
  assert.equal(stopped.status, 204, 'stopped by hand');
  const last = await terminal(agent, record);
  assert.equal(last.status.state, TaskState.TASK_FAILED, 'not TASK_FINISHED, although it exited 0');
  assert.match(last.status.message ?? '', /stopped from outside the executor with SIGTERM/);
  assert.equal(await exitCode(record), 0);
});
