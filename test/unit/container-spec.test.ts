import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerSpec, type ContainerContext, type ContainerSpec } from '../../src/docker/container-spec.js';
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
type HostConfig = ContainerSpec['body']['HostConfig'];

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

import Mode = mesos.v1.Volume.Mode;
import SourceType = mesos.v1.Volume.Source.Type;
import { invalidTask } from '../helpers/invalid-task.js';

function docker(fields: Partial<mesos.v1.ContainerInfo.IDockerInfo>, container: Partial<mesos.v1.IContainerInfo> = {}): Partial<Task> {
  return { container: { type: ContainerType.DOCKER, ...container, docker: { image: 'busybox:latest', ...fields } } };
}

function withParameters(parameters: Array<[string, string]>, fields: Partial<mesos.v1.ContainerInfo.IDockerInfo> = {}, container: Partial<mesos.v1.IContainerInfo> = {}): Task {
  return task(docker({ ...fields, parameters: parameters.map(([key, value]) => ({ key, value })) }, container));
}

function ports(begin: number, end: number): mesos.v1.IResource {
  return { name: 'ports', type: mesos.v1.Value.Type.RANGES, ranges: { range: [{ begin, end }] } };
}

test('the image must be a valid reference: nothing else can pass for one', () => {
  for (const image of ['--privileged', '-v', 'busybox --privileged', 'BusyBox', 'busybox:', 'a b', 'busybox@sha256:short', 'host:port:tag/x']) {
    assert.throws(
      () => spec(task(docker({ image }))),
      invalidTask(new RegExp(`^container\\.docker\\.image '${image.replace(/[-[\]\\^$.*+?()|{}]/g, '\\$&')}' is not a valid image reference: expected \\[registry/\\]name`)),
      image,
    );
  }
  const digest = `registry.example.com:5000/team/app@sha256:${'a'.repeat(64)}`;
  for (const image of ['busybox', 'busybox:1.36', 'mesos-executor-test/inky:latest', 'localhost/app', digest]) {
    const result = spec(task(docker({ image })));
    assert.equal(result.image, image, 'the image is used as given (no :latest added)');
    assert.equal(result.body.Image, image);
  }
});

test('volumes become binds in order, then volume parameters, with the sandbox bind last', () => {
  const t = withParameters([['volume', '/srv/extra:/extra:ro']], {}, {
    volumes: [
      { host_path: '/srv/data', container_path: '/data', mode: Mode.RO },
      { host_path: 'work', container_path: '/work', mode: Mode.RW },
      { host_path: '/srv/logs', container_path: 'logs', mode: Mode.RW },
    ],
  });
  assert.deepEqual(hostConfig(t).Binds, [
    '/srv/data:/data:ro',
    `${SANDBOX}/work:/work:rw`,
    `/srv/logs:${MAPPED}/logs:rw`,
    '/srv/extra:/extra:ro',
    `${SANDBOX}:${MAPPED}`,
  ]);
  assert.equal('VolumeDriver' in hostConfig(t), false);
});

