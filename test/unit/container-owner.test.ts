import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ownerLabels, ownership, type Host } from '../../src/docker/container-owner.js';

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
