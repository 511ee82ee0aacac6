// Whose environment an executor container gets. Under --docker_mesos_image the task's environment
// never reaches the executor's container (the executor reads it from the TaskInfo and gives it to
// the task's container only); a framework's executor image gets its ExecutorInfo.command.environment
// and nothing of the task's. Neither gets the agent's own environment: only its image's, the
// agent's contract and those variables.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { executorEnvironment } from '../../src/agent/launcher.js';
import type { ExecutorRecord } from '../../src/agent/local-agent.js';
import { mesos } from '../../src/proto/generated/mesos.js';
import { inspectContainer, sandboxFile, shellTask, startAgent, terminal, withDocker } from '../helpers/harness.js';
import { ensureCustomExecutorImage, ensureExecutorImage } from '../helpers/executor-images.js';

const { TaskState } = mesos.v1;
const TASK_VALUE = `from-the-task-${process.pid}`;
const AGENT_VALUE = `from-the-agent-process-${process.pid}`;
// The agent's own environment, which must reach no executor.
process.env.LOCAL_AGENT_OWN_VARIABLE = AGENT_VALUE;

function taskEnvironment(): { variables: Array<{ name: string; value: string }> } {
  return { variables: [{ name: 'TASK_ONLY', value: TASK_VALUE }, { name: 'MESOS_EXECUTOR_ID', value: TASK_VALUE }] };
}

async function imageEnvironment(image: string): Promise<Set<string>> {
  return withDocker(async (docker) => {
    const response = await docker.call('GET', `/images/${encodeURIComponent(image)}/json`);
    const env = (JSON.parse(response.body.toString('utf8')) as { Config: { Env?: string[] } }).Config.Env ?? [];
    return new Set(env);
  });
}

// The executor container's variables that are not its image's.
async function addedEnvironment(record: ExecutorRecord, image: string): Promise<Map<string, string>> {
  const own = await imageEnvironment(image);
  const env = (await inspectContainer(`mesos-${record.containerId}.executor`)).Config.Env as string[];
  return new Map(env.filter((entry) => !own.has(entry)).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}

describe('executor container environment', { concurrency: 2 }, () => {
  it('--docker_mesos_image: the task\'s environment reaches its container, never the executor\'s', async (t) => {
    const image = await ensureExecutorImage();
    const agent = await startAgent(t, { dockerMesosImage: image });
    agent.autoAcknowledge = false;
    const task = shellTask('echo "task sees $TASK_ONLY"');
    task.command!.environment = mesos.v1.Environment.fromObject(taskEnvironment());
    const record = agent.launch(task);
    const last = await terminal(agent, record);
    assert.equal(last.status.state, TaskState.TASK_FINISHED);
    assert.equal(sandboxFile(record, 'stdout'), `task sees ${TASK_VALUE}\n`, 'the task got its environment');

    // Still running: it waits for the acknowledgement of TASK_FINISHED.
    const added = await addedEnvironment(record, image);
    const contract = executorEnvironment(record.spec, record.sandbox);
    assert.deepEqual([...added.keys()].sort(), [...Object.keys(contract), 'MESOS_SANDBOX', 'MESOS_CONTAINER_NAME'].sort());
    for (const [name, value] of Object.entries(contract)) assert.equal(added.get(name), value, name);
    assert.ok(![...added.values()].some((value) => value.includes(TASK_VALUE) || value.includes(AGENT_VALUE)));
    for (const update of record.updates) agent.acknowledge(record.executorId, update.status);
  });

  it('a framework executor image: its ExecutorInfo\'s environment only, none of the task\'s', async (t) => {
    const image = await ensureCustomExecutorImage();
    const agent = await startAgent(t);
    agent.autoAcknowledge = false;
    const task = shellTask('run_ms=0');
    task.command!.environment = mesos.v1.Environment.fromObject(taskEnvironment());
    task.executor = mesos.v1.ExecutorInfo.fromObject({
      executor_id: { value: `custom-${task.task_id.value}` },
      command: { shell: false, environment: { variables: [{ name: 'EXECUTOR_OWN', value: 'from-the-executor-info' }, { name: 'MESOS_DIRECTORY', value: '/forged' }] } },
      container: { type: mesos.v1.ContainerInfo.Type.DOCKER, docker: { image } },
    });
    const record = agent.launch(task);
    const last = await terminal(agent, record, 120_000);
    assert.equal(last.status.state, TaskState.TASK_FINISHED);

    const added = await addedEnvironment(record, image);
    const contract = executorEnvironment(record.spec, record.sandbox);
    assert.equal(added.get('EXECUTOR_OWN'), 'from-the-executor-info');
    for (const [name, value] of Object.entries(contract)) assert.equal(added.get(name), value, `${name}: the agent's contract wins`);
    assert.equal(added.has('TASK_ONLY'), false);
    for (const name of added.keys()) {
      assert.ok(name === 'EXECUTOR_OWN' || name in contract || name.startsWith('MESOS_'), `unexpected variable ${name}`);
    }
    assert.ok(![...added.values()].some((value) => value.includes(TASK_VALUE) || value.includes(AGENT_VALUE)));
    agent.acknowledge(record.executorId, last.status);
  });
});
