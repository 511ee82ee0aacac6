import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerSpec, type ContainerContext, type ContainerSpec } from '../../src/docker/container-spec.js';
import { InvalidTaskError } from '../../src/docker/invalid-task-error.js';
import { mesos } from '../../src/proto/generated/mesos.js';

import ContainerType = mesos.v1.ContainerInfo.Type;
import Network = mesos.v1.ContainerInfo.DockerInfo.Network;
import VariableType = mesos.v1.Environment.Variable.Type;
import SecretType = mesos.v1.Secret.Type;

const MB = 1024 * 1024;
const SANDBOX = '/var/lib/mesos/slaves/a1/frameworks/f1/executors/t1/runs/c1';
const MAPPED = '/mnt/mesos/sandbox';

const CONTEXT: ContainerContext = {
  containerName: 'mesos-c1',
  sandboxDirectory: SANDBOX,
  mappedDirectory: MAPPED,
  taskEnvironment: {},
  cgroupsEnableCfs: false,
  labels: {},
};

type Task = mesos.v1.ITaskInfo;
type HostConfig = Record<string, unknown>;

function task(overrides: Partial<Task> = {}): Task {
  return {
    name: 'task',
    task_id: { value: 't1' },
    agent_id: { value: 'a1' },
    command: { shell: true, value: 'sleep 1' },
    container: { type: ContainerType.DOCKER, docker: { image: 'busybox:latest' } },
    ...overrides,
  };
}

function scalar(name: string, value: number, role?: string): mesos.v1.IResource {
  return {
    name,
    type: mesos.v1.Value.Type.SCALAR,
    scalar: { value },
    ...(role !== undefined ? { allocation_info: { role } } : {}),
  };
}

function spec(t: Task, context: Partial<ContainerContext> = {}): ContainerSpec {
  return containerSpec(t, { ...CONTEXT, ...context });
}

function hostConfig(t: Task, context: Partial<ContainerContext> = {}): HostConfig {
  return spec(t, context).body.HostConfig as HostConfig;
}

