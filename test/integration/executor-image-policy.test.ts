// The operator policy over a framework's executor image (attack tests): an ExecutorInfo whose
// container asks for privileged mode, a host path outside the allowed prefixes, a capability or a
// host device is refused before anything is pulled or created (TASK_FAILED from the agent,
// REASON_TASK_INVALID, the flag and its value named), through the local agent and its CLI. The
// --docker_mesos_image container's pid=host and capabilities are the operator's and still run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseFlags } from '../../src/config/flags.js';
import { parsePolicy, POLICY_FLAGS } from '../../src/config/policy-flags.js';
import { mesos } from '../../src/proto/generated/mesos.js';
import { toMesosJson } from '../../src/protocol/mesos-json.js';
import { exitCode, sandboxFile, shellTask, startAgent, states, terminal, withDocker } from '../helpers/harness.js';
import { ensureCustomExecutorImage, ensureExecutorImage } from '../helpers/executor-images.js';

const { TaskState } = mesos.v1;
const { Reason, Source } = mesos.v1.TaskStatus;

// A host directory the policy allows (it must exist: a path that cannot be resolved is refused).
const ALLOWED = mkdtempSync(join(tmpdir(), 'executor-policy-allowed-'));
const HARDENED = ['--allow_privileged=false', `--allowed_host_paths=${ALLOWED}`, '--allowed_capabilities=', '--allow_devices=false'];
const POLICY = parsePolicy(parseFlags(HARDENED, POLICY_FLAGS));

function executorTask(image: string, container: Record<string, unknown>, docker: Record<string, unknown> = {}): mesos.v1.TaskInfo {
  const task = shellTask('run_ms=0');
  task.executor = mesos.v1.ExecutorInfo.fromObject({
    executor_id: { value: `custom-${task.task_id.value}` },
    command: { shell: false },
    container: { type: mesos.v1.ContainerInfo.Type.DOCKER, docker: { image, ...docker }, ...container },
  });
  return task;
}

// Docker's record of containers created under this name since `since` (Unix seconds): proof that
// none was, even if one had been removed again at once.
async function createEvents(name: string, since: number): Promise<number> {
  return withDocker(async (docker) => (await docker.events(name, ['create'], since, Math.ceil(Date.now() / 1000) + 1)).length);
}

describe('operator policy over a framework executor image', { concurrency: 3 }, () => {
  it('refuses privileged mode, a host path, an added capability and a device before creating a container', async (t) => {
    const image = await ensureCustomExecutorImage();
    const agent = await startAgent(t, { policy: POLICY });
    const cases: Array<[string, mesos.v1.TaskInfo, RegExp]> = [
      ['privileged', executorTask(image, {}, { privileged: true }), /^Failed to launch container: Refused by operator policy --allow_privileged=false: the task asks for a privileged container/],
      ['pid=host', executorTask(image, {}, { parameters: [{ key: 'pid', value: 'host' }] }), /Refused by operator policy --allow_privileged=false: the task asks for the host's PID namespace \(pid=host\)/],
      ['a host path', executorTask(image, { volumes: [{ host_path: '/etc', container_path: '/host-etc', mode: 'RO' }] }), new RegExp(`Refused by operator policy --allowed_host_paths=${ALLOWED}: volume host path '/etc' is outside the allowed prefixes`)],
      ['the Docker socket', executorTask(image, {}, { parameters: [{ key: 'volume', value: '/var/run/docker.sock:/var/run/docker.sock' }] }), new RegExp(`Refused by operator policy --allowed_host_paths=${ALLOWED}: volume host path '/var/run/docker.sock'`)],
      ['cap-add', executorTask(image, {}, { parameters: [{ key: 'cap-add', value: 'SYS_ADMIN' }] }), /Refused by operator policy --allowed_capabilities=: the task adds the capability SYS_ADMIN \(cap-add\)/],
      ['a device', executorTask(image, {}, { parameters: [{ key: 'device', value: '/dev/null' }] }), /Refused by operator policy --allow_devices=false: the task maps the host device '\/dev\/null' \(device\)/],
    ];
    const since = Math.floor(Date.now() / 1000) - 1;
    for (const [what, task, message] of cases) {
      const record = agent.launch(task);
      const last = await terminal(agent, record);
      assert.equal(last.status.state, TaskState.TASK_FAILED, what);
      assert.equal(last.status.source, Source.SOURCE_AGENT, what);
      assert.equal(last.status.reason, Reason.REASON_TASK_INVALID, what);
      assert.match(last.status.message ?? '', message, what);
      assert.equal(await exitCode(record), null, `${what}: no executor ran`);
      assert.equal(await createEvents(`mesos-${record.containerId}.executor`, since), 0, `${what}: no container was created`);
      assert.match(sandboxFile(record, 'stderr'), /Refused by operator policy/, `${what}: the refusal in the sandbox stderr`);
    }
  });

  it('lets an executor image inside the policy run, and the --docker_mesos_image container keep its pid=host and capabilities', async (t) => {
    const [custom, mesosImage] = await Promise.all([ensureCustomExecutorImage(), ensureExecutorImage()]);
    const framework = await startAgent(t, { policy: POLICY });
    const allowed = framework.launch(executorTask(custom, { volumes: [{ host_path: ALLOWED, container_path: '/data', mode: 'RO' }] }));
    assert.equal((await terminal(framework, allowed, 120_000)).status.state, TaskState.TASK_FINISHED);

    const operator = await startAgent(t, { policy: POLICY, dockerMesosImage: mesosImage, executorFlags: HARDENED });
    const record = operator.launch(shellTask('echo inside'));
    assert.equal((await terminal(operator, record)).status.state, TaskState.TASK_FINISHED);
    assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    assert.equal(sandboxFile(record, 'stdout'), 'inside\n');
  });

  it('node dist/agent.js run --allow_privileged=false refuses a privileged executor image', async () => {
    const image = await ensureCustomExecutorImage();
    const dir = mkdtempSync(join(tmpdir(), 'executor-policy-cli-'));
    const path = join(dir, 'task.json');
    writeFileSync(path, JSON.stringify(toMesosJson('mesos.v1.TaskInfo', executorTask(image, {}, { privileged: true }))));
    const run = spawnSync(process.execPath, [resolve(import.meta.dirname, '../../dist/agent.js'), 'run', path, `--work_dir=${dir}`, '--allow_privileged=false', '--json_updates'], {
      encoding: 'utf8', timeout: 60_000,
    });
    assert.equal(run.status, 1, run.stderr);
    const updates = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { state: string; reason: string; message: string });
    assert.deepEqual(updates.map((update) => [update.state, update.reason]), [['TASK_FAILED', 'REASON_TASK_INVALID']]);
    assert.match(updates[0]!.message, /Refused by operator policy --allow_privileged=false: the task asks for a privileged container/);
  });
});