test('a Docker volume sets the volume driver; a volume-driver parameter may repeat it but not contradict it', () => {
  const volume: mesos.v1.IVolume = { container_path: '/db', mode: Mode.RW, source: { type: SourceType.DOCKER_VOLUME, docker_volume: { name: 'pg', driver: 'rexray' } } };
  const config = hostConfig(task(docker({}, { volumes: [volume] })));
  assert.deepEqual(config.Binds, ['pg:/db:rw', `${SANDBOX}:${MAPPED}`]);
  assert.equal(config.VolumeDriver, 'rexray');
  assert.equal(hostConfig(withParameters([['volume-driver', 'rexray']], {}, { volumes: [volume] })).VolumeDriver, 'rexray');
  assert.equal(hostConfig(withParameters([['volume-driver', 'local']])).VolumeDriver, 'local');
  assert.equal(hostConfig(task(docker({ volume_driver: 'flocker' }))).VolumeDriver, 'flocker');
  assert.throws(
    () => spec(withParameters([['volume-driver', 'local']], {}, { volumes: [volume] })),
    invalidTask(/volume-driver parameter is 'local' but the task's volumes use driver 'rexray': Only one volume driver per task is supported/),
  );
});

test('volume errors surface from the spec with the volume index', () => {
  const cases: Array<[mesos.v1.IVolume, RegExp]> = [
    [{ host_path: 'a', container_path: 'b', mode: Mode.RW }, /^container\.volumes\[0\]: Both host_path 'a' and container_path 'b' of a volume are relative/],
    [{ container_path: '/x', mode: Mode.RW }, /^container\.volumes\[0\]: Host path or volume source is required/],
    [{ host_path: '/a:/b', container_path: '/c', mode: Mode.RW }, /contains ':'/],
  ];
  for (const [volume, pattern] of cases) assert.throws(() => spec(task(docker({}, { volumes: [volume] }))), invalidTask(pattern));
});

test('two mounts on one container path are refused, the sandbox mapping included', () => {
  const cases: Task[] = [
    task(docker({}, { volumes: [{ host_path: '/a', container_path: MAPPED, mode: Mode.RW }] })),
    task(docker({}, { volumes: [{ host_path: '/a', container_path: '/x', mode: Mode.RW }, { host_path: '/b', container_path: '/x/', mode: Mode.RO }] })),
    withParameters([['tmpfs', '/data']], {}, { volumes: [{ host_path: '/a', container_path: '/data', mode: Mode.RW }] }),
    withParameters([['volume', '/anon'], ['volume', '/b:/anon']]),
  ];
  for (const t of cases) assert.throws(() => spec(t), invalidTask(/^Two mounts target the container path '\/[^']*'/));
});

test('hostname: set for bridge, user and none networks, refused with host networking', () => {
  for (const network of [Network.BRIDGE, Network.NONE, Network.USER]) {
    const t = task(docker({ network }, { hostname: 'web-1', ...(network === Network.USER ? { network_infos: [{ name: 'n1' }] } : {}) }));
    assert.equal(spec(t).body.Hostname, 'web-1', String(network));
  }
  assert.throws(() => spec(task(docker({ network: Network.HOST }, { hostname: 'web-1' }))), invalidTask(/^container\.hostname is 'web-1': Unable to set hostname with host network mode$/));
  assert.throws(() => spec(task(docker({}, { hostname: 'web-1' }))), invalidTask(/Unable to set hostname with host network mode/));
  // Checked against DockerInfo.network, before a net parameter, as upstream.
  assert.throws(() => spec(withParameters([['net', 'bridge']], {}, { hostname: 'h' })), invalidTask(/Unable to set hostname with host network mode/));
  assert.throws(() => spec(task(docker({ network: Network.BRIDGE }, { hostname: 'bad_name!' }))), invalidTask(/container\.hostname is 'bad_name!': expected a host name/));
  assert.equal('Hostname' in spec(task()).body, false);
  assert.equal('Hostname' in spec(decoded({ command: { value: 'true' } })).body, false, 'the decoded default "" is not a hostname');
  // A hostname parameter replaces it, and is allowed with host networking as with `docker run`.
  assert.equal(spec(withParameters([['hostname', 'param-host']], { network: Network.BRIDGE }, { hostname: 'info-host' })).body.Hostname, 'param-host');
  assert.equal(spec(withParameters([['hostname', 'param-host']])).body.Hostname, 'param-host');
});

test('the first net or network parameter replaces the network mode', () => {
  assert.equal(hostConfig(withParameters([['net', 'none']], { network: Network.BRIDGE })).NetworkMode, 'none');
  assert.equal(hostConfig(withParameters([['network', 'my-overlay']])).NetworkMode, 'my-overlay');
  assert.throws(() => spec(withParameters([['net', 'a'], ['net', 'b']])), invalidTask(/after an earlier net\/network parameter 'a'/));
});

test('port mappings become ExposedPorts and PortBindings on all interfaces; publish and expose parameters add to them', () => {
  const t = withParameters([['publish', '127.0.0.1:8443:443'], ['expose', '9090']], {
    network: Network.BRIDGE,
    port_mappings: [{ host_port: 31000, container_port: 80, protocol: 'TCP' }, { host_port: 31001, container_port: 53, protocol: 'udp' }, { host_port: 31002, container_port: 81 }],
  });
  t.resources = [scalar('cpus', 1), ports(31000, 31005)];
  const { body } = spec(t);
  assert.deepEqual(body.ExposedPorts, { '80/tcp': {}, '53/udp': {}, '81/tcp': {}, '443/tcp': {}, '9090/tcp': {} });
  assert.deepEqual(body.HostConfig.PortBindings, {
    '80/tcp': [{ HostIp: '', HostPort: '31000' }],
    '53/udp': [{ HostIp: '', HostPort: '31001' }],
    '81/tcp': [{ HostIp: '', HostPort: '31002' }],
    '443/tcp': [{ HostIp: '127.0.0.1', HostPort: '8443' }],
  });
  assert.equal('ExposedPorts' in spec(task()).body, false);
  assert.equal('PortBindings' in hostConfig(task()), false);
});

test('port mapping errors surface from the spec', () => {
  const mapping = { port_mappings: [{ host_port: 10000, container_port: 80 }] };
  const cases: Array<[Task, RegExp]> = [
    [task(docker({ ...mapping })), /Port mappings are only supported for bridge and user-defined networks/],
    [task(docker({ ...mapping, network: Network.NONE })), /Port mappings are only supported for bridge and user-defined networks/],
    [task({ ...docker({ ...mapping, network: Network.BRIDGE }), resources: [] }), /Port mappings require resources/],
    [task({ ...docker({ ...mapping, network: Network.BRIDGE }), resources: [scalar('cpus', 1)] }), /Port mappings require port resources/],
    [task({ ...docker({ ...mapping, network: Network.BRIDGE }), resources: [ports(9998, 9999)] }), /Port \[10000\] not included in resources/],
  ];
  for (const [t, pattern] of cases) assert.throws(() => spec(t), invalidTask(pattern), String(pattern));
  const user = task({ ...docker({ ...mapping, network: Network.USER }, { network_infos: [{ name: 'n1' }] }), resources: [ports(10000, 10000)] });
  assert.deepEqual(spec(user).body.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '10000' }] });
});