function envOf(t: Task, context: Partial<ContainerContext> = {}): Record<string, string> {
  const env = spec(t, context).body.Env as string[];
  return Object.fromEntries(env.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}

function invalidTask(pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof InvalidTaskError, `expected an InvalidTaskError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_INVALID_TASK');
    assert.match(err.message, pattern);
    return true;
  };
}

// The same task as the agent would deliver it: a generated instance carrying the proto2 defaults.
function decoded(object: Record<string, unknown>): mesos.v1.TaskInfo {
  return mesos.v1.TaskInfo.fromObject({
    name: 'task',
    task_id: { value: 't1' },
    agent_id: { value: 'a1' },
    container: { type: 'DOCKER', docker: { image: 'busybox:latest' } },
    ...object,
  });
}

test('the spec names the container and the image, and attaches only stdout and stderr', () => {
  const result = spec(task());
  assert.equal(result.name, 'mesos-c1');
  assert.equal(result.image, 'busybox:latest');
  assert.equal(result.body.Image, 'busybox:latest');
  assert.equal(result.body.Tty, false);
  assert.equal(result.body.OpenStdin, false);
  assert.equal(result.body.AttachStdin, false);
  assert.deepEqual(result.secrets, []);
});

test('shell=true runs /bin/sh -c value, replacing the image entrypoint', () => {
  const cases: Array<[string, Task]> = [
    ['explicit shell', task({ command: { shell: true, value: 'echo "$HOME" && exit 3' } })],
    ['shell unset in a plain object', task({ command: { value: 'echo "$HOME" && exit 3' } })],
    ['shell defaulted by the generated class', decoded({ command: { value: 'echo "$HOME" && exit 3' } })],
  ];
  for (const [name, t] of cases) {
    const { body } = spec(t);
    assert.deepEqual(body.Entrypoint, ['/bin/sh'], name);
    assert.deepEqual(body.Cmd, ['-c', 'echo "$HOME" && exit 3'], name);
  }
});

test('shell=true with arguments still runs only the value through the shell', () => {
  const { body } = spec(task({ command: { shell: true, value: 'echo hi', arguments: ['ignored'] } }));
  assert.deepEqual(body.Cmd, ['-c', 'echo hi']);
});

test('shell=true without a value is an invalid task', () => {
  for (const t of [task({ command: { shell: true } }), task({ command: { value: '' } }), decoded({ command: {} })]) {
    assert.throws(() => spec(t), invalidTask(/command\.shell is true but command\.value is empty/));
  }
});

test('shell=false hands value and arguments to the image entrypoint as CMD', () => {
  const cases: Array<[mesos.v1.ICommandInfo, string[] | undefined]> = [
    [{ shell: false, value: 'inky', arguments: ['--a', 'b c'] }, ['inky', '--a', 'b c']],
    [{ shell: false, value: '5a7c0f3c' }, ['5a7c0f3c']],
    // arguments[0] is not skipped, unlike the Mesos containerizer.
    [{ shell: false, arguments: ['5a7c0f3c', 'x'] }, ['5a7c0f3c', 'x']],
    [{ shell: false }, undefined],
    [{ shell: false, value: '', arguments: [] }, undefined],
  ];
  for (const [command, cmd] of cases) {
    const { body } = spec(task({ command }));
    assert.equal('Entrypoint' in body, false, JSON.stringify(command));
    assert.deepEqual(body.Cmd, cmd, JSON.stringify(command));
    assert.equal('Cmd' in body, cmd !== undefined, JSON.stringify(command));
  }
  // The generated class defaults value to '': still no CMD, so the image's default runs.
  const { body } = spec(decoded({ command: { shell: false } }));
  assert.equal('Entrypoint' in body, false);
  assert.equal('Cmd' in body, false);
});

test('environment precedence: --task_environment, then CommandInfo, then the variables Mesos always sets', () => {
  const t = task({
    command: {
      value: 'env',
      environment: {
        variables: [
          { name: 'FROM_TASK', value: 'task' },
          { name: 'SHARED', value: 'from CommandInfo' },
          { name: 'MESOS_SANDBOX', value: '/elsewhere' },
          { name: 'MESOS_CONTAINER_NAME', value: 'other' },
          { name: 'MESOS_ALLOCATION_ROLE', value: 'not-mine' },
          { name: 'WITH_EQUALS', value: 'a=b=c' },
          { name: 'MULTILINE', value: 'line1\nline2' },
          { name: 'NO_VALUE' },
        ],
      },
    },
    resources: [scalar('cpus', 1, 'web'), scalar('mem', 64, 'other-role')],
  });
  const env = envOf(t, { taskEnvironment: { SHARED: 'from hook', HOOK_ONLY: 'hook', MESOS_SANDBOX: '/hook' } });
  assert.deepEqual(env, {
    FROM_TASK: 'task',
    SHARED: 'from hook',
    HOOK_ONLY: 'hook',
    MESOS_SANDBOX: MAPPED,
    MESOS_CONTAINER_NAME: 'mesos-c1',
    MESOS_ALLOCATION_ROLE: 'web',
    WITH_EQUALS: 'a=b=c',
    MULTILINE: 'line1\nline2',
    NO_VALUE: '',
  });
});

test('MESOS_SANDBOX and MESOS_CONTAINER_NAME are set even with no environment at all', () => {
  assert.deepEqual(spec(task({ command: { value: 'true' } })).body.Env, [
    `MESOS_CONTAINER_NAME=mesos-c1`,
    `MESOS_SANDBOX=${MAPPED}`,
  ]);
  assert.deepEqual(envOf(task(), { mappedDirectory: '/sandbox', containerName: 'mesos-other' }), {
    MESOS_SANDBOX: '/sandbox',
    MESOS_CONTAINER_NAME: 'mesos-other',
  });
});

test('MESOS_ALLOCATION_ROLE comes from the first resource only, and only when it has one', () => {
  const cases: Array<[mesos.v1.IResource[] | undefined, string | undefined]> = [
    [[scalar('cpus', 1, 'analytics'), scalar('mem', 32, 'web')], 'analytics'],
    [[scalar('cpus', 1), scalar('mem', 32, 'web')], undefined],
    [[], undefined],
    [undefined, undefined],
  ];
  for (const [resources, role] of cases) {
    const env = envOf(task(resources ? { resources } : {}));
    assert.equal(env.MESOS_ALLOCATION_ROLE, role, JSON.stringify(resources));
  }
  const fromDecoded = envOf(decoded({
    command: { value: 'true' },
    resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, allocation_info: { role: 'decoded-role' } }],
  }));
  assert.equal(fromDecoded.MESOS_ALLOCATION_ROLE, 'decoded-role');
});

test('Env is sorted by key, like the std::map of the stock executor', () => {
  const env = spec(task({
    command: {
      value: 'env',
      environment: { variables: ['zeta', 'ALPHA', 'beta', 'MIDDLE', '_under', 'A1'].map((name) => ({ name, value: name.toLowerCase() })) },
    },
  }), { taskEnvironment: { Y_HOOK: 'y', B_HOOK: 'b' } }).body.Env as string[];
  const keys = env.map((entry) => entry.slice(0, entry.indexOf('=')));
  assert.deepEqual(keys, [...keys].sort());
  assert.deepEqual(keys, ['A1', 'ALPHA', 'B_HOOK', 'MESOS_CONTAINER_NAME', 'MESOS_SANDBOX', 'MIDDLE', 'Y_HOOK', '_under', 'beta', 'zeta']);
});

test('a variable with an empty name or a name containing = is an invalid task', () => {
  for (const name of ['', 'A=B']) {
    const t = task({ command: { value: 'env', environment: { variables: [{ name, value: 'x' }] } } });
    assert.throws(() => spec(t), invalidTask(new RegExp(`variable named '${name}'`)));
  }
});

// A plain object's prototype must not make names like 'constructor' look already set.
test('CommandInfo variables named like Object.prototype members reach the container', () => {
  const names = ['constructor', 'toString', 'hasOwnProperty', 'valueOf'];
  const env = envOf(task({ command: { value: 'env', environment: { variables: names.map((name) => ({ name, value: `v-${name}` })) } } }));
  for (const name of names) assert.equal(env[name], `v-${name}`, name);
});

test('a SECRET variable with an inline value is resolved into Env and listed as a secret', () => {
  const variables: mesos.v1.Environment.Variable.$Properties[] = [
    { name: 'PLAIN', value: 'visible' },
    { name: 'TOKEN', type: VariableType.SECRET, secret: { type: SecretType.VALUE, value: { data: Buffer.from('s3cr3t-✓', 'utf8') } } },
  ];
  const result = spec(task({ command: { value: 'env', environment: { variables } } }));
  assert.ok((result.body.Env as string[]).includes('TOKEN=s3cr3t-✓'));
  assert.ok((result.body.Env as string[]).includes('PLAIN=visible'));
  assert.deepEqual(result.secrets, ['s3cr3t-✓']);

  // As decoded from JSON, where bytes arrive base64-encoded.
  const fromJson = spec(decoded({
    command: {
      value: 'env',
      environment: { variables: [{ name: 'TOKEN', type: 'SECRET', secret: { type: 'VALUE', value: { data: Buffer.from('abc').toString('base64') } } }] },
    },
  }));
  assert.ok((fromJson.body.Env as string[]).includes('TOKEN=abc'));
  assert.deepEqual(fromJson.secrets, ['abc']);
});

test('a SECRET variable that is a reference, or has no secret, is an invalid task naming the variable', () => {
  const cases: Array<[mesos.v1.Environment.Variable.$Properties, RegExp]> = [
    [
      { name: 'DB_PASSWORD', type: VariableType.SECRET, secret: { type: SecretType.REFERENCE, reference: { name: '/db/password' } } },
      /Secret environment variable 'DB_PASSWORD' is a reference \('\/db\/password'\).*resolve/,
    ],
    [{ name: 'EMPTY', type: VariableType.SECRET }, /Secret environment variable 'EMPTY'/],
    [{ name: 'NUL', type: VariableType.SECRET, secret: { type: SecretType.VALUE, value: { data: Buffer.from('a\0b') } } }, /'NUL' contains a NUL byte/],
  ];
  for (const [variable, pattern] of cases) {
    const t = task({ command: { value: 'env', environment: { variables: [variable] } } });
    assert.throws(() => spec(t), invalidTask(pattern), variable.name);
  }
});

test('docker.network selects the network mode, HOST by default', () => {
  const cases: Array<[mesos.v1.IContainerInfo, string]> = [
    [{ type: ContainerType.DOCKER, docker: { image: 'busybox' } }, 'host'],
    [{ type: ContainerType.DOCKER, docker: { image: 'busybox', network: Network.HOST } }, 'host'],
    [{ type: ContainerType.DOCKER, docker: { image: 'busybox', network: Network.BRIDGE } }, 'bridge'],
    [{ type: ContainerType.DOCKER, docker: { image: 'busybox', network: Network.NONE } }, 'none'],
    [{ type: ContainerType.DOCKER, docker: { image: 'busybox', network: Network.USER }, network_infos: [{ name: 'my-net' }] }, 'my-net'],
  ];
  for (const [container, mode] of cases) {
    assert.equal(hostConfig(task({ container })).NetworkMode, mode, JSON.stringify(container));
  }
  assert.equal(hostConfig(decoded({ command: { value: 'true' } })).NetworkMode, 'host');
  const user = decoded({ command: { value: 'true' }, container: { type: 'DOCKER', docker: { image: 'b', network: 'USER' }, network_infos: [{ name: 'overlay' }] } });
  assert.equal(hostConfig(user).NetworkMode, 'overlay');
});

test('a USER network needs exactly one network_info with a name', () => {
  const cases: Array<[mesos.v1.INetworkInfo[] | undefined, RegExp]> = [
    [undefined, /docker\.network is USER but container\.network_infos is empty/],
    [[], /network_infos is empty/],
    [[{ name: 'a' }, { name: 'b' }], /USER with 2 network_infos: only a single network can be defined/],
    [[{}], /network_infos\[0\]\.name is missing/],
    [[{ name: '' }], /network_infos\[0\]\.name is missing/],
  ];
  for (const [network_infos, pattern] of cases) {
    const container: mesos.v1.IContainerInfo = { type: ContainerType.DOCKER, docker: { image: 'busybox', network: Network.USER }, network_infos };
    assert.throws(() => spec(task({ container })), invalidTask(pattern), JSON.stringify(network_infos));
  }
  const decodedNoName = decoded({ command: { value: 'true' }, container: { type: 'DOCKER', docker: { image: 'b', network: 'USER' }, network_infos: [{}] } });
  assert.throws(() => spec(decodedNoName), invalidTask(/name is missing/));
});

test('the sandbox is bind-mounted at the mapped directory', () => {
  assert.deepEqual(hostConfig(task()).Binds, [`${SANDBOX}:${MAPPED}`]);
  assert.deepEqual(hostConfig(task(), { sandboxDirectory: '/s', mappedDirectory: '/m' }).Binds, ['/s:/m']);
});

test('cpus give CPU shares: 1024 per cpu, at least 2', () => {
  const cases: Array<[mesos.v1.IResource[], number | undefined]> = [
    [[scalar('cpus', 0.1)], 102],
    [[scalar('cpus', 1)], 1024],
    [[scalar('cpus', 2.5)], 2560],
    [[scalar('cpus', 0.001)], 2],
    [[scalar('cpus', 0)], 2],
    // Executor and task resources are summed.
    [[scalar('cpus', 0.1), scalar('cpus', 0.5)], 614],
    [[scalar('mem', 64)], undefined],
    [[], undefined],
  ];
  for (const [resources, shares] of cases) {
    const config = hostConfig(task({ resources }));
    assert.equal(config.CpuShares, shares, JSON.stringify(resources));
  }
});

test('CPU quota: from a finite cpus limit, none for an infinite one, else from the cpus request with --cgroups_enable_cfs', () => {
  const cases: Array<[string, Partial<Task>, boolean, number | undefined]> = [
    ['limit 2', { resources: [scalar('cpus', 1)], limits: { cpus: { value: 2 } } }, false, 200_000],
    ['limit 0.5', { resources: [scalar('cpus', 0.25)], limits: { cpus: { value: 0.5 } } }, false, 50_000],
    ['limit 0.001 floored at 1ms', { limits: { cpus: { value: 0.001 } } }, false, 1_000],
    ['limit wins over cfs', { resources: [scalar('cpus', 1)], limits: { cpus: { value: 3 } } }, true, 300_000],
    ['infinite limit', { resources: [scalar('cpus', 1)], limits: { cpus: { value: Infinity } } }, false, undefined],
    ['infinite limit even with cfs', { resources: [scalar('cpus', 1)], limits: { cpus: { value: Infinity } } }, true, undefined],
    ['cfs, 1 cpu', { resources: [scalar('cpus', 1)] }, true, 100_000],
    ['cfs, 0.5 cpu', { resources: [scalar('cpus', 0.5)] }, true, 50_000],
    ['cfs, tiny request floored at 1ms', { resources: [scalar('cpus', 0.001)] }, true, 1_000],
    ['no cfs, no limit', { resources: [scalar('cpus', 1)] }, false, undefined],
    ['cfs without cpus', { resources: [scalar('mem', 64)] }, true, undefined],
  ];
  for (const [name, overrides, cgroupsEnableCfs, quota] of cases) {
    const config = hostConfig(task(overrides), { cgroupsEnableCfs });
    assert.equal(config.CpuQuota, quota, name);
    assert.equal('CpuQuota' in config, quota !== undefined, name);
  }
});

test('memory: request as the limit without a limit; limit and reservation with one; 32 MB minimum', () => {
  const cases: Array<[string, Partial<Task>, number | undefined, number | undefined]> = [
    ['mem 128', { resources: [scalar('mem', 128)] }, 134_217_728, undefined],
    ['mem 16 raised to 32 MB', { resources: [scalar('mem', 16)] }, 32 * MB, undefined],
    ['mem 128.9 truncated', { resources: [scalar('mem', 128.9)] }, 128 * MB, undefined],
    ['summed', { resources: [scalar('mem', 32), scalar('mem', 96)] }, 128 * MB, undefined],
    ['limit 256, request 128', { resources: [scalar('mem', 128)], limits: { mem: { value: 256 } } }, 256 * MB, 128 * MB],
    ['limit 256, request 8', { resources: [scalar('mem', 8)], limits: { mem: { value: 256 } } }, 256 * MB, 32 * MB],
    ['limit 16, request 8', { resources: [scalar('mem', 8)], limits: { mem: { value: 16 } } }, 32 * MB, 32 * MB],
    ['limit only', { limits: { mem: { value: 512 } } }, 512 * MB, undefined],
    ['infinite limit, request 128', { resources: [scalar('mem', 128)], limits: { mem: { value: Infinity } } }, undefined, 128 * MB],
    ['no mem', { resources: [scalar('cpus', 1)] }, undefined, undefined],
  ];
  for (const [name, overrides, memory, reservation] of cases) {
    const config = hostConfig(task(overrides));
    assert.equal(config.Memory, memory, name);
    assert.equal(config.MemoryReservation, reservation, name);
    assert.equal('Memory' in config, memory !== undefined, name);
    assert.equal('MemoryReservation' in config, reservation !== undefined, name);
  }
});

test('limits decoded by the generated class are read the same way', () => {
  const config = hostConfig(decoded({
    command: { value: 'true' },
    resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 64 } }],
    limits: { cpus: { value: 1 }, mem: { value: 'Infinity' } },
  }));
  assert.equal(config.CpuShares, 512);
  assert.equal(config.CpuQuota, 100_000);
  assert.equal('Memory' in config, false);
  assert.equal(config.MemoryReservation, 64 * MB);
});

test('negative or zero resources and limits are invalid tasks naming the field', () => {
  const cases: Array<[Partial<Task>, RegExp]> = [
    [{ resources: [scalar('cpus', -1)] }, /resources cpus is -1/],
    [{ resources: [scalar('mem', -5)] }, /resources mem is -5/],
    [{ limits: { cpus: { value: 0 } } }, /limits cpus is 0/],
    [{ limits: { mem: { value: -1 } } }, /limits mem is -1/],
    [{ resources: [scalar('cpus', NaN)] }, /resources cpus is NaN/],
  ];
  for (const [overrides, pattern] of cases) {
    assert.throws(() => spec(task(overrides)), invalidTask(pattern), String(pattern));
  }
});

test('a task that is not a DOCKER container with an image is an invalid task naming the field', () => {
  const cases: Array<[Task, RegExp]> = [
    [task({ container: null }), /^TaskInfo has no container: expected a ContainerInfo of type DOCKER$/],
    [task({ container: undefined }), /TaskInfo has no container/],
    [task({ container: { type: ContainerType.MESOS, mesos: {} } }), /^container\.type is MESOS: this executor runs only DOCKER containers$/],
    [task({ container: { type: ContainerType.DOCKER } }), /^container\.docker\.image is missing/],
    [task({ container: { type: ContainerType.DOCKER, docker: { image: '' } } }), /container\.docker\.image is missing/],
    [task({ container: { type: ContainerType.DOCKER, docker: { image: '   ' } } }), /container\.docker\.image is missing/],
    [decoded({ command: { value: 'true' }, container: { type: 'MESOS' } }), /container\.type is MESOS/],
    [decoded({ command: { value: 'true' }, container: { type: 'DOCKER', docker: {} } }), /container\.docker\.image is missing/],
  ];
  for (const [t, pattern] of cases) {
    assert.throws(() => spec(t), invalidTask(pattern), String(pattern));
  }
});

test('labels are passed through as a copy', () => {
  const labels = { 'com.example.task': 't1', 'mesos.framework': 'fw' };
  const result = spec(task(), { labels });
  assert.deepEqual(result.body.Labels, labels);
  (result.body.Labels as Record<string, string>)['extra'] = 'x';
  assert.equal('extra' in labels, false);
  assert.deepEqual(spec(task()).body.Labels, {});
});

test('secret values appear only in Env, never in the rest of the body', () => {
  const secret = 'very-secret-value';
  const result = spec(task({
    command: {
      value: 'run',
      environment: { variables: [{ name: 'S', type: VariableType.SECRET, secret: { type: SecretType.VALUE, value: { data: Buffer.from(secret) } } }] },
    },
  }));
  const { Env, ...rest } = result.body;
  assert.ok((Env as string[]).includes(`S=${secret}`));
  assert.equal(JSON.stringify(rest).includes(secret), false);
});
