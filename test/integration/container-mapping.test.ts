// The create requests containerSpec builds, checked against a real Docker engine: each mapping is
// read back from GET /containers/<id>/json, and a few containers (host or no networking, never
// privileged) run to show the entrypoint semantics and the volumes from the inside.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test, type TestContext } from 'node:test';
import { containerSpec, type ContainerContext } from '../../src/docker/container-spec.js';
import { DockerRuntime } from '../../src/docker/docker-runtime.js';
import { demuxOutput } from '../../src/docker/output-demux.js';
import { mesos } from '../../src/proto/generated/mesos.js';
import { BUSYBOX, DOCKER_SOCKET, INKY } from '../helpers/harness.js';

const MB = 1024 * 1024;
const MAPPED = '/mnt/mesos/sandbox';
const docker = new DockerRuntime(DOCKER_SOCKET);
after(() => docker.close());

interface Inspect {
  Id: string;
  Name: string;
  Config: Record<string, unknown> & { Env: string[]; Labels: Record<string, string> };
  HostConfig: Record<string, unknown>;
  Mounts: Array<{ Type: string; Name?: string; Source: string; Destination: string; Driver?: string; RW: boolean }>;
}

interface Created {
  readonly id: string;
  readonly name: string;
  readonly sandbox: string;
  readonly inspect: Inspect;
}

function uniqueName(prefix = 'mesos-spec-test'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

// A TaskInfo as the agent delivers it: the generated message with its proto2 defaults.
function taskInfo(container: Record<string, unknown>, extra: Record<string, unknown> = {}): mesos.v1.TaskInfo {
  return mesos.v1.TaskInfo.fromObject({
    name: 'mapping',
    task_id: { value: uniqueName('task') },
    agent_id: { value: 'agent' },
    command: { shell: true, value: 'true' },
    container: { type: 'DOCKER', ...container, docker: { image: BUSYBOX, ...(container.docker as object | undefined) } },
    ...extra,
  });
}

// Creates (never starts) the container containerSpec describes, and removes it after the test.
async function create(t: TestContext, task: mesos.v1.TaskInfo, context: Partial<ContainerContext> = {}): Promise<Created> {
  const name = uniqueName();
  const sandbox = mkdtempSync(join(tmpdir(), 'mesos-spec-test-sandbox-'));
  t.after(() => rmSync(sandbox, { recursive: true, force: true }));
  const spec = containerSpec(task, {
    containerName: name,
    sandboxDirectory: sandbox,
    mappedDirectory: MAPPED,
    taskEnvironment: {},
    cgroupsEnableCfs: false,
    labels: {},
    ...context,
  });
  const id = await docker.create(spec.name, spec.body);
  t.after(() => docker.remove(id));
  const inspect = JSON.parse((await docker.inspect(id)).raw.toString('utf8')) as Inspect;
  return { id, name, sandbox, inspect };
}

// Starts a created container, waits for it to exit and returns its demultiplexed output.
async function run(container: Created): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  assert.notEqual(container.inspect.HostConfig.Privileged, true, 'privileged containers are never started on this host');
  assert.match(String(container.inspect.HostConfig.NetworkMode), /^(host|none)$/, 'only host or none networking is started');
  const abort = new AbortController();
  const exit = await docker.wait(container.id, 'next-exit', abort.signal);
  await docker.start(container.id);
  const result = await Promise.race([
    exit.result,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('container did not exit within 30s')), 30_000).unref()),
  ]);
  // The container has stopped: its followed logs end after the last byte.
  const logs = await docker.logs(container.id);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const sink = (chunks: Buffer[]) => new Writable({ write(chunk: Buffer, _encoding, done) { chunks.push(chunk); done(); } });
  await demuxOutput(logs, sink(stdout), sink(stderr));
  return { exitCode: result.statusCode, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
}

test('cpus, mem, limits and the OOM score adjustment as Docker records them', async (t) => {
  const task = taskInfo({}, {
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 128 } },
    ],
    limits: { cpus: { value: 1 }, mem: { value: 256 } },
  });
  const hostMemoryBytes = totalmem();
  const { inspect } = await create(t, task, { hostMemoryBytes });
  assert.equal(inspect.HostConfig.CpuShares, 512);
  assert.equal(inspect.HostConfig.CpuQuota, 100_000);
  assert.equal(inspect.HostConfig.Memory, 256 * MB);
  assert.equal(inspect.HostConfig.MemoryReservation, 128 * MB);
  assert.equal(inspect.HostConfig.OomScoreAdj, 1000 - Math.floor((1000 * 128 * MB) / hostMemoryBytes));
  assert.equal(inspect.HostConfig.NetworkMode, 'host');
  assert.equal(inspect.HostConfig.Privileged, false);
});