test('privileged sets HostConfig.Privileged; absent or false leaves it out', () => {
  assert.equal(hostConfig(task(docker({ privileged: true }))).Privileged, true);
  assert.equal('Privileged' in hostConfig(task(docker({ privileged: false }))), false);
  assert.equal('Privileged' in hostConfig(decoded({ command: { value: 'true' } })), false);
  assert.equal(hostConfig(withParameters([['privileged', 'true']])).Privileged, true);
  assert.equal(hostConfig(withParameters([['privileged', 'false']], { privileged: true })).Privileged, false, 'a later --privileged=false wins on docker run');
});

test('OomScoreAdj: with a memory limit above the request (or infinite) and the host memory known', () => {
  const GB = 1024 * MB;
  const cases: Array<[string, Partial<Task>, number | undefined, number | undefined]> = [
    ['request 1 GB, limit 2 GB, host 4 GB', { resources: [scalar('mem', 1024)], limits: { mem: { value: 2048 } } }, 4 * GB, 750],
    ['infinite limit', { resources: [scalar('mem', 512)], limits: { mem: { value: Infinity } } }, 4 * GB, 875],
    ['request equal to limit', { resources: [scalar('mem', 1024)], limits: { mem: { value: 1024 } } }, 4 * GB, undefined],
    ['no limit', { resources: [scalar('mem', 1024)] }, 4 * GB, undefined],
    ['host memory unknown', { resources: [scalar('mem', 1024)], limits: { mem: { value: 2048 } } }, undefined, undefined],
  ];
  for (const [name, overrides, hostMemoryBytes, score] of cases) {
    const config = hostConfig(task(overrides), hostMemoryBytes === undefined ? {} : { hostMemoryBytes });
    assert.equal(config.OomScoreAdj, score, name);
    assert.equal('OomScoreAdj' in config, score !== undefined, name);
  }
});

