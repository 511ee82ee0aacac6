// A framework's executor image (an ExecutorInfo whose ContainerInfo is DOCKER) runs as the
// executor's container: named mesos-<ContainerID>.executor, labelled, on the host's network with
// the sandbox mapped, the agent's contract (token included) in its environment and never on a
// command line; it subscribes, runs its task, and is removed once it has exited.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mesos } from '../../src/proto/generated/mesos.js';
import { allCommandLines, containerExists, eventually, exitCode, inspectContainer, sandboxFile, shellTask, startAgent, states, terminal } from '../helpers/harness.js';
import { ensureCustomExecutorImage } from '../helpers/executor-images.js';

const { TaskState } = mesos.v1;
const TOKEN = `executor-token-${process.pid}-${Date.now()}`;

function executorTask(image: string): mesos.v1.TaskInfo {
  const task = shellTask('unused: the framework executor runs the task');
  task.executor = mesos.v1.ExecutorInfo.fromObject({
    executor_id: { value: `custom-${task.task_id.value}` },
    name: 'a framework executor',
    command: { shell: false },
    container: { type: mesos.v1.ContainerInfo.Type.DOCKER, docker: { image } },
    resources: [{ name: 'mem', type: mesos.v1.Value.Type.SCALAR, scalar: { value: 64 } }],
  });
  return task;
}

test('a framework executor image registers, runs its task and finishes; its container is reaped', async (t) => {
  const image = await ensureCustomExecutorImage();
  const agent = await startAgent(t, { authToken: TOKEN });
  agent.autoAcknowledge = false;
  const task = executorTask(image);
  const record = agent.launch(task);
  assert.equal(record.executorId, `custom-${task.task_id.value}`, 'the executor registers under its own id');
  const name = `mesos-${record.containerId}.executor`;

  const last = await terminal(agent, record, 120_000);
  assert.deepEqual(states(record), ['TASK_RUNNING', 'TASK_FINISHED']);
  assert.equal(last.status.task_id?.value, task.task_id.value);
  assert.equal(record.subscribeCalls.length, 1);

  // Still running: it waits for the acknowledgement of TASK_FINISHED.
  const inspect = await inspectContainer(name);
  assert.equal(inspect.State.Running, true);
  assert.equal(inspect.HostConfig.NetworkMode, 'host');
  assert.ok(inspect.HostConfig.Binds.includes(`${record.sandbox}:${record.sandbox}`), 'the sandbox at its own path');
  assert.ok(inspect.HostConfig.Binds.includes(`${record.sandbox}:/mnt/mesos/sandbox`), 'and at the mapped directory');
  const labels = inspect.Config.Labels as Record<string, string>;
  assert.equal(labels['org.apache.mesos.container_kind'], 'executor');
  assert.equal(labels['org.apache.mesos.container_id'], record.containerId);
  assert.equal(labels['org.apache.mesos.framework_id'], agent.frameworkId);
  assert.equal(labels['org.apache.mesos.executor_id'], record.executorId);
  assert.equal(labels['org.apache.mesos.executor_pid'], undefined, 'not a task container: the sweep leaves it to the agent');
  const env = inspect.Config.Env as string[];
  assert.ok(env.includes(`MESOS_EXECUTOR_AUTHENTICATION_TOKEN=${TOKEN}`));
  assert.ok(env.includes(`MESOS_EXECUTOR_ID=${record.executorId}`));
  assert.ok(env.includes(`MESOS_DIRECTORY=${record.sandbox}`));
  assert.ok(env.includes(`MESOS_AGENT_ENDPOINT=127.0.0.1:${agent.port}`));
  assert.ok(env.includes(`MESOS_CONTAINER_NAME=${name}`));
  const argv = [inspect.Path, ...inspect.Args, ...(inspect.Config.Cmd ?? []), ...(inspect.Config.Entrypoint ?? [])].join(' ');
  assert.ok(!argv.includes(TOKEN), 'no token in the container\'s command');
  assert.ok(!allCommandLines().some((line) => line.includes(TOKEN)), 'no token on any command line');

  agent.acknowledge(record.executorId, last.status);
  assert.equal(await exitCode(record), 0);
  assert.equal(await containerExists(name), false, 'reaped once it exited');
  assert.equal(sandboxFile(record, 'stdout'), `custom executor ${record.executorId} subscribed; sandbox /mnt/mesos/sandbox\ncustom executor done\n`);
  assert.equal(sandboxFile(record, 'stderr'), 'custom executor diagnostics go to stderr\n');
});

test('an executor image that never subscribes is destroyed and its task failed by the agent', async (t) => {
  await ensureCustomExecutorImage();
  const agent = await startAgent(t, { executorRegistrationTimeoutMs: 3000 });
  const task = executorTask('mesos-executor-test/busybox:latest');
  task.executor!.command = mesos.v1.CommandInfo.fromObject({ shell: true, value: 'echo waiting; sleep 600' });
  const record = agent.launch(task);
  const last = await terminal(agent, record);
  assert.equal(last.status.state, TaskState.TASK_FAILED);
  assert.equal(last.status.source, mesos.v1.TaskStatus.Source.SOURCE_AGENT);
  assert.equal(last.status.reason, mesos.v1.TaskStatus.Reason.REASON_EXECUTOR_REGISTRATION_TIMEOUT);
  assert.equal(last.status.message, 'Executor did not register within 3secs');
  await exitCode(record);
  await eventually('the container to be removed', async () => !(await containerExists(`mesos-${record.containerId}.executor`)) || undefined);
  assert.equal(sandboxFile(record, 'stdout'), 'waiting\n');
});

test('an executor image that cannot be pulled fails the task as a launch failure', async (t) => {
  const agent = await startAgent(t);
  const record = agent.launch(executorTask('127.0.0.1:1/no/such-image:latest'));
  const last = await terminal(agent, record);
  assert.equal(last.status.reason, mesos.v1.TaskStatus.Reason.REASON_CONTAINER_LAUNCH_FAILED);
  assert.match(last.status.message ?? '', /^Failed to launch container: Failed to launch the executor's container mesos-.*\.executor: /);
  assert.equal(await exitCode(record), null);
});