test('volumes: host paths, sandbox-relative paths, a Docker volume with its driver, and the sandbox last', async (t) => {
  const volumeName = uniqueName('mesos-spec-test-volume');
  const hostDirectory = mkdtempSync(join(tmpdir(), 'mesos-spec-test-host-'));
  t.after(() => rmSync(hostDirectory, { recursive: true, force: true }));
  const task = taskInfo({
    volumes: [
      { host_path: hostDirectory, container_path: '/host-ro', mode: 'RO' },
      { host_path: 'work', container_path: '/work', mode: 'RW' },
      { host_path: hostDirectory, container_path: 'in-sandbox', mode: 'RW' },
      { container_path: '/named', mode: 'RW', source: { type: 'DOCKER_VOLUME', docker_volume: { name: volumeName, driver: 'local' } } },
      { container_path: '/ignored', mode: 'RW', source: { type: 'SANDBOX_PATH', sandbox_path: { type: 'SELF', path: 'x' } } },
    ],
  });
  const { inspect, sandbox } = await create(t, task);
  // Registered after the container's removal, so that the volume is no longer in use.
  t.after(async () => {
    // Volumes are no verb of the executor's: a raw call.
    const removed = await docker.call('DELETE', `/volumes/${volumeName}`);
    assert.equal(removed.status, 204, `volume ${volumeName} removed`);
  });
  assert.deepEqual(inspect.HostConfig.Binds, [
    `${hostDirectory}:/host-ro:ro`,
    `${sandbox}/work:/work:rw`,
    `${hostDirectory}:${MAPPED}/in-sandbox:rw`,
    `${volumeName}:/named:rw`,
    `${sandbox}:${MAPPED}`,
  ]);
  assert.equal(inspect.HostConfig.VolumeDriver, 'local');
  const named = inspect.Mounts.find((mount) => mount.Destination === '/named');
  assert.equal(named?.Type, 'volume');
  assert.equal(named?.Name, volumeName);
  assert.equal(named?.Driver, 'local');
  assert.equal(inspect.Mounts.find((mount) => mount.Destination === '/host-ro')?.RW, false);
  assert.equal(inspect.Mounts.some((mount) => mount.Destination === '/ignored'), false);
});

test('a sandbox-relative read-only volume is visible inside and cannot be written', async (t) => {
  const task = taskInfo({
    docker: { network: 'NONE' },
    volumes: [{ host_path: 'seed', container_path: '/seed', mode: 'RO' }],
  }, {
    command: { shell: true, value: 'cat /seed/hello.txt; cat "$MESOS_SANDBOX/seed/hello.txt"; touch /seed/new 2>/dev/null && echo writable || echo read-only; echo out > "$MESOS_SANDBOX/from-container"' },
  });
  const container = await create(t, task);
  mkdirSync(join(container.sandbox, 'seed'));
  writeFileSync(join(container.sandbox, 'seed', 'hello.txt'), 'hello from the sandbox\n');
  const { exitCode, stdout } = await run(container);
  assert.equal(exitCode, 0);
  assert.equal(stdout, 'hello from the sandbox\nhello from the sandbox\nread-only\n');
  assert.equal(readFileSync(join(container.sandbox, 'from-container'), 'utf8'), 'out\n');
});

test('bridge networking with port mappings, hostname and the default DNS for bridge', async (t) => {
  const task = taskInfo({
    hostname: 'mapped-host',
    docker: {
      network: 'BRIDGE',
      port_mappings: [{ host_port: 31000, container_port: 80, protocol: 'TCP' }, { host_port: 31001, container_port: 53, protocol: 'udp' }],
    },
  }, {
    resources: [{ name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31005 }] } }],
  });
  const defaultContainerDns = { docker: [{ network_mode: 'BRIDGE', dns: { nameservers: ['10.11.12.13'], search: ['mesos.example'], options: ['ndots:2'] } }] };
  const { inspect } = await create(t, task, { defaultContainerDns });
  assert.equal(inspect.HostConfig.NetworkMode, 'bridge');
  assert.deepEqual(inspect.HostConfig.PortBindings, {
    '80/tcp': [{ HostIp: '', HostPort: '31000' }],
    '53/udp': [{ HostIp: '', HostPort: '31001' }],
  });
  assert.deepEqual(inspect.Config.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.equal(inspect.Config.Hostname, 'mapped-host');
  assert.deepEqual(inspect.HostConfig.Dns, ['10.11.12.13']);
  assert.deepEqual(inspect.HostConfig.DnsSearch, ['mesos.example']);
  assert.deepEqual(inspect.HostConfig.DnsOptions, ['ndots:2']);
});