test('default DNS from --default_container_dns: by network, never for HOST, not when a DNS parameter is given', () => {
  const defaultContainerDns = {
    docker: [
      { network_mode: 'BRIDGE', dns: { nameservers: ['8.8.8.8'], search: ['example.com'], options: ['timeout:3'] } },
      { network_mode: 'USER', network_name: 'n1', dns: { nameservers: ['10.1.0.2'] } },
      { network_mode: 'USER', dns: { nameservers: ['10.9.0.2'], search: ['user.example'] } },
    ],
  };
  const dnsOf = (t: Task) => {
    const config = hostConfig(t, { defaultContainerDns });
    return { Dns: config.Dns, DnsSearch: config.DnsSearch, DnsOptions: config.DnsOptions };
  };
  assert.deepEqual(dnsOf(task(docker({ network: Network.BRIDGE }))), { Dns: ['8.8.8.8'], DnsSearch: ['example.com'], DnsOptions: ['timeout:3'] });
  assert.deepEqual(dnsOf(task(docker({ network: Network.USER }, { network_infos: [{ name: 'n1' }] }))), { Dns: ['10.1.0.2'], DnsSearch: [], DnsOptions: [] });
  assert.deepEqual(dnsOf(task(docker({ network: Network.USER }, { network_infos: [{ name: 'n2' }] }))), { Dns: ['10.9.0.2'], DnsSearch: ['user.example'], DnsOptions: [] });
  // For USER networks the final network (after a net parameter) picks the entry.
  assert.deepEqual(dnsOf(withParameters([['net', 'n1']], { network: Network.USER }, { network_infos: [{ name: 'n2' }] })).Dns, ['10.1.0.2']);
  const none = { Dns: undefined, DnsSearch: undefined, DnsOptions: undefined };
  assert.deepEqual(dnsOf(task(docker({ network: Network.HOST }))), none);
  assert.deepEqual(dnsOf(task(docker({ network: Network.NONE }))), none);
  assert.deepEqual(dnsOf(decoded({ command: { value: 'true' } })), none);
  for (const key of ['dns', 'dns-search', 'dns-opt', 'dns-option']) {
    const value = key === 'dns' ? '1.1.1.1' : key === 'dns-search' ? 'corp.example' : 'ndots:1';
    const result = dnsOf(withParameters([[key, value]], { network: Network.BRIDGE }));
    assert.equal(result.Dns?.includes('8.8.8.8') ?? false, false, key);
    assert.equal(result.DnsOptions?.includes('timeout:3') ?? false, false, key);
  }
  assert.deepEqual(dnsOf(withParameters([['dns', '1.1.1.1']], { network: Network.BRIDGE })), { Dns: ['1.1.1.1'], DnsSearch: undefined, DnsOptions: undefined });
  assert.deepEqual(hostConfig(task(docker({ network: Network.BRIDGE }))).Dns, undefined, 'no flag, no default DNS');
});

test('a malformed --default_container_dns fails every task with a message naming the flag', () => {
  assert.throws(
    () => spec(task(), { defaultContainerDns: { docker: [{ network_mode: 'HOST', dns: {} }] } }),
    (err: unknown) => err instanceof Error && /^--default_container_dns\.docker\[0\]\.network_mode is HOST/.test(err.message),
  );
});

