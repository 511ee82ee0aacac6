import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerVolumes, sandboxBind, volumeParameter } from '../../src/docker/volumes.js';
import { mesos } from '../../src/proto/generated/mesos.js';

import Mode = mesos.v1.Volume.Mode;
import SourceType = mesos.v1.Volume.Source.Type;
import { invalidTask } from '../helpers/invalid-task.js';

const SANDBOX = '/var/lib/mesos/slaves/a1/frameworks/f1/executors/t1/runs/c1';
const MAPPED = '/mnt/mesos/sandbox';

function volumes(list: mesos.v1.IVolume[], docker: Partial<mesos.v1.ContainerInfo.IDockerInfo> = {}) {
  return containerVolumes({ type: mesos.v1.ContainerInfo.Type.DOCKER, docker: { image: 'busybox', ...docker }, volumes: list }, SANDBOX, MAPPED);
}

test('host_path volumes: absolute as given, relative under the sandbox; relative container paths under the mapped directory', () => {
  const cases: Array<[mesos.v1.IVolume, string]> = [
    [{ host_path: '/srv/data', container_path: '/data', mode: Mode.RW }, '/srv/data:/data:rw'],
    [{ host_path: '/srv/data', container_path: '/data', mode: Mode.RO }, '/srv/data:/data:ro'],
    [{ host_path: 'cache', container_path: '/cache', mode: Mode.RW }, `${SANDBOX}/cache:/cache:rw`],
    [{ host_path: 'a/b/../c', container_path: '/c', mode: Mode.RO }, `${SANDBOX}/a/c:/c:ro`],
    [{ host_path: '.', container_path: '/whole-sandbox', mode: Mode.RO }, `${SANDBOX}:/whole-sandbox:ro`],
    [{ host_path: '/srv/data', container_path: 'data', mode: Mode.RO }, `/srv/data:${MAPPED}/data:ro`],
    [{ host_path: '/srv/data/', container_path: '/data/', mode: Mode.RW }, '/srv/data:/data:rw'],
    // The host's root may be mounted (read-only monitoring agents do this), just not mounted over.
    [{ host_path: '/', container_path: '/host', mode: Mode.RO }, '/:/host:ro'],
    [{ host_path: '/srv/x', container_path: '/data', mode: undefined as unknown as Mode }, '/srv/x:/data:rw'],
  ];
  for (const [volume, bind] of cases) {
    assert.deepEqual(volumes([volume]), { binds: [bind], volumeDriver: undefined }, JSON.stringify(volume));
  }
});

test('binds keep the order of ContainerInfo.volumes', () => {
  const result = volumes([
    { host_path: '/one', container_path: '/1', mode: Mode.RW },
    { host_path: '/two', container_path: '/2', mode: Mode.RO },
  ]);
  assert.deepEqual(result.binds, ['/one:/1:rw', '/two:/2:ro']);
});

test('Docker volumes: the name is the source and the driver becomes the volume driver', () => {
  const result = volumes([
    { container_path: '/db', mode: Mode.RW, source: { type: SourceType.DOCKER_VOLUME, docker_volume: { name: 'pgdata', driver: 'rexray' } } },
    { container_path: 'logs', mode: Mode.RO, source: { type: SourceType.DOCKER_VOLUME, docker_volume: { name: 'logs', driver: 'rexray' } } },
    { container_path: '/plain', mode: Mode.RW, source: { type: SourceType.DOCKER_VOLUME, docker_volume: { name: 'plain' } } },
  ]);
  assert.deepEqual(result, { binds: ['pgdata:/db:rw', `logs:${MAPPED}/logs:ro`, 'plain:/plain:rw'], volumeDriver: 'rexray' });
});

