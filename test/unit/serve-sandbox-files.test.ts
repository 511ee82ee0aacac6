// /files/read and /files/browse as root on a sandbox the container owns: a name the container
// swaps for a FIFO between the check and the open is never opened for reading.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { browseSandbox, readSandboxRange, SandboxAccessError } from '../../src/agent/serve/sandbox-files.js';
import type { SandboxLocation } from '../../src/agent/serve/sandbox-path.js';
import { RENAMEAT2, waitingFifo } from '../helpers/waiting-fifo.js';

function sandboxWithFile(t: TestContext): string {
  const sandbox = mkdtempSync(join(tmpdir(), 'serve-files-'));
  t.after(() => rmSync(sandbox, { recursive: true, force: true }));
  writeFileSync(join(sandbox, 'plain'), 'plain content');
  return sandbox;
}

function at(sandbox: string, name: string): SandboxLocation {
  return { taskId: 'task-1', sandbox, names: [name], prefix: '/tasks/task-1' };
}

test('a FIFO is refused by read and browse without being opened: its writer stays blocked', async (t) => {
  const sandbox = sandboxWithFile(t);
  const fifo = waitingFifo(sandbox, 'fifo');
  assert.throws(() => readSandboxRange(at(sandbox, 'fifo'), 0, undefined), (error) => error instanceof SandboxAccessError && error.status === 403 && error.message === "'fifo' is not a regular file or a directory");
  assert.throws(() => browseSandbox(at(sandbox, 'fifo')), (error) => error instanceof SandboxAccessError && error.status === 403);
  assert.deepEqual(readSandboxRange(at(sandbox, 'plain'), 0, undefined), { data: 'plain content', offset: 0 });
  assert.equal(await fifo.writerStillWaiting(), true);
});

test('a name swapped between a regular file and a FIFO never opens the FIFO', { skip: RENAMEAT2[process.arch] === undefined, timeout: 120_000 }, async (t) => {
  const sandbox = sandboxWithFile(t);
  const fifo = waitingFifo(sandbox, 'stdout', 'plain');
  const outcomes = new Set<string>();
  for (let i = 0; i < 30_000; i++) {
    try {
      const read = i % 2 === 0 ? readSandboxRange(at(sandbox, 'stdout'), 0, undefined).data : browseSandbox(at(sandbox, 'stdout'))[0]!.mode;
      assert.ok(read === 'plain content' || read.startsWith('-'), read);
      outcomes.add('read');
    } catch (error) {
      assert.ok(error instanceof SandboxAccessError, String(error));
      outcomes.add(`${error.status} ${error.message}`);
    }
  }
  assert.equal(await fifo.writerStillWaiting(), true, `the FIFO was opened (outcomes: ${[...outcomes].join()})`);
  assert.ok(outcomes.has('read') && outcomes.has("403 'stdout' is not a regular file or a directory"), [...outcomes].join());
});
