// The rule for a task container's log driver, as a table: the operator's choice against the
// daemon's default, and the task's own parameters over both.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerLogConfig, RESUMABLE_LOCAL_LOG, withLogConfig } from '../../src/docker/container-log-driver.js';
import { createBody } from '../helpers/harness.js';

test('auto picks local only over a json-file default; daemon never sets one; local always does', () => {
  const cases: Array<[Parameters<typeof containerLogConfig>[0], string | undefined, unknown]> = [
    ['auto', 'json-file', RESUMABLE_LOCAL_LOG],
    ['auto', 'journald', undefined],
    ['auto', 'fluentd', undefined],
    ['auto', 'local', undefined],
    ['auto', undefined, undefined],
    ['daemon', 'json-file', undefined],
    ['local', 'journald', RESUMABLE_LOCAL_LOG],
    ['local', undefined, RESUMABLE_LOCAL_LOG],
  ];
  for (const [choice, daemon, expected] of cases) assert.deepEqual(containerLogConfig(choice, daemon), expected, `${choice} over ${daemon}`);
});

test('the local log is one file, never rotated nor compressed, so that a replay starts at the first byte', () => {
  assert.deepEqual(RESUMABLE_LOCAL_LOG, { Type: 'local', Config: { 'max-file': '1', 'max-size': '1024g', compress: 'false' } });
});

test('a LogConfig from the task\'s parameters is kept; otherwise the operator\'s fills the gap', () => {
  const own = createBody({ HostConfig: { LogConfig: { Type: '', Config: { 'max-size': '1m' } } } });
  assert.equal(withLogConfig(own, RESUMABLE_LOCAL_LOG), own);
  const none = createBody({});
  assert.equal(withLogConfig(none, undefined), none);
  const filled = withLogConfig(none, RESUMABLE_LOCAL_LOG);
  assert.deepEqual(filled.HostConfig.LogConfig, RESUMABLE_LOCAL_LOG);
  assert.notEqual(filled.HostConfig.LogConfig!.Config, RESUMABLE_LOCAL_LOG.Config, 'a copy, not the shared constant');
  assert.equal(none.HostConfig.LogConfig, undefined, 'the spec itself is not changed');
});
