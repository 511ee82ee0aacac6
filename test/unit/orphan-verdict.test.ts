// The orphan sweep's decision, as a pure function: an owner is judged by its pid only from its own
// PID namespace, by Docker when it ran in a container, and spared whenever it cannot be judged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ownerLabels, type Host } from '../../src/docker/container-owner.js';
import { awaitingAdoption, ownerVerdict, type ExecutorContainerState } from '../../src/docker/orphan-sweep.js';
import { containerIdFromMountinfo } from '../../src/docker/own-container.js';

const EXECUTOR_CONTAINER = 'a'.repeat(64);
const host: Host = {
  hostname: 'agent-1',
  bootId: 'boot-a',
  pidNamespace: 'pid:[4026531836]',
  processStart: (pid) => ({ 100: '5000' } as Record<number, string>)[pid],
};
const inContainer: Host = { ...host, pidNamespace: 'pid:[4026532999]', containerId: EXECUTOR_CONTAINER };

test('an owner on the host is judged by its pid', () => {
  const labels = ownerLabels(host, 100);
  assert.equal(labels['org.apache.mesos.executor_pid_namespace'], 'pid:[4026531836]');
  assert.equal(labels['org.apache.mesos.executor_container_id'], undefined);
  assert.equal(ownerVerdict('mesos-c1', labels, host, undefined).owner, 'alive');
  assert.equal(ownerVerdict('mesos-c1', { ...labels, 'org.apache.mesos.executor_pid': '300' }, host, undefined).owner, 'gone');
  // Labels from before the namespace was recorded: judged by pid, as always.
  const legacy: Record<string, string> = { ...labels, 'org.apache.mesos.executor_pid': '300' };
  delete legacy['org.apache.mesos.executor_pid_namespace'];
  assert.equal(ownerVerdict('mesos-c1', legacy, host, undefined).owner, 'gone');
});

test('a pid from another PID namespace is never judged: unknown, spared', () => {
  const labels = { ...ownerLabels(host, 100), 'org.apache.mesos.executor_pid': '7', 'org.apache.mesos.executor_pid_namespace': 'pid:[4026532999]' };
  const verdict = ownerVerdict('mesos-c1', labels, host, undefined);
  assert.equal(verdict.owner, 'unknown');
  assert.match(verdict.why, /PID namespace pid:\[4026532999\], which this process cannot see/);
  // The same container swept from inside a container whose own namespace differs from the host's.
  assert.equal(ownerVerdict('mesos-c1', ownerLabels(host, 100), inContainer, undefined).owner, 'unknown');
});

test('an owner in a container is judged by Docker: its container, named <task container>.executor, must run', () => {
  const labels = { ...ownerLabels(inContainer, 7) };
  assert.equal(labels['org.apache.mesos.executor_container_id'], EXECUTOR_CONTAINER);
  const cases: Array<[string, ExecutorContainerState | undefined, string]> = [
    ['its container runs', { kind: 'running', name: '/mesos-c1.executor' }, 'alive'],
    ['its container has stopped', { kind: 'stopped' }, 'gone'],
    ['its container is gone', { kind: 'missing' }, 'gone'],
    ['Docker cannot say', { kind: 'unknown', why: 'timed out' }, 'unknown'],
    ['not looked up', undefined, 'unknown'],
    // A running container that is not this task's executor proves nothing; the pid (from
    // another namespace here) cannot be judged either.
    ['another running container', { kind: 'running', name: '/registry' }, 'unknown'],
  ];
  for (const [name, state, expected] of cases) assert.equal(ownerVerdict('mesos-c1', labels, host, state).owner, expected, name);
});

test('a label naming a running foreign container protects nothing: the pid decides', () => {
  // The owner's pid is dead and in this namespace; the label points at a live, unrelated container.
  const labels = { ...ownerLabels(host, 100), 'org.apache.mesos.executor_pid': '300', 'org.apache.mesos.executor_container_id': 'b'.repeat(64) };
  const verdict = ownerVerdict('mesos-c1', labels, host, { kind: 'running', name: '/some-service' });
  assert.equal(verdict.owner, 'gone');
  // Nor does a container whose name only looks like an executor's (another task's).
  assert.equal(ownerVerdict('mesos-c1', labels, host, { kind: 'running', name: '/mesos-c2.executor' }).owner, 'gone');
  assert.equal(ownerVerdict('mesos-c1', labels, host, { kind: 'running', name: '/mesos-c1.executor.x' }).owner, 'gone');
});

test('another host, a reboot and a container that is not ours', () => {
  const labels = ownerLabels(inContainer, 7);
  assert.equal(ownerVerdict('mesos-c1', { ...labels, 'org.apache.mesos.executor_host': 'agent-2' }, host, { kind: 'missing' }).owner, 'elsewhere');
  assert.equal(ownerVerdict('mesos-c1', { ...labels, 'org.apache.mesos.executor_boot_id': 'boot-b' }, host, { kind: 'running', name: '/mesos-c1.executor' }).owner, 'gone');
  assert.equal(ownerVerdict('mesos-c1', { 'some.label': 'x' }, host, undefined).owner, 'unowned');
});

test('the container a process runs in, from its mountinfo', () => {
  const id = 'c'.repeat(64);
  const inside = [
    '95 78 254:0 /var/lib/docker/containers/' + id + '/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda rw',
    '96 78 254:0 /var/lib/docker/containers/' + id + '/hostname /etc/hostname rw,relatime - ext4 /dev/vda rw',
  ].join('\n');
  assert.equal(containerIdFromMountinfo(inside), id);
  // /var/lib/docker on a file system of its own.
  assert.equal(containerIdFromMountinfo(`97 78 8:1 /containers/${id}/hosts /etc/hosts rw - ext4 /dev/sdb rw`), id);
  assert.equal(containerIdFromMountinfo('22 1 254:0 / / rw,relatime - ext4 /dev/vda rw'), undefined, 'on the host');
  // Mounted elsewhere, or not a container id: not where this process runs.
  assert.equal(containerIdFromMountinfo(`98 78 254:0 /var/lib/docker/containers/${id}/hosts /mnt/hosts rw - ext4 /dev/vda rw`), undefined);
  assert.equal(containerIdFromMountinfo('99 78 254:0 /var/lib/docker/containers/xyz/hosts /etc/hosts rw - ext4 /dev/vda rw'), undefined);
});

test('a container whose executor is gone waits for adoption while its checkpoint is fresh, or when its state root is out of sight', () => {
  const labels = { 'org.apache.mesos.executor_state_dir': '/agent/meta/docker-executor/abc' };
  const files = (entries: Record<string, number>) => (path: string) => {
    if (!(path in entries)) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return { mtimeMs: entries[path]! };
  };
  const now = 1_000_000;
  const visible = { '/agent/meta/docker-executor': 0 };
  assert.equal(awaitingAdoption(labels, 30_000, files({ ...visible, '/agent/meta/docker-executor/abc/checkpoint.json': now - 5_000 }), now), true, 'died 5 s ago');
  assert.equal(awaitingAdoption(labels, 30_000, files({ ...visible, '/agent/meta/docker-executor/abc/checkpoint.json': now - 60_000 }), now), false, 'died a minute ago');
  assert.equal(awaitingAdoption(labels, 30_000, files(visible), now), false, 'no checkpoint in a root this process sees');
  assert.equal(awaitingAdoption(labels, 30_000, files({}), now), true, 'another agent\'s root, not mounted here: cannot be dated');
  assert.equal(awaitingAdoption(labels, 0, files({}), now), false, 'no window');
  assert.equal(awaitingAdoption({}, 30_000, files({}), now), false, 'no state directory label');
});
