// Root reads a sandbox file only as the file the task put there: no link followed (the file or
// a directory on the way), no FIFO waited on, nothing outside the sandbox, size bounded; and a
// refusal says nothing about the host file a link points at.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { loadRegistryAuth, RegistryAuthError } from '../../src/docker/registry-auth.js';
import { parseImageReference } from '../../src/docker/image-reference.js';
import { errorMessage } from '../../src/log.js';
import { openRegularNoFollow, readSandboxFile, SandboxFileError } from '../../src/sandbox-file.js';
import { RENAMEAT2, waitingFifo } from '../helpers/waiting-fifo.js';

const HOST_SECRET = 'host-only-credential-7d1f';

// A sandbox and, beside it, a "host" directory holding another tenant's file.
function ground(t: TestContext): { sandbox: string; host: string; hostFile: string } {
  const root = mkdtempSync(join(tmpdir(), 'sandbox-file-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const sandbox = join(root, 'sandbox');
  const host = join(root, 'other-tenant', '.docker');
  mkdirSync(sandbox);
  mkdirSync(host, { recursive: true });
  const hostFile = join(host, 'config.json');
  writeFileSync(hostFile, HOST_SECRET);
  return { sandbox, host, hostFile };
}

function refusal(fn: () => unknown): SandboxFileError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof SandboxFileError, `expected a SandboxFileError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a refusal');
}

// Nothing of the host side in the message: not its path, not its content.
function assertReveals(error: Error, nothing: string[]): void {
  const text = `${errorMessage(error)} ${error.stack ?? ''} ${JSON.stringify(error)}`;
  for (const fact of nothing) assert.ok(!text.includes(fact), `the error reveals ${fact}: ${text}`);
}

test('a regular file is read; an absent one is undefined', (t) => {
  const { sandbox } = ground(t);
  mkdirSync(join(sandbox, '.docker'));
  writeFileSync(join(sandbox, '.docker', 'config.json'), '{}');
  assert.equal(readSandboxFile(sandbox, '.docker/config.json', 100)?.toString(), '{}');
  assert.equal(readSandboxFile(sandbox, '.dockercfg', 100), undefined);
  assert.equal(readSandboxFile(sandbox, 'nodir/config.json', 100), undefined);
});

test('a file that is a symbolic link is refused, whatever it points at', (t) => {
  const { sandbox, hostFile } = ground(t);
  mkdirSync(join(sandbox, '.docker'));
  symlinkSync(hostFile, join(sandbox, '.docker', 'config.json'));
  const error = refusal(() => readSandboxFile(sandbox, '.docker/config.json', 100));
  assert.equal(error.code, 'ERR_SANDBOX_FILE_LINK');
  assert.equal(error.message, 'sandbox .docker/config.json is a symbolic link; refusing to follow it');
  // A dangling link is refused the same way: its target's existence is not told.
  symlinkSync('/nonexistent/config', join(sandbox, '.dockercfg'));
  assert.equal(refusal(() => readSandboxFile(sandbox, '.dockercfg', 100)).message, 'sandbox .dockercfg is a symbolic link; refusing to follow it');
});

test('a directory on the way that is a symbolic link is refused, existing target file or not', (t) => {
  const { sandbox, host } = ground(t);
  symlinkSync(host, join(sandbox, '.docker'));
  const error = refusal(() => readSandboxFile(sandbox, '.docker/config.json', 100));
  assert.equal(error.message, 'sandbox .docker is a symbolic link; refusing to follow it');
  const missing = refusal(() => readSandboxFile(sandbox, '.docker/no-such-file.json', 100));
  assert.equal(missing.message, 'sandbox .docker is a symbolic link; refusing to follow it');
  assertReveals(error, [host, HOST_SECRET]);
});

test('a FIFO is refused without blocking, a directory and a socket are refused', async (t) => {
  const { sandbox } = ground(t);
  execFileSync('mkfifo', [join(sandbox, '.dockercfg')]);
  assert.equal(refusal(() => readSandboxFile(sandbox, '.dockercfg', 100)).message, 'sandbox .dockercfg is not a regular file (a FIFO)');
  mkdirSync(join(sandbox, '.docker', 'config.json'), { recursive: true });
  assert.equal(refusal(() => readSandboxFile(sandbox, '.docker/config.json', 100)).code, 'ERR_SANDBOX_FILE_NOT_REGULAR');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(join(sandbox, 'sock'), resolve));
  t.after(() => server.close());
  assert.equal(refusal(() => readSandboxFile(sandbox, 'sock', 100)).message, 'sandbox sock is not a regular file (a socket)');
});

test('a file larger than the bound is refused without being read', (t) => {
  const { sandbox } = ground(t);
  writeFileSync(join(sandbox, '.dockercfg'), 'x'.repeat(101));
  const error = refusal(() => readSandboxFile(sandbox, '.dockercfg', 100));
  assert.equal(error.code, 'ERR_SANDBOX_FILE_TOO_BIG');
  writeFileSync(join(sandbox, '.dockercfg'), 'x'.repeat(100));
  assert.equal(readSandboxFile(sandbox, '.dockercfg', 100)?.length, 100);
});

test('a path that leaves the sandbox is a programming error, not a read', (t) => {
  const { sandbox } = ground(t);
  assert.throws(() => readSandboxFile(sandbox, '../other-tenant/.docker/config.json', 100), /Not a path inside the sandbox/);
  assert.throws(() => readSandboxFile(sandbox, '/etc/passwd', 100), /Not a path inside the sandbox/);
});

// The container can swap a real directory for a link between the check of the path and the
// open: whatever the interleaving, the host file is never read.
test('a directory swapped for a link while being read never yields the host file', { skip: RENAMEAT2[process.arch] === undefined }, async (t) => {
  const { sandbox, host } = ground(t);
  mkdirSync(join(sandbox, '.docker'));
  writeFileSync(join(sandbox, '.docker', 'config.json'), 'sandbox content');
  symlinkSync(host, join(sandbox, 'link'));
  const swap = `chdir $ARGV[0] or die; my ($a, $b) = (".docker", "link"); for (;;) { syscall(${RENAMEAT2[process.arch]}, -100, $a, -100, $b, 2) == 0 or die "$!" }`;
  const swapper = spawn('perl', ['-e', swap, sandbox], { stdio: 'ignore' });
  const stopped = once(swapper, 'exit');
  const outcomes = new Set<string>();
  try {
    for (let i = 0; i < 50_000; i++) {
      try {
        const read = readSandboxFile(sandbox, '.docker/config.json', 100);
        assert.notEqual(read?.toString(), HOST_SECRET);
        outcomes.add(read === undefined ? 'absent' : 'read');
      } catch (error) {
        assert.ok(error instanceof SandboxFileError, String(error));
        assertReveals(error, [host, HOST_SECRET]);
        outcomes.add(error.code);
      }
    }
  } finally {
    swapper.kill('SIGKILL');
    await stopped;
  }
  // The swap was seen both ways, and caught after the open at least once.
  assert.ok(outcomes.has('read') && outcomes.has('ERR_SANDBOX_FILE_LINK') && outcomes.has('ERR_SANDBOX_FILE_OUTSIDE'), [...outcomes].join());
});

test('registry credentials: a linked sandbox config fails the pull with a message naming the file, not its target', (t) => {
  const { sandbox, hostFile, host } = ground(t);
  writeFileSync(hostFile, JSON.stringify({ auths: { '127.0.0.1:5000': { auth: Buffer.from(`tenant:${HOST_SECRET}`).toString('base64') } } }));
  mkdirSync(join(sandbox, '.docker'));
  symlinkSync(hostFile, join(sandbox, '.docker', 'config.json'));
  const image = parseImageReference('127.0.0.1:5000/private/busybox:1');
  let caught: unknown;
  try {
    loadRegistryAuth(image, { sandboxDirectory: sandbox, dockerConfig: undefined });
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof RegistryAuthError);
  assert.equal(caught.message, 'Cannot use the Docker config: sandbox .docker/config.json is a symbolic link; refusing to follow it');
  assertReveals(caught, [host, HOST_SECRET, 'tenant']);
});

test('openRegularNoFollow reads a regular file and never opens a FIFO for reading: its writer stays blocked', async (t) => {
  const { sandbox } = ground(t);
  writeFileSync(join(sandbox, 'plain'), 'plain content');
  const opened = openRegularNoFollow(join(sandbox, 'plain'));
  assert.ok('fd' in opened);
  try {
    assert.equal(readFileSync(opened.fd, 'utf8'), 'plain content');
  } finally {
    closeSync(opened.fd);
  }
  const fifo = waitingFifo(sandbox, 'fifo');
  const refused = openRegularNoFollow(join(sandbox, 'fifo'));
  assert.ok('refused' in refused && refused.refused.isFIFO());
  assert.equal(refusal(() => readSandboxFile(sandbox, 'fifo', 100)).code, 'ERR_SANDBOX_FILE_NOT_REGULAR');
  assert.equal(await fifo.writerStillWaiting(), true);
});

// The container swaps the checked name for a FIFO between the check and the open: whatever the
// interleaving, root never opens the FIFO (its writer would be released) and the file still reads.
test('a name swapped between a regular file and a FIFO never opens the FIFO', { skip: RENAMEAT2[process.arch] === undefined, timeout: 120_000 }, async (t) => {
  const { sandbox } = ground(t);
  writeFileSync(join(sandbox, 'plain'), 'plain content');
  const fifo = waitingFifo(sandbox, 'config.json', 'plain');
  const outcomes = new Set<string>();
  for (let i = 0; i < 30_000; i++) {
    try {
      const read = readSandboxFile(sandbox, 'config.json', 100);
      assert.equal(read?.toString(), 'plain content');
      outcomes.add('read');
    } catch (error) {
      assert.ok(error instanceof SandboxFileError, String(error));
      outcomes.add(error.code);
    }
  }
  assert.equal(await fifo.writerStillWaiting(), true, `the FIFO was opened (outcomes: ${[...outcomes].join()})`);
  assert.ok(outcomes.has('read') && outcomes.has('ERR_SANDBOX_FILE_NOT_REGULAR'), [...outcomes].join());
});