test('parameters reach the create request', () => {
  const t = withParameters([
    ['label', 'team=web'],
    ['user', 'nobody'],
    ['workdir', '/srv'],
    ['cap-add', 'NET_ADMIN'],
    ['ulimit', 'nofile=1024:2048'],
    ['tmpfs', '/run:size=16m'],
    ['add-host', 'db:10.0.0.5'],
    ['read-only', 'true'],
    ['stop-signal', 'quit'],
    ['health-cmd', 'true'],
    ['volume', '/cache'],
  ]);
  const { body } = spec(t, { labels: { 'org.apache.mesos.framework_id': 'fw' } });
  assert.deepEqual(body.Labels, { 'org.apache.mesos.framework_id': 'fw', team: 'web' });
  assert.equal(body.User, 'nobody');
  assert.equal(body.WorkingDir, '/srv');
  assert.equal(body.StopSignal, 'SIGQUIT');
  assert.deepEqual(body.Healthcheck, { Test: ['CMD-SHELL', 'true'] });
  assert.deepEqual(body.Volumes, { '/cache': {} });
  assert.deepEqual(body.HostConfig.CapAdd, ['NET_ADMIN']);
  assert.deepEqual(body.HostConfig.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 2048 }]);
  assert.deepEqual(body.HostConfig.Tmpfs, { '/run': 'size=16m' });
  assert.deepEqual(body.HostConfig.ExtraHosts, ['db:10.0.0.5']);
  assert.equal(body.HostConfig.ReadonlyRootfs, true);
  assert.equal(body.HostConfig.NetworkMode, 'host');
  assert.deepEqual(body.HostConfig.Binds, [`${SANDBOX}:${MAPPED}`]);
});

test('a label parameter cannot replace a label the executor sets', () => {
  assert.throws(
    () => spec(withParameters([['label', 'org.apache.mesos.framework_id=other']]), { labels: { 'org.apache.mesos.framework_id': 'fw' } }),
    invalidTask(/label parameter 'org\.apache\.mesos\.framework_id' would replace a label the executor sets/),
  );
});

test('a label parameter cannot claim an ownership label the executor did not set (another task\'s identity)', () => {
  for (const key of ['org.apache.mesos.container_id', 'org.apache.mesos.agent_id', 'org.apache.mesos.executor_pid', 'org.apache.mesos.anything']) {
    assert.throws(
      () => spec(withParameters([['label', `${key}=forged`]]), { labels: { 'org.apache.mesos.framework_id': 'fw' } }),
      invalidTask(new RegExp(`label parameter '${key.replace(/\./g, '\\.')}' uses the prefix org\\.apache\\.mesos\\., which is reserved`)),
      key,
    );
  }
});

test('resource parameters replace what Mesos derives, as a later docker run flag does', () => {
  const t = withParameters([['memory', '1g'], ['memory-reservation', '512m'], ['cpu-shares', '100'], ['cpu-quota', '50000'], ['oom-score-adj', '10']]);
  t.resources = [scalar('cpus', 1), scalar('mem', 128)];
  t.limits = { mem: { value: 256 }, cpus: { value: 2 } };
  const config = hostConfig(t, { hostMemoryBytes: 8 * 1024 * MB });
  assert.equal(config.Memory, 1024 * MB);
  assert.equal(config.MemoryReservation, 512 * MB);
  assert.equal(config.CpuShares, 100);
  assert.equal(config.CpuQuota, 50_000);
  assert.equal(config.OomScoreAdj, 10);
});

test('env parameters override --task_environment and CommandInfo, never the variables Mesos sets', () => {
  const t = withParameters([['env', 'SHARED=param'], ['e', 'NEW=1'], ['env', 'MESOS_SANDBOX=/elsewhere'], ['env', 'MESOS_CONTAINER_NAME=x']]);
  t.command = { value: 'env', environment: { variables: [{ name: 'SHARED', value: 'command' }, { name: 'ONLY_COMMAND', value: 'c' }] } };
  const env = envOf(t, { taskEnvironment: { SHARED: 'hook' } });
  assert.deepEqual(env, { SHARED: 'param', NEW: '1', ONLY_COMMAND: 'c', MESOS_SANDBOX: MAPPED, MESOS_CONTAINER_NAME: 'mesos-c1' });
});