test('other volume sources and volumes with only an image are skipped or refused as upstream does', () => {
  const skipped = volumes([
    { container_path: '/s', mode: Mode.RW, source: { type: SourceType.SANDBOX_PATH, sandbox_path: { path: 'x' } } },
    { container_path: '/h', mode: Mode.RW, source: { type: SourceType.HOST_PATH, host_path: { path: '/etc' } } },
    { container_path: '/u', mode: Mode.RW, source: { type: SourceType.UNKNOWN } },
    { container_path: '/kept', host_path: '/kept', mode: Mode.RW },
  ]);
  assert.deepEqual(skipped.binds, ['/kept:/kept:rw']);
  assert.throws(
    () => volumes([{ container_path: '/img', mode: Mode.RO, image: { type: mesos.v1.Image.Type.DOCKER, docker: { name: 'busybox' } } }]),
    invalidTask(/^container\.volumes\[0\]: Host path or volume source is required/),
  );
  assert.throws(() => volumes([{ container_path: '/x', mode: Mode.RW }]), invalidTask(/Host path or volume source is required/));
});

test('the deprecated DockerInfo.volume_driver sets the driver and makes a relative host_path a volume name', () => {
  assert.deepEqual(
    volumes([{ host_path: 'myvolume', container_path: '/data', mode: Mode.RW }], { volume_driver: 'flocker' }),
    { binds: ['myvolume:/data:rw'], volumeDriver: 'flocker' },
  );
  assert.deepEqual(
    volumes([{ container_path: '/d', mode: Mode.RW, source: { type: SourceType.DOCKER_VOLUME, docker_volume: { name: 'v', driver: 'flocker' } } }], { volume_driver: 'flocker' }),
    { binds: ['v:/d:rw'], volumeDriver: 'flocker' },
  );
  assert.deepEqual(volumes([], { volume_driver: 'flocker' }), { binds: [], volumeDriver: 'flocker' });
  // As decoded: the empty default on the prototype is no driver.
  const decoded = mesos.v1.ContainerInfo.fromObject({ type: 'DOCKER', docker: { image: 'b' }, volumes: [{ host_path: 'rel', container_path: '/r', mode: 'RW' }] });
  assert.deepEqual(containerVolumes(decoded, SANDBOX, MAPPED), { binds: [`${SANDBOX}/rel:/r:rw`], volumeDriver: undefined });
});

test('conflicting volume drivers are errors', () => {
  const dockerVolume = (name: string, driver: string): mesos.v1.IVolume => ({
    container_path: `/${name}`,
    mode: Mode.RW,
    source: { type: SourceType.DOCKER_VOLUME, docker_volume: { name, driver } },
  });
  assert.throws(
    () => volumes([dockerVolume('a', 'rexray'), dockerVolume('b', 'flocker')]),
    invalidTask(/^container\.volumes\[1\]\.source\.docker_volume\.driver is 'flocker' but an earlier volume uses 'rexray': Only one volume driver is supported$/),
  );
  assert.throws(
    () => volumes([dockerVolume('a', 'rexray')], { volume_driver: 'flocker' }),
    invalidTask(/^container\.docker\.volume_driver is 'flocker' but a volume uses driver 'rexray': Only one volume driver per task is supported$/),
  );
});

