// Operator policy through the built executor, the local agent and the real Docker engine: each
// policy flag refuses its case before any container exists (TASK_FAILED, REASON_TASK_INVALID, a
// message naming the flag and the value), and the default policy keeps the stock executor's parity.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stateName } from '../../src/executor/task-states.js';
import { exitCode, sandboxFile, shellTask, startAgent, states, terminal, withDocker } from '../helpers/harness.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;
const { Reason } = mesos.v1.TaskStatus;
const { HOST } = mesos.v1.ContainerInfo.DockerInfo.Network;

// Docker's record of containers created under this name since `since` (Unix seconds): proof
// that none was, even if one had been removed again at once.
async function createEvents(name: string, since: number): Promise<number> {
  return withDocker(async (docker) => (await docker.events(name, ['create'], since, Math.ceil(Date.now() / 1000) + 1)).length);
}

function params(...pairs: string[]): Array<{ key: string; value: string }> {
  return pairs.map((pair) => ({ key: pair.slice(0, pair.indexOf('=')), value: pair.slice(pair.indexOf('=') + 1) }));
}

const HARDENED = [
  '--allow_privileged=false',
  '--allowed_host_paths=/srv/data',
  '--allowed_capabilities=NET_BIND_SERVICE',
  '--allow_devices=false',
  '--allowed_docker_parameters=env,label,cap-add,volume,device,pid',
];

describe('operator policy', { concurrency: 3 }, () => {
  it('each policy flag refuses its case before a container is created', async (t) => {
    const agent = await startAgent(t, { executorFlags: HARDENED });
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['privileged', { privileged: true }, 'Refused by operator policy --allow_privileged=false: the task asks for a privileged container'],
      ['pid=host', { parameters: params('pid=host') }, "Refused by operator policy --allow_privileged=false: the task asks for the host's PID namespace (pid=host)"],
      ['host path', { volumes: [{ host_path: '/etc', container_path: '/host-etc', mode: mesos.v1.Volume.Mode.RO }] },
        "Refused by operator policy --allowed_host_paths=/srv/data: volume host path '/etc' is outside the allowed prefixes"],
      ['prefix text is not a prefix', { parameters: params('volume=/srv/database:/db') },
        "Refused by operator policy --allowed_host_paths=/srv/data: volume host path '/srv/database' is outside the allowed prefixes"],
      ['capability', { parameters: params('cap-add=SYS_ADMIN') }, 'Refused by operator policy --allowed_capabilities=NET_BIND_SERVICE: the task adds the capability SYS_ADMIN (cap-add)'],
      ['device', { parameters: params('device=/dev/fuse') }, "Refused by operator policy --allow_devices=false: the task maps the host device '/dev/fuse' (device)"],
      ['parameter', { parameters: params('env=A=1', 'hostname=box') },
        "Refused by operator policy --allowed_docker_parameters=env,label,cap-add,volume,device,pid: the task gives the docker parameter 'hostname'"],
    ];
    await Promise.all(cases.map(async ([name, extra, message]) => {
      const since = Math.floor(Date.now() / 1000) - 1;
      const task = shellTask('echo should-not-run');
      const { volumes, ...docker } = extra as { volumes?: unknown };
      Object.assign(task.container!.docker!, docker);
      if (volumes) task.container!.volumes = volumes as never;
      const record = agent.launch(task);
      const last = await terminal(agent, record);
      assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_FAILED'], name);
      assert.equal(last.status.state, TaskState.TASK_FAILED, name);
      assert.equal(last.status.reason, Reason.REASON_TASK_INVALID, name);
      assert.equal(last.status.message, message, name);
      assert.equal(await exitCode(record), 0, name);
      assert.equal(await createEvents(record.containerName, since), 0, `${name}: no container was created`);
      assert.doesNotMatch(sandboxFile(record, 'stdout'), /should-not-run/);
    }));
  });

  it('a task inside the hardened policy runs', async (t) => {
    const agent = await startAgent(t, { executorFlags: HARDENED });
    const task = shellTask('echo "A=$A"');
    task.container!.docker!.parameters = params('env=A=1', 'cap-add=net_bind_service') as never;
    task.container!.volumes = [{ host_path: 'cache', container_path: '/cache', mode: mesos.v1.Volume.Mode.RW }] as never;
    const record = agent.launch(task);
    const last = await terminal(agent, record);
    assert.equal(stateName(last.status.state), 'TASK_FINISHED', last.status.message ?? '');
    assert.match(sandboxFile(record, 'stdout'), /A=1/);
  });

  it('operator flags come from a flags file the agent does not pass', async (t) => {
    const path = join(mkdtempSync(join(tmpdir(), 'policy-flags-')), 'flags');
    writeFileSync(path, '# hardened\n--allow_privileged=false\n');
    chmodSync(path, 0o644);
    const agent = await startAgent(t, { executorFlags: [`--flags_file=${path}`] });
    const task = shellTask('true');
    task.container!.docker!.privileged = true;
    const record = agent.launch(task);
    const last = await terminal(agent, record);
    assert.equal(last.status.reason, Reason.REASON_TASK_INVALID);
    assert.equal(last.status.message, 'Refused by operator policy --allow_privileged=false: the task asks for a privileged container');
  });

  it('the default policy lets a privileged request reach Docker, as the stock executor does', async (t) => {
    const agent = await startAgent(t);
    const task = shellTask('true');
    task.container!.docker!.privileged = true;
    task.container!.docker!.network = HOST;
    const since = Math.floor(Date.now() / 1000) - 1;
    const record = agent.launch(task);
    const last = await terminal(agent, record);
    // This Docker host refuses privileged containers when they start: the create went through.
    assert.equal(last.status.state, TaskState.TASK_FAILED);
    assert.equal(last.status.reason, Reason.REASON_CONTAINER_LAUNCH_FAILED, last.status.message ?? '');
    assert.match(last.status.message ?? '', /^Failed to start container /);
    assert.doesNotMatch(last.status.message ?? '', /operator policy/);
    assert.equal(await createEvents(record.containerName, since), 1, 'the container was created');
  });
});
