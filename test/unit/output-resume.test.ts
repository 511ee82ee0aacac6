import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, symlinkSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { ContainerByteCounter, containerBytes, containerBytesOfFd, outputAlreadyWritten } from '../../src/executor/output-resume.js';
import { DIAGNOSTIC_LINE } from '../../src/log.js';
import { skipFirstBytes } from '../../src/executor/skip-bytes.js';

test('the container part of a shared stderr file excludes only the executor log lines', () => {
  const file = Buffer.from([
    '2026-11-22T05:00:00.000Z I executor: Launching task t\n',
    'container says hi\n',
    '2026-11-22T05:00:01.000Z W executor: something\n',
    'executor: looks like ours but is the container\n',
    'partial',
  ].join(''));
  assert.equal(containerBytes(file), Buffer.byteLength('container says hi\nexecutor: looks like ours but is the container\npartial'));
  assert.equal(containerBytes(Buffer.alloc(0)), 0);
});

test('skipFirstBytes drops exactly the first n bytes across chunk boundaries', async () => {
  const chunks: Buffer[] = [];
  const target = new Writable({ write(chunk: Buffer, _encoding, callback) { chunks.push(Buffer.from(chunk)); callback(); } });
  const sink = skipFirstBytes(target, 7);
  for (const piece of ['abc', 'defg', 'hij', 'k']) sink.write(Buffer.from(piece));
  await new Promise<void>((resolve) => sink.end(resolve));
  assert.equal(Buffer.concat(chunks).toString(), 'hijk');
  assert.equal(skipFirstBytes(target, 0), target);
});

// The rule as it was first written, on a whole file in memory: the reference for the streamed one.
function wholeFileReference(file: Buffer): number {
  let total = 0;
  let start = 0;
  while (start < file.length) {
    const newline = file.indexOf(0x0a, start);
    const end = newline === -1 ? file.length : newline + 1;
    const line = file.subarray(start, Math.min(end, start + 64)).toString('latin1');
    if (!DIAGNOSTIC_LINE.test(line)) total += end - start;
    start = end;
  }
  return total;
}

function counted(chunks: Buffer[]): number {
  const counter = new ContainerByteCounter();
  for (const chunk of chunks) counter.push(chunk);
  return counter.finish();
}

const DIAGNOSTIC = '2026-11-22T05:00:00.000Z I executor: Launching task t\n';

test('a line split anywhere, inside the 64-byte prefix too, is counted as when whole', () => {
  const file = Buffer.from(`${DIAGNOSTIC}container line\n${DIAGNOSTIC.slice(0, -1)} and a long tail ${'x'.repeat(80)}\n${'y'.repeat(70)}\n2026-11-22T05:00:00.000Z I executorX\npartial`);
  const expected = wholeFileReference(file);
  for (let i = 0; i <= file.length; i++) {
    assert.equal(counted([file.subarray(0, i), file.subarray(i)]), expected, `split at ${i}`);
    for (let j = i; j <= Math.min(file.length, i + 70); j += 3) {
      assert.equal(counted([file.subarray(0, i), file.subarray(i, j), file.subarray(j)]), expected, `split at ${i} and ${j}`);
    }
  }
  // One byte at a time.
  assert.equal(counted([...file].map((byte) => Buffer.from([byte]))), expected);
});

test('random files: the streamed count equals the whole-file count, whatever the chunking', () => {
  let seed = 7;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const pieces = [DIAGNOSTIC, DIAGNOSTIC.slice(0, 30), '\n', 'out\n', 'x'.repeat(63), 'é', '2026-11-22T05:00:00.000Z W executor: ', '\u0000'];
  for (let round = 0; round < 2000; round++) {
    let text = '';
    for (let k = random(20); k > 0; k--) text += pieces[random(pieces.length)];
    const file = Buffer.from(text);
    const chunks: Buffer[] = [];
    for (let at = 0; at < file.length;) {
      const size = 1 + random(70);
      chunks.push(file.subarray(at, at + size));
      at += size;
    }
    assert.equal(counted(chunks), wholeFileReference(file), JSON.stringify(text));
  }
});

function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'output-resume-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a file larger than the chunk is read through the descriptor in chunks', (t) => {
  const path = join(scratch(t), 'stderr');
  const file = Buffer.from(`${DIAGNOSTIC}hello\n`.repeat(500) + 'tail');
  writeFileSync(path, file);
  const fd = openSync(path, 'a');
  t.after(() => closeSync(fd));
  for (const chunk of [1, 7, 64, 65, 1000]) assert.equal(containerBytesOfFd(fd, chunk), wholeFileReference(file));
  assert.deepEqual(outputAlreadyWritten(fd, fd), { stdout: file.length, stderr: wholeFileReference(file) });
});

// After the stderr file is deleted, /proc/self/fd/2 reads "<path> (deleted)": a container that
// plants a link by that name must not choose what is read.
test('the descriptor is reopened as the same file, never through a path the container can plant', (t) => {
  const dir = scratch(t);
  const path = join(dir, 'stderr');
  writeFileSync(path, 'abc\n');
  const fd = openSync(path, 'a');
  t.after(() => closeSync(fd));
  const elsewhere = join(dir, 'elsewhere');
  writeFileSync(elsewhere, 'a much longer file somewhere else\n');
  unlinkSync(path);
  symlinkSync(elsewhere, `${path} (deleted)`);
  assert.deepEqual(outputAlreadyWritten(fd, fd), { stdout: 4, stderr: 4 });
});

test('a stderr file over 2 GiB is counted with bounded memory', (t) => {
  const path = join(scratch(t), 'stderr');
  const fd = openSync(path, 'w+');
  t.after(() => closeSync(fd));
  // Sparse: mostly zero bytes, no newline until the end.
  ftruncateSync(fd, 2 ** 31 + 10);
  writeSync(fd, Buffer.from(`\n${DIAGNOSTIC}`), 0, undefined, 2 ** 31 + 10);
  const before = process.memoryUsage().rss;
  assert.equal(containerBytesOfFd(fd), 2 ** 31 + 11);
  assert.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024, 'memory stays bounded');
});
