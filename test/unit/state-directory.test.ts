import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { acquireExecutorLock, ExecutorLockError } from '../../src/state/executor-lock.js';
import { PrivateFileError, readPrivateFile, writePrivateFile } from '../../src/state/private-file.js';
import { executorStatePath, prepareStateDirectory, StateDirectoryError } from '../../src/state/state-directory.js';

const IDENTITY = { frameworkId: 'f1', executorId: 'e1', sandboxDirectory: '/var/lib/mesos/slaves/a/frameworks/f1/executors/e1/runs/c1' };

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'state-test-'));
}

test('each executor gets a private directory named by a digest of its identity', () => {
  const root = join(scratch(), 'state');
  const own = prepareStateDirectory(root, IDENTITY);
  assert.equal(own, executorStatePath(root, IDENTITY));
  assert.match(own, new RegExp(`^${root}/executors/[0-9a-f]{64}$`));
  for (const path of [root, join(root, 'executors'), own]) assert.equal(statSync(path).mode & 0o777, 0o700, path);
  // Ids a framework chooses never pick the path.
  const hostile = executorStatePath(root, { frameworkId: '../../etc', executorId: '/x/../..', sandboxDirectory: '/' });
  assert.match(hostile, new RegExp(`^${root}/executors/[0-9a-f]{64}$`));
  assert.notEqual(executorStatePath(root, { ...IDENTITY, executorId: 'e2' }), own);
  assert.equal(prepareStateDirectory(root, IDENTITY), own, 'again on the same directory');
});

test('a state directory that is a link, foreign or writable by others is refused', () => {
  const base = scratch();
  const elsewhere = join(base, 'elsewhere');
  mkdirSync(elsewhere, { mode: 0o700 });
  symlinkSync(elsewhere, join(base, 'link'));
  assert.throws(() => prepareStateDirectory(join(base, 'link'), IDENTITY), (error: unknown) => error instanceof StateDirectoryError && /not a directory/.test(error.message));

  const open = join(base, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  assert.throws(() => prepareStateDirectory(open, IDENTITY), (error: unknown) => error instanceof StateDirectoryError && /mode 777: others may write/.test(error.message));

  const foreign = join(base, 'foreign');
  mkdirSync(foreign, { mode: 0o700 });
  assert.throws(() => prepareStateDirectory(foreign, IDENTITY, 4242), (error: unknown) => error instanceof StateDirectoryError && /belongs to uid \d+, not to this executor's uid 4242/.test(error.message));

  const file = join(base, 'file');
  writeFileSync(file, 'x');
  assert.throws(() => prepareStateDirectory(file, IDENTITY), StateDirectoryError);
  assert.throws(() => prepareStateDirectory('relative', IDENTITY), /expected an absolute path/);
});

test('private files are written atomically without following a link at their name', () => {
  const directory = scratch();
  const canary = join(scratch(), 'canary');
  writeFileSync(canary, 'host file', { mode: 0o644 });
  symlinkSync(canary, join(directory, 'state.json'));
  writePrivateFile(directory, 'state.json', '{"a":1}');
  assert.equal(readFileSync(canary, 'utf8'), 'host file');
  assert.equal(statSync(canary).mode & 0o777, 0o644);
  assert.equal(lstatSync(join(directory, 'state.json')).isFile(), true);
  assert.equal(statSync(join(directory, 'state.json')).mode & 0o777, 0o600);
  assert.equal(readPrivateFile(directory, 'state.json', 100)?.toString(), '{"a":1}');
  assert.deepEqual(readdirSync(directory), ['state.json'], 'no temporary file is left');
});

test('reading a private file refuses links, FIFOs, directories and oversized files', () => {
  const directory = scratch();
  assert.equal(readPrivateFile(directory, 'missing', 10), undefined);
  const canary = join(scratch(), 'canary');
  writeFileSync(canary, '{"forged":true}');
  symlinkSync(canary, join(directory, 'link'));
  assert.throws(() => readPrivateFile(directory, 'link', 100), (error: unknown) => error instanceof PrivateFileError && /symbolic link/.test(error.message));
  execFileSync('mkfifo', [join(directory, 'fifo')]);
  assert.throws(() => readPrivateFile(directory, 'fifo', 100), /not a regular file/);
  mkdirSync(join(directory, 'dir'));
  assert.throws(() => readPrivateFile(directory, 'dir', 100), /not a regular file/);
  writeFileSync(join(directory, 'big'), Buffer.alloc(101));
  assert.throws(() => readPrivateFile(directory, 'big', 100), /101 bytes, more than the 100/);
});

test('one executor per state directory holds the lock; it is free again once released', async () => {
  const directory = prepareStateDirectory(join(scratch(), 'state'), IDENTITY);
  const first = await acquireExecutorLock(directory, 'executor e1');
  await assert.rejects(acquireExecutorLock(directory, 'executor e1'), (error: unknown) => error instanceof ExecutorLockError && /Another executor is running for executor e1/.test(error.message));
  assert.equal(statSync(join(directory, 'lock-token')).mode & 0o777, 0o600);
  first.release();
  await new Promise((resolve) => setImmediate(resolve));
  const second = await acquireExecutorLock(directory, 'executor e1');
  second.release();
  const other = prepareStateDirectory(join(scratch(), 'state'), IDENTITY);
  const elsewhere = await acquireExecutorLock(other, 'executor e1');
  elsewhere.release();
  assert.ok(existsSync(join(other, 'lock-token')));
});

test('the lock dies with its holder', async () => {
  const directory = prepareStateDirectory(join(scratch(), 'state'), IDENTITY);
  const holder = `
    import { acquireExecutorLock } from ${JSON.stringify(join(import.meta.dirname, '../../src/state/executor-lock.ts'))};
    await acquireExecutorLock(${JSON.stringify(directory)}, 'x');
    process.stdout.write('held\\n');
    setInterval(() => {}, 1000);
  `;
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', holder], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  await assert.rejects(acquireExecutorLock(directory, 'x'), ExecutorLockError);
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  const lock = await acquireExecutorLock(directory, 'x');
  lock.release();
});
