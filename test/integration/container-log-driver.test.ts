// The task container's log configuration, read back from the daemon's inspect: the daemon's default
// unless the operator's --container_log_driver (auto, local: Docker's `local` driver kept whole, for
// the replay after an executor restart) or the task's own parameters say otherwise.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { mesos } from '../../src/proto/generated/mesos.js';
import { exitCode, inspectContainer, shellTask, startAgent, terminal, withDocker } from '../helpers/harness.js';

const { TaskState } = mesos.v1;
const LOCAL = { Type: 'local', Config: { 'max-file': '1', 'max-size': '1024g', compress: 'false' } };

// The LogConfig the daemon gave the container of a task launched with these executor flags.
async function logConfigOf(t: TestContext, executorFlags: string[], parameters: Array<[string, string]> = []): Promise<unknown> {
  const agent = await startAgent(t, { executorFlags });
  const task = shellTask("trap 'exit 0' TERM; while true; do sleep 0.1; done");
  task.container!.docker!.parameters = parameters.map(([key, value]) => mesos.v1.Parameter.create({ key, value }));
  const record = agent.launch(task);
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
  const inspect = await inspectContainer(record.containerName);
  agent.kill(record.executorId, 5000);
  assert.equal((await terminal(agent, record)).status.state, TaskState.TASK_KILLED);
  assert.equal(await exitCode(record), 0);
  return inspect.HostConfig.LogConfig;
}

const daemonDefault = await withDocker((docker) => docker.loggingDriver());

test('by default the daemon\'s own driver, as the stock executor', { timeout: 60_000 }, async (t) => {
  const config = await logConfigOf(t, []) as { Type: string };
  assert.equal(config.Type, daemonDefault);
});

test('--container_log_driver=auto: local, one file never rotated nor compressed, when the daemon defaults to json-file; else the daemon\'s own', { timeout: 60_000 }, async (t) => {
  const config = await logConfigOf(t, ['--container_log_driver=auto']) as { Type: string };
  if (daemonDefault === 'json-file') assert.deepEqual(config, LOCAL);
  else assert.equal(config.Type, daemonDefault);
});

test('--container_log_driver=daemon leaves the daemon\'s default driver', { timeout: 60_000 }, async (t) => {
  const config = await logConfigOf(t, ['--container_log_driver=daemon']) as { Type: string };
  assert.equal(config.Type, daemonDefault);
  assert.notDeepEqual(config, LOCAL);
});

test('--container_log_driver=local sets the local driver whatever the daemon\'s default', { timeout: 60_000 }, async (t) => {
  assert.deepEqual(await logConfigOf(t, ['--container_log_driver=local']), LOCAL);
});

test('the task\'s log-driver and log-opt parameters win over the flag', { timeout: 60_000 }, async (t) => {
  assert.deepEqual(
    await logConfigOf(t, ['--container_log_driver=local'], [['log-driver', 'json-file'], ['log-opt', 'max-size=1m']]),
    { Type: 'json-file', Config: { 'max-size': '1m' } },
  );
  // A log-opt alone keeps the daemon's default driver, with the task's option.
  const optOnly = await logConfigOf(t, [], [['log-opt', 'max-size=2m']]) as { Type: string; Config: Record<string, string> };
  assert.equal(optOnly.Type, daemonDefault);
  assert.equal(optOnly.Config['max-size'], '2m');
});
