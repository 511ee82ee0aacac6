// The container's memory counters from its cgroup, v1 and v2, read from a fake cgroup tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupCandidates, memoryCounters, parseBytes, readMemoryCounters } from '../../src/docker/cgroup-memory.js';

const ID = 'a'.repeat(64);

test('where the container cgroup may be, per driver and version; a bad id or a climbing parent is refused', () => {
  assert.deepEqual(cgroupCandidates({ containerId: ID }, 1).slice(0, 2), [`memory/docker/${ID}`, `memory/system.slice/docker-${ID}.scope`]);
  assert.deepEqual(cgroupCandidates({ containerId: ID }, 2).slice(0, 2), [`docker/${ID}`, `system.slice/docker-${ID}.scope`]);
  assert.deepEqual(cgroupCandidates({ containerId: ID, cgroupParent: '/tasks' }, 1), [`memory/tasks/${ID}`, `memory/system.slice/docker-${ID}.scope`]);
  assert.deepEqual(cgroupCandidates({ containerId: '../etc' }, 1), []);
  assert.deepEqual(cgroupCandidates({ containerId: ID, cgroupParent: '../../x' }, 1), []);
});

test('v1 and v2 counters parsed; no limit is undefined', () => {
  const v1 = memoryCounters(1, new Map([
    ['memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n'],
    ['memory.failcnt', '17\n'],
    ['memory.limit_in_bytes', '67108864\n'],
    ['memory.usage_in_bytes', '1024\n'],
    ['memory.max_usage_in_bytes', '67108864\n'],
  ]));
  assert.deepEqual(v1, { cgroupVersion: 1, oomKills: 2, limitHits: 17, limitBytes: 67108864, usageBytes: 1024, maxUsageBytes: 67108864 });
  const v2 = memoryCounters(2, new Map([
    ['memory.events', 'low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n'],
    ['memory.max', 'max\n'],
    ['memory.current', '4096\n'],
  ]));
  assert.deepEqual(v2, { cgroupVersion: 2, oomKills: 1, limitHits: 5, limitBytes: undefined, usageBytes: 4096, maxUsageBytes: undefined });
  assert.equal(parseBytes('9223372036854771712'), undefined, "v1's no limit");
});

test('read from the tree; a linked counters file is not followed; a missing cgroup is undefined', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cgroup-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const directory = join(root, 'memory', 'docker', ID);
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, 'memory.oom_control'), 'oom_kill 3\n');
  writeFileSync(join(root, 'elsewhere'), '999\n');
  symlinkSync(join(root, 'elsewhere'), join(directory, 'memory.limit_in_bytes'));
  const counters = readMemoryCounters({ containerId: ID }, root);
  assert.equal(counters?.oomKills, 3);
  assert.equal(counters?.limitBytes, undefined);
  assert.equal(readMemoryCounters({ containerId: 'b'.repeat(64) }, root), undefined);
});
