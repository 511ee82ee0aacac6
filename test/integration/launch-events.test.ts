// Events a Docker executor must answer without crashing: a second LAUNCH, KILL before LAUNCH,
// LAUNCH_GROUP.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stateName } from '../../src/executor/task-states.js';
import { containerExists, eventually, exitCode, shellTask, startAgent, states, terminal } from '../helpers/harness.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;
const { Reason } = mesos.v1.TaskStatus;
const EventType = mesos.v1.executor.Event.Type;

test('a second LAUNCH fails that task only', async (t) => {
  const agent = await startAgent(t);
  const record = agent.launch(shellTask("trap 'exit 0' TERM; while true; do sleep 0.1; done"));
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);

  const second = shellTask('echo never');
  agent.sendEvent(record.executorId, { type: EventType.LAUNCH, launch: { task: second } });
  const refused = await agent.waitForUpdate(record.executorId, (update) => update.status.task_id?.value === second.task_id!.value);
  assert.equal(stateName(refused.status.state), 'TASK_FAILED');
  assert.equal(refused.status.message, 'Attempted to run multiple tasks using a "docker" executor');

  assert.equal(await containerExists(record.containerName), true, 'the first task keeps running');
  agent.kill(record.executorId, 5000);
  await terminal(agent, record);
  assert.equal(await exitCode(record), 0);
});

test('KILL before LAUNCH: the task is reported killed when it arrives, and nothing runs', async (t) => {
  const agent = await startAgent(t, { holdLaunch: true });
  const task = shellTask('echo should-not-run');
  const record = agent.launch(task);
  await eventually('the subscription', () => record.state === 'running' || undefined);

  agent.sendEvent(record.executorId, { type: EventType.KILL, kill: { task_id: task.task_id! } });
  agent.sendEvent(record.executorId, { type: EventType.LAUNCH, launch: { task } });
  const last = await terminal(agent, record);
  assert.deepEqual(states(record), ['TASK_KILLED']);
  assert.equal(last.status.reason, Reason.REASON_TASK_KILLED_DURING_LAUNCH);
  assert.equal(await exitCode(record), 0);
  assert.equal(await containerExists(record.containerName), false);
});

test('KILL for a task the executor never heard of is ignored without a crash', async (t) => {
  const agent = await startAgent(t, { holdLaunch: true });
  const task = shellTask('echo fine');
  const record = agent.launch(task);
  await eventually('the subscription', () => record.state === 'running' || undefined);

  agent.sendEvent(record.executorId, { type: EventType.KILL, kill: { task_id: { value: 'someone-else' } } });
  agent.sendEvent(record.executorId, { type: EventType.LAUNCH, launch: { task } });
  await terminal(agent, record);
  assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  assert.equal(await exitCode(record), 0);
});

test('LAUNCH_GROUP is refused with a clear message for each task', async (t) => {
  const agent = await startAgent(t, { holdLaunch: true });
  const first = shellTask('true');
  const second = shellTask('true');
  const record = agent.launch(first);
  await eventually('the subscription', () => record.state === 'running' || undefined);

  agent.sendEvent(record.executorId, { type: EventType.LAUNCH_GROUP, launch_group: { task_group: { tasks: [first, second] } } });
  const updates = await eventually('two refusals', () => (record.updates.length >= 2 ? record.updates : undefined));
  assert.deepEqual(updates.map((update) => stateName(update.status.state)), ['TASK_FAILED', 'TASK_FAILED']);
  assert.deepEqual(updates.map((update) => update.status.task_id?.value), [first.task_id!.value, second.task_id!.value]);
  assert.match(updates[0]!.status.message ?? '', /LAUNCH_GROUP is not supported/);
  assert.equal(await exitCode(record), 0);
});