test('privileged is recorded (the container is created, never started)', async (t) => {
  const { inspect } = await create(t, taskInfo({ docker: { privileged: true, network: 'NONE' } }));
  assert.equal(inspect.HostConfig.Privileged, true);
});

test('a net parameter replaces the network mode; with DockerInfo.network HOST no default DNS applies', async (t) => {
  const defaultContainerDns = { docker: [{ network_mode: 'BRIDGE', dns: { nameservers: ['10.11.12.13'] } }] };
  const none = await create(t, taskInfo({ docker: { parameters: [{ key: 'net', value: 'none' }] } }), { defaultContainerDns });
  assert.equal(none.inspect.HostConfig.NetworkMode, 'none');
  assert.deepEqual(none.inspect.HostConfig.Dns ?? [], []);
});

test('parameters on a host-network container land on their Config and HostConfig fields', async (t) => {
  const parameters: Array<[string, string]> = [
    ['label', 'team=web'],
    ['l', 'flag'],
    ['env', 'FROM_PARAMETER=yes'],
    ['user', 'nobody'],
    ['workdir', '/tmp'],
    ['cap-add', 'NET_ADMIN'],
    ['cap-drop', 'MKNOD'],
    ['ulimit', 'nofile=1024:2048'],
    ['ulimit', 'nproc=512'],
    ['add-host', 'db.local:10.0.0.5'],
    ['dns', '10.0.0.2'],
    ['dns-search', 'corp.example'],
    ['dns-opt', 'timeout:2'],
    ['security-opt', 'no-new-privileges'],
    ['read-only', 'true'],
    ['tmpfs', '/run:rw,size=16m'],
    ['volume', '/anonymous'],
    ['group-add', 'audio'],
    ['shm-size', '128m'],
    ['memory', '256m'],
    ['memory-swap', '512m'],
    ['memory-reservation', '64m'],
    ['pids-limit', '200'],
    ['cpuset-cpus', '0'],
    ['cpu-period', '50000'],
    ['cpu-quota', '25000'],
    ['cpu-shares', '256'],
    ['init', 'true'],
    ['ipc', 'private'],
    ['stop-signal', 'quit'],
    ['stop-timeout', '7'],
    ['log-driver', 'json-file'],
    ['log-opt', 'max-size=1m'],
    ['restart', 'no'],
    ['runtime', 'runc'],
    ['health-cmd', 'true'],
    ['health-interval', '30s'],
    ['health-retries', '2'],
    ['entrypoint', '/bin/echo'],
    ['oom-score-adj', '123'],
  ];
  const task = taskInfo({ docker: { parameters: parameters.map(([key, value]) => ({ key, value })) } });
  const { inspect } = await create(t, task);
  const { Config: config, HostConfig: host } = inspect;
  assert.equal(config.Labels.team, 'web');
  assert.equal(config.Labels.flag, '');
  assert.ok(config.Env.includes('FROM_PARAMETER=yes'));
  assert.equal(config.User, 'nobody');
  assert.equal(config.WorkingDir, '/tmp');
  assert.equal(config.StopSignal, 'SIGQUIT');
  assert.equal(config.StopTimeout, 7);
  assert.deepEqual(config.Entrypoint, ['/bin/echo']);
  assert.deepEqual(config.Cmd, ['-c', 'true']);
  assert.deepEqual(config.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 30e9, Retries: 2 });
  assert.deepEqual(config.Volumes, { '/anonymous': {} });
  assert.deepEqual(host.CapAdd, ['NET_ADMIN']);
  assert.deepEqual(host.CapDrop, ['MKNOD']);
  assert.deepEqual(host.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 2048 }, { Name: 'nproc', Soft: 512, Hard: 512 }]);
  assert.deepEqual(host.ExtraHosts, ['db.local:10.0.0.5']);
  assert.deepEqual(host.Dns, ['10.0.0.2']);
  assert.deepEqual(host.DnsSearch, ['corp.example']);
  assert.deepEqual(host.DnsOptions, ['timeout:2']);
  assert.deepEqual(host.SecurityOpt, ['no-new-privileges']);
  assert.equal(host.ReadonlyRootfs, true);
  assert.deepEqual(host.Tmpfs, { '/run': 'rw,size=16m' });
  assert.deepEqual(host.GroupAdd, ['audio']);
  assert.equal(host.ShmSize, 128 * MB);
  assert.equal(host.Memory, 256 * MB);
  assert.equal(host.MemorySwap, 512 * MB);
  assert.equal(host.MemoryReservation, 64 * MB);
  assert.equal(host.PidsLimit, 200);
  assert.equal(host.CpusetCpus, '0');
  assert.equal(host.CpuPeriod, 50_000);
  assert.equal(host.CpuQuota, 25_000);
  assert.equal(host.CpuShares, 256);
  assert.equal(host.Init, true);
  assert.equal(host.IpcMode, 'private');
  assert.deepEqual(host.LogConfig, { Type: 'json-file', Config: { 'max-size': '1m' } });
  assert.deepEqual(host.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  assert.equal(host.Runtime, 'runc');
  assert.equal(host.OomScoreAdj, 123);
});

