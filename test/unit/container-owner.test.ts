import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ownerLabels, ownership, processLives, thisHost, type Host } from '../../src/docker/container-owner.js';
import { eventually } from '../helpers/harness.js';

const host: Host = {
  hostname: 'agent-1',
  bootId: 'boot-a',
  processStart: (pid) => ({ 100: '5000', 200: '7000' } as Record<number, string>)[pid],
};

test('ownership of a container from its labels', () => {
  const labels = ownerLabels(host, 100);
  assert.deepEqual(labels, {
    'org.apache.mesos.executor_host': 'agent-1',
    'org.apache.mesos.executor_boot_id': 'boot-a',
    'org.apache.mesos.executor_pid': '100',
    'org.apache.mesos.executor_start': '5000',
  });
  const cases: Array<[string, Record<string, string>, string]> = [
    ['owner alive', labels, 'alive'],
    ['no such process', { ...labels, 'org.apache.mesos.executor_pid': '300' }, 'gone'],
    ['pid reused by a later process', { ...labels, 'org.apache.mesos.executor_pid': '200' }, 'gone'],
    ['machine rebooted since', { ...labels, 'org.apache.mesos.executor_boot_id': 'boot-b' }, 'gone'],
    ['another host', { ...labels, 'org.apache.mesos.executor_host': 'agent-2', 'org.apache.mesos.executor_pid': '300' }, 'elsewhere'],
    ['no owner labels', { 'some.label': 'x' }, 'unowned'],
    ['garbage pid', { ...labels, 'org.apache.mesos.executor_pid': 'abc' }, 'unowned'],
  ];
  for (const [name, input, expected] of cases) assert.equal(ownership(input, host), expected, name);
});

test('a container is adopted only when every identity label the executor knows matches', async () => {
  const { identityMismatch } = await import('../../src/docker/container-owner.js');
  const expected = {
    'org.apache.mesos.framework_id': 'f1',
    'org.apache.mesos.executor_id': 'e1',
    'org.apache.mesos.task_id': 't1',
    'org.apache.mesos.container_id': 'c1',
    'org.apache.mesos.sandbox': '/sandbox',
    'org.apache.mesos.executor_pid': '42',
  };
  const same = { ...expected, 'org.apache.mesos.executor_pid': '7', other: 'x' };
  assert.equal(identityMismatch(same, expected), undefined, 'the owner pid may differ: it is the predecessor');
  assert.equal(identityMismatch({ ...same, 'org.apache.mesos.task_id': 't2' }, expected), 'org.apache.mesos.task_id');
  assert.equal(identityMismatch({ ...same, 'org.apache.mesos.sandbox': '/other' }, expected), 'org.apache.mesos.sandbox');
  const { 'org.apache.mesos.container_id': _dropped, ...withoutContainer } = same;
  assert.equal(identityMismatch(withoutContainer, expected), 'org.apache.mesos.container_id');
  assert.equal(identityMismatch(undefined, expected), 'org.apache.mesos.framework_id');
  assert.equal(identityMismatch({}, expected), 'org.apache.mesos.framework_id');
  assert.equal(identityMismatch(same, { ...expected, 'org.apache.mesos.agent_id': 'a1' }), 'org.apache.mesos.agent_id');
});

test('a dead process nobody reaped (a zombie) is gone, and so is the container it owned', async () => {
  // `sleep 0.2` is left to a parent that never reaps it: `exec sleep 30` replaces the shell.
  const parent = spawn('/bin/sh', ['-c', 'sleep 0.2 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const pid = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (data: Buffer) => resolve(data.toString()))));
    const labels = ownerLabels(thisHost, pid);
    assert.equal(ownership(labels), 'alive');
    await eventually('the child to become a zombie', () => readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ') || undefined, 10_000);
    assert.equal(processLives(pid), false);
    assert.equal(ownership(labels), 'gone');
  } finally {
    parent.kill('SIGKILL');
  }
});
