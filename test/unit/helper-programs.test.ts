// Check helpers are found only in the fixed system directories, never through a PATH.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { helperProgram, HelperProgramError, TRUSTED_PATH } from '../../src/checks/helper-programs.js';
import { runChild } from '../../src/checks/run-child.js';

test('the first executable in the fixed PATH, by absolute path', () => {
  const present = new Set(['/usr/bin/curl', '/bin/curl', '/usr/sbin/nsenter']);
  assert.equal(helperProgram('curl', (path) => present.has(path)), '/usr/bin/curl');
  assert.equal(helperProgram('nsenter', (path) => present.has(path)), '/usr/sbin/nsenter');
});

test('a missing helper is named with the directories searched and the package to install', () => {
  assert.throws(() => helperProgram('nsenter', () => false), (error: unknown) => {
    assert.ok(error instanceof HelperProgramError);
    assert.equal(error.code, 'ERR_HELPER_PROGRAM_MISSING');
    assert.equal(error.message, `nsenter not found in ${TRUSTED_PATH}; install util-linux`);
    return true;
  });
});

test('this host has bash where the checks look, and it gets only the fixed PATH', async () => {
  const bash = helperProgram('bash');
  assert.match(bash, /^\/(usr\/)?(local\/)?s?bin\/bash$/);
  const result = await runChild([bash, '-c', 'env'], new AbortController().signal);
  assert.equal(result.exitCode, 0);
  const names = result.stdout.trim().split('\n').map((line) => line.split('=')[0]).filter((name) => !['PWD', 'SHLVL', '_'].includes(name!));
  assert.deepEqual(names, ['PATH']);
  assert.match(result.stdout, new RegExp(`^PATH=${TRUSTED_PATH}$`, 'm'));
});

test('a program name without a path is refused, not looked up', async () => {
  await assert.rejects(runChild(['bash', '-c', 'true'], new AbortController().signal), /Will not run 'bash': expected an absolute program path/);
});
