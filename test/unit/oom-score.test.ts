import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oomScoreAdj } from '../../src/docker/oom-score.js';

const MB = 1024 * 1024;
const GB = 1024 * MB;

test('the OOM score adjustment is 1000 - 1000 * request / host memory, in integers', () => {
  const cases: Array<[string, number | undefined, number | undefined, number | undefined, number | undefined]> = [
    ['a quarter of the host', 1024, 2048, 4 * GB, 750],
    ['half, infinite limit', 2048, Infinity, 4 * GB, 500],
    ['integer division truncates', 100, 200, 3 * GB, 968],
    ['fractional MB truncated first', 1024.9, 2048, 4 * GB, 750],
    ['a request of 0', 0, 64, 4 * GB, 1000],
    ['request equal to the limit: none', 1024, 1024, 4 * GB, undefined],
    ['request above the limit: none', 2048, 1024, 4 * GB, undefined],
    ['request 100.5 vs limit 100.9: equal after truncation, none', 100.5, 100.9, 4 * GB, undefined],
    ['no limit: none', 1024, undefined, 4 * GB, undefined],
    ['no request: none', undefined, 2048, 4 * GB, undefined],
    ['no host memory: skipped', 1024, 2048, undefined, undefined],
    ['request above the host memory, clamped at -1000', 100 * 1024, Infinity, GB, -1000],
  ];
  for (const [name, request, limit, host, expected] of cases) {
    assert.equal(oomScoreAdj(request, limit, host), expected, name);
  }
});

test('an unusable host memory size is an error, not a silent zero', () => {
  for (const host of [0, -1, NaN, 1.5]) {
    assert.throws(() => oomScoreAdj(64, 128, host), /Failed to calculate OOM score adjustment/, String(host));
  }
});