test('parameters that need their own network namespace, on a bridge container (created, never connected)', async (t) => {
  const parameters: Array<[string, string]> = [
    ['mac-address', '02:42:ac:11:00:42'],
    ['sysctl', 'net.ipv4.ip_unprivileged_port_start=0'],
    ['publish', '127.0.0.1:31010:8080'],
    ['p', '31011:8081/udp'],
    ['expose', '9000'],
    ['hostname', 'from-parameter'],
  ];
  const task = taskInfo({ docker: { network: 'BRIDGE', parameters: parameters.map(([key, value]) => ({ key, value })) } });
  const { inspect } = await create(t, task);
  assert.equal(inspect.Config.MacAddress, '02:42:ac:11:00:42');
  assert.equal(inspect.Config.Hostname, 'from-parameter');
  assert.deepEqual(inspect.HostConfig.Sysctls, { 'net.ipv4.ip_unprivileged_port_start': '0' });
  assert.deepEqual(inspect.HostConfig.PortBindings, {
    '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '31010' }],
    '8081/udp': [{ HostIp: '', HostPort: '31011' }],
  });
  assert.deepEqual(inspect.Config.ExposedPorts, { '8080/tcp': {}, '8081/udp': {}, '9000/tcp': {} });
});

test('Env: task environment, CommandInfo, env parameters and the variables Mesos sets', async (t) => {
  const task = taskInfo({ docker: { parameters: [{ key: 'env', value: 'SHARED=parameter' }, { key: 'env', value: 'MESOS_SANDBOX=/nope' }] } }, {
    command: { shell: true, value: 'env', environment: { variables: [{ name: 'SHARED', value: 'command' }, { name: 'ONLY_COMMAND', value: 'a=b' }] } },
  });
  const { inspect, name } = await create(t, task, { taskEnvironment: { HOOK: 'hook' } });
  for (const entry of ['SHARED=parameter', 'ONLY_COMMAND=a=b', 'HOOK=hook', `MESOS_SANDBOX=${MAPPED}`, `MESOS_CONTAINER_NAME=${name}`]) {
    assert.ok(inspect.Config.Env.includes(entry), entry);
  }
  assert.equal(inspect.Config.Env.includes('MESOS_SANDBOX=/nope'), false);
});

test('entrypoint semantics with an ENTRYPOINT ["echo"] CMD ["inky"] image', async (t) => {
  const marker = randomBytes(8).toString('hex');
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['shell=false without a value runs the image CMD', { shell: false }, 'inky\n'],
    ['shell=false with a value hands it to the ENTRYPOINT', { shell: false, value: marker }, `${marker}\n`],
    ['shell=false with arguments hands them to the ENTRYPOINT', { shell: false, arguments: [marker, 'second'] }, `${marker} second\n`],
    ['shell=false with a value and arguments', { shell: false, value: marker, arguments: ['x y'] }, `${marker} x y\n`],
    ['shell=true runs /bin/sh -c, replacing the ENTRYPOINT', { shell: true, value: 'echo "sum=$((20+22))"; echo to-stderr >&2' }, 'sum=42\n'],
  ];
  for (const [name, command, expected] of cases) {
    const container = await create(t, taskInfo({ docker: { image: INKY, network: 'NONE' } }, { command }));
    const result = await run(container);
    assert.equal(result.exitCode, 0, name);
    assert.equal(result.stdout, expected, name);
    if (command.shell === true) assert.equal(result.stderr, 'to-stderr\n', name);
  }
});

test('an entrypoint parameter replaces /bin/sh for a shell command, as docker run --entrypoint does', async (t) => {
  const container = await create(t, taskInfo(
    { docker: { image: INKY, network: 'HOST', parameters: [{ key: 'entrypoint', value: '/bin/echo' }] } },
    { command: { shell: true, value: 'not run by a shell' } },
  ));
  const result = await run(container);
  assert.equal(result.stdout, '-c not run by a shell\n');
});
