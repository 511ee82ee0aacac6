import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INITIAL_HEALTH, interpretHealth, type HealthPolicy } from '../../src/checks/health-state.js';

// Feeds results (true = healthy) at the given times (ms since the checks started) and lists what
// each one produced: 'ignored', 'healthy', 'unhealthy', 'unhealthy+kill', or '-' for nothing.
function run(policy: HealthPolicy, results: Array<[number, boolean]>): string[] {
  let state = INITIAL_HEALTH;
  return results.map(([at, healthy]) => {
    const decision = interpretHealth(state, healthy, at, policy);
    state = decision.state;
    if (decision.ignored) return 'ignored';
    if (!decision.update) return '-';
    assert.equal(decision.update.healthy, healthy);
    return healthy ? 'healthy' : decision.kill ? 'unhealthy+kill' : 'unhealthy';
  });
}

test('health results as upstream interprets them', () => {
  const cases: Array<[string, HealthPolicy, Array<[number, boolean]>, string[]]> = [
    ['the first success is reported, later ones are not', { gracePeriodMs: 0, consecutiveFailures: 3 },
      [[0, true], [10, true], [20, true]], ['healthy', '-', '-']],
    ['failures inside the grace period are ignored until the first success', { gracePeriodMs: 1000, consecutiveFailures: 1 },
      [[0, false], [500, false], [1000, false], [1001, false]], ['ignored', 'ignored', 'ignored', 'unhealthy+kill']],
    ['GracePeriod: a failing check within a long grace produces nothing', { gracePeriodMs: 9_999_000, consecutiveFailures: 1 },
      [[0, false], [1000, false], [2000, false]], ['ignored', 'ignored', 'ignored']],
    ['after the first success a failure counts even inside the grace period', { gracePeriodMs: 10_000, consecutiveFailures: 3 },
      [[0, true], [100, false]], ['healthy', 'unhealthy']],
    ['every failure outside the grace period is reported; the nth kills', { gracePeriodMs: 0, consecutiveFailures: 4 },
      [[0, false], [1, false], [2, false], [3, false]], ['unhealthy', 'unhealthy', 'unhealthy', 'unhealthy+kill']],
    ['a success resets the count', { gracePeriodMs: 0, consecutiveFailures: 2 },
      [[0, true], [1, false], [2, true], [3, false], [4, false]], ['healthy', 'unhealthy', 'healthy', 'unhealthy', 'unhealthy+kill']],
    ['flapping: unhealthy, healthy, unhealthy, each reported', { gracePeriodMs: 0, consecutiveFailures: 3 },
      [[0, false], [1, true], [2, false], [3, true]], ['unhealthy', 'healthy', 'unhealthy', 'healthy']],
    ['a failure after the grace, then the first success is reported', { gracePeriodMs: 100, consecutiveFailures: 5 },
      [[50, false], [150, false], [200, true], [250, true]], ['ignored', 'unhealthy', 'healthy', '-']],
    ['consecutive_failures 0 kills on the first counted failure', { gracePeriodMs: 0, consecutiveFailures: 0 },
      [[0, false]], ['unhealthy+kill']],
  ];
  for (const [name, policy, results, expected] of cases) {
    assert.deepEqual(run(policy, results), expected, name);
  }
});

test('the decision carries the count of consecutive failures', () => {
  const policy = { gracePeriodMs: 0, consecutiveFailures: 3 };
  const first = interpretHealth(INITIAL_HEALTH, false, 0, policy);
  const second = interpretHealth(first.state, false, 1, policy);
  assert.deepEqual(second.update, { healthy: false, consecutiveFailures: 2 });
  const healed = interpretHealth(second.state, true, 2, policy);
  assert.deepEqual(healed.state, { initializing: false, consecutiveFailures: 0 });
});