test('invalid volumes are errors naming the volume, the value and what was expected', () => {
  const cases: Array<[mesos.v1.IVolume, RegExp]> = [
    [{ host_path: 'data', container_path: 'data', mode: Mode.RW }, /^container\.volumes\[0\]: Both host_path 'data' and container_path 'data' of a volume are relative/],
    [{ host_path: '/a', container_path: '', mode: Mode.RW }, /container\.volumes\[0\]\.container_path is missing/],
    [{ host_path: '', container_path: '/a', mode: Mode.RW }, /container\.volumes\[0\]\.host_path is empty/],
    [{ host_path: '/a', container_path: '/b', mode: 3 as Mode }, /container\.volumes\[0\]\.mode is 3: Unsupported volume mode, expected RW or RO/],
    [{ host_path: '/a:/etc', container_path: '/b', mode: Mode.RW }, /container\.volumes\[0\]\.host_path '\/a:\/etc' contains ':'/],
    [{ host_path: '/a', container_path: '/b:ro', mode: Mode.RW }, /container\.volumes\[0\]\.container_path '\/b:ro' contains ':'/],
    [{ host_path: '/a\0b', container_path: '/b', mode: Mode.RW }, /host_path '\/a\\0b' contains a NUL byte/],
    [{ host_path: '../../../../etc', container_path: '/etc2', mode: Mode.RO }, /container\.volumes\[0\]\.host_path '\.\.\/\.\.\/\.\.\/\.\.\/etc' leads out of the sandbox/],
    [{ host_path: 'a/../../x', container_path: '/x', mode: Mode.RO }, /leads out of the sandbox/],
    [{ host_path: '/a', container_path: '../etc', mode: Mode.RW }, /container_path '\.\.\/etc' leads out of the mapped sandbox directory \(\/mnt\/mesos\/sandbox\)/],
    [{ host_path: '/a', container_path: '.', mode: Mode.RW }, /container_path '\.' leads out of the mapped sandbox directory/],
    [{ host_path: '/a', container_path: '/', mode: Mode.RW }, /container_path is '\/': nothing can be mounted over the container's root directory/],
    [{ host_path: '/a', container_path: '/x/..', mode: Mode.RW }, /nothing can be mounted over the container's root directory/],
    [{ container_path: '/d', mode: Mode.RW, source: { type: SourceType.DOCKER_VOLUME } }, /source is DOCKER_VOLUME but source\.docker_volume is missing/],
    [{ container_path: '/d', mode: Mode.RW, source: { type: SourceType.DOCKER_VOLUME, docker_volume: { name: '/etc' } } }, /source\.docker_volume\.name is '\/etc': expected a volume name/],
    [{ container_path: '/d', mode: Mode.RW, source: { type: SourceType.DOCKER_VOLUME, docker_volume: { name: '' } } }, /docker_volume\.name is ''/],
    [{ container_path: '/d', mode: Mode.RW, source: { type: SourceType.DOCKER_VOLUME, docker_volume: { name: 'a:b' } } }, /docker_volume\.name is 'a:b'/],
    [{ container_path: '/d', mode: Mode.RW, source: { type: SourceType.DOCKER_VOLUME, docker_volume: { name: 'v', driver: '--opt' } } }, /docker_volume\.driver is '--opt': expected a volume driver name/],
  ];
  for (const [volume, pattern] of cases) assert.throws(() => volumes([volume]), invalidTask(pattern), JSON.stringify(volume));
  assert.throws(
    () => volumes([{ host_path: '/ok', container_path: '/ok', mode: Mode.RW }, { host_path: 'x', container_path: 'y', mode: Mode.RW }]),
    invalidTask(/^container\.volumes\[1\]/),
  );
  assert.throws(
    () => volumes([{ host_path: '-v', container_path: '/d', mode: Mode.RW }], { volume_driver: 'flocker' }),
    invalidTask(/host_path is '-v': expected a volume name/),
  );
});

test('the sandbox bind has no mode suffix and refuses paths Docker would misread', () => {
  assert.equal(sandboxBind(SANDBOX, MAPPED), `${SANDBOX}:${MAPPED}`);
  assert.throws(() => sandboxBind('/var/lib/mesos/a:b', MAPPED), invalidTask(/--sandbox_directory '\/var\/lib\/mesos\/a:b' contains ':'/));
  assert.throws(() => sandboxBind('relative', MAPPED), invalidTask(/--sandbox_directory 'relative' is not an absolute path/));
  assert.throws(() => sandboxBind(SANDBOX, 'sandbox'), invalidTask(/--mapped_directory 'sandbox' is not an absolute path/));
});

test('volume parameters read as docker run -v does', () => {
  const cases: Array<[string, ReturnType<typeof volumeParameter>]> = [
    ['/data', { anonymous: '/data' }],
    ['/srv:/data', { bind: '/srv:/data' }],
    ['/srv:/data:ro', { bind: '/srv:/data:ro' }],
    ['/srv:/data:ro,Z,rslave', { bind: '/srv:/data:ro,Z,rslave' }],
    ['named:/data:nocopy', { bind: 'named:/data:nocopy' }],
    ['/srv/../etc:/data/', { bind: '/etc:/data' }],
  ];
  for (const [value, expected] of cases) assert.deepEqual(volumeParameter('p', value), expected, value);
});