test('an entrypoint parameter replaces the entrypoint, for shell commands too', () => {
  const shell = spec(withParameters([['entrypoint', '/bin/bash']])).body;
  assert.deepEqual(shell.Entrypoint, ['/bin/bash']);
  assert.deepEqual(shell.Cmd, ['-c', 'sleep 1']);
  const t = withParameters([['entrypoint', '/usr/bin/env']]);
  t.command = { shell: false, arguments: ['printenv'] };
  const argv = spec(t).body;
  assert.deepEqual(argv.Entrypoint, ['/usr/bin/env']);
  assert.deepEqual(argv.Cmd, ['printenv']);
});

test('parameter errors fail the spec before anything else is built', () => {
  assert.throws(() => spec(withParameters([['name', 'x']])), invalidTask(/Parameter in DockerInfo must not be 'name' \(MESOS-8497\)/));
  assert.throws(() => spec(withParameters([['bogus', 'x']])), invalidTask(/has key 'bogus', which is not a supported docker run option/));
  assert.throws(() => spec(withParameters([['memory', 'lots']])), invalidTask(/\(memory\) is 'lots': expected a size like 512m or 1g/));
});

test('secret values stay in Env even with parameters, volumes and ports', () => {
  const secret = 'another-secret-value';
  const t = withParameters([['label', 'a=b'], ['env', 'PLAIN=1']], { network: Network.BRIDGE, port_mappings: [{ host_port: 31000, container_port: 80 }] }, {
    volumes: [{ host_path: '/srv', container_path: '/srv', mode: Mode.RO }],
  });
  t.resources = [ports(31000, 31000)];
  t.command = { value: 'run', environment: { variables: [{ name: 'S', type: VariableType.SECRET, secret: { type: SecretType.VALUE, value: { data: Buffer.from(secret) } } }] } };
  const result = spec(t);
  const { Env, ...rest } = result.body;
  assert.ok(Env.includes(`S=${secret}`));
  assert.equal(JSON.stringify(rest).includes(secret), false);
  assert.deepEqual(result.secrets, [secret]);
});

// Spec Appendix B: the stock executor's `docker run` for this task, as a create request.
test('the Appendix B task maps onto the same settings as its docker run command line', () => {
  const t = task({
    resources: [scalar('cpus', 0.5, '*'), scalar('mem', 128, '*'), { ...ports(31000, 31000), allocation_info: { role: '*' } }],
    limits: { cpus: { value: 1 } },
    command: { shell: true, value: "nginx -g 'daemon off;'", environment: { variables: [{ name: 'FOO', value: 'bar' }] } },
    container: {
      type: ContainerType.DOCKER,
      docker: {
        image: 'nginx:alpine',
        network: Network.BRIDGE,
        port_mappings: [{ host_port: 31000, container_port: 80, protocol: 'tcp' }],
        parameters: [{ key: 'label', value: 'a=b' }],
      },
      volumes: [{ container_path: 'data', host_path: '/srv/data', mode: Mode.RO }],
    },
  });
  const { body } = spec(t, { sandboxDirectory: '/var/lib/mesos/runs/C', containerName: 'mesos-C' });
  assert.deepEqual(body, {
    Image: 'nginx:alpine',
    Env: ['FOO=bar', 'MESOS_ALLOCATION_ROLE=*', 'MESOS_CONTAINER_NAME=mesos-C', `MESOS_SANDBOX=${MAPPED}`],
    Labels: { a: 'b' },
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    Entrypoint: ['/bin/sh'],
    Cmd: ['-c', "nginx -g 'daemon off;'"],
    ExposedPorts: { '80/tcp': {} },
    HostConfig: {
      Binds: [`/srv/data:${MAPPED}/data:ro`, `/var/lib/mesos/runs/C:${MAPPED}`],
      NetworkMode: 'bridge',
      CpuShares: 512,
      CpuQuota: 100_000,
      Memory: 128 * MB,
      PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '31000' }] },
    },
  });
});

test("a label parameter named '__proto__' is sent as a label", () => {
  const { body } = spec(withParameters([['label', '__proto__=x']]));
  assert.equal(JSON.stringify(body.Labels), '{"__proto__":"x"}');
});
