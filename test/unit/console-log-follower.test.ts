// The console's live tail of a sandbox log, on real files: it follows rotation without losing or
// repeating a byte, resumes exactly from a (file, offset) position, refuses links and FIFOs the
// container planted, and bounds what a slow reader costs by skipping ahead.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { LogFollower, type FollowerLimits, type LogPosition } from '../../src/agent/console/log-follower.js';
import { eventually } from '../helpers/harness.js';

interface Collected {
  chunks: Array<{ at: LogPosition; bytes: Buffer; written: () => void }>;
  skipped: Array<{ bytes: number | undefined; why: string }>;
  problems: string[];
  text(): string;
}

function sandbox(t: TestContext): string {
  const directory = mkdtempSync(join(tmpdir(), 'console-follower-'));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

// A follower whose sink records everything; `hold` keeps `written` uncalled (a reader that stalls).
function follow(t: TestContext, directory: string, options: { from?: LogPosition; limits?: Partial<FollowerLimits>; hold?: boolean } = {}): { follower: LogFollower; got: Collected } {
  const got: Collected = {
    chunks: [],
    skipped: [],
    problems: [],
    text: () => Buffer.concat(got.chunks.map((chunk) => chunk.bytes)).toString(),
  };
  const follower = new LogFollower({
    sandbox: directory,
    stream: 'stdout',
    from: options.from,
    limits: options.limits,
    sink: {
      data: (at, bytes, written) => {
        got.chunks.push({ at, bytes: Buffer.from(bytes), written });
        if (!options.hold) written();
      },
      skipped: (bytes, why) => got.skipped.push({ bytes, why }),
      problem: (message) => got.problems.push(message),
    },
  });
  t.after(() => follower.close());
  return { follower, got };
}

// Renames stdout.N to stdout.N+1 (newest last) and stdout to stdout.1, then starts a new stdout,
// as a size-based rotation does.
function rotate(directory: string, kept: number): void {
  for (let index = kept - 1; index >= 1; index--) {
    try {
      renameSync(join(directory, `stdout.${index}`), join(directory, `stdout.${index + 1}`));
    } catch {
      // Not there yet.
    }
  }
  renameSync(join(directory, 'stdout'), join(directory, 'stdout.1'));
  writeFileSync(join(directory, 'stdout'), '');
}

test('new bytes of the live file arrive as they are written, positions contiguous', async (t) => {
  const directory = sandbox(t);
  writeFileSync(join(directory, 'stdout'), 'one\n');
  const { got } = follow(t, directory);
  await eventually('the first line', () => got.text() === 'one\n');
  appendFileSync(join(directory, 'stdout'), 'two\n');
  await eventually('the second line', () => got.text() === 'one\ntwo\n');
  assert.deepEqual(got.chunks.map((chunk) => chunk.at.offset), [0, 4]);
  assert.equal(got.chunks[0]!.at.file, got.chunks[1]!.at.file);
  assert.deepEqual(got.skipped, []);
});

test('a file not there yet is followed once it appears', async (t) => {
  const directory = sandbox(t);
  const { got } = follow(t, directory);
  writeFileSync(join(directory, 'stdout'), 'late\n');
  await eventually('the late file', () => got.text() === 'late\n');
});

test('rotation: the renamed file is finished from its descriptor, then the new one follows, nothing lost or repeated', async (t) => {
  const directory = sandbox(t);
  const live = join(directory, 'stdout');
  writeFileSync(live, 'a1\n');
  const { got } = follow(t, directory);
  await eventually('a1', () => got.text() === 'a1\n');
  // Written just before the rename: only the descriptor still sees it at `stdout`'s old bytes.
  appendFileSync(live, 'a2\n');
  rotate(directory, 3);
  appendFileSync(live, 'b1\n');
  await eventually('every byte across the rotation', () => got.text() === 'a1\na2\nb1\n');
  const files = [...new Set(got.chunks.map((chunk) => chunk.at.file))];
  assert.equal(files.length, 2, 'two files, each with its own identity');
});

test('a stalled reader that misses several rotations catches up through every kept file in order', async (t) => {
  const directory = sandbox(t);
  const live = join(directory, 'stdout');
  writeFileSync(live, 'gen0\n');
  const { got } = follow(t, directory, { hold: true, limits: { maxInFlightBytes: 4, chunkBytes: 4 } });
  await eventually('the first chunk', () => got.chunks.length === 1);
  for (let generation = 1; generation <= 3; generation++) {
    rotate(directory, 4);
    appendFileSync(live, `gen${generation}\n`);
  }
  // Let the reader go: everything comes through stdout.3, .2, .1 and stdout.
  for (let i = 0; i < 200 && got.text() !== 'gen0\ngen1\ngen2\ngen3\n'; i++) {
    for (const chunk of got.chunks) chunk.written();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(got.text(), 'gen0\ngen1\ngen2\ngen3\n');
  assert.deepEqual(got.skipped, []);
});

test('resuming from a position continues with exactly the next byte, also in a file rotated since', async (t) => {
  const directory = sandbox(t);
  const live = join(directory, 'stdout');
  writeFileSync(live, 'first line\nsecond line\n');
  const first = follow(t, directory);
  await eventually('both lines', () => first.got.text() === 'first line\nsecond line\n');
  first.follower.close();
  // The reader had seen the first 5 bytes only (say its connection dropped there).
  const seen = { file: first.got.chunks[0]!.at.file, offset: 5 };
  appendFileSync(live, 'third line\n');
  rotate(directory, 3);
  appendFileSync(live, 'fourth line\n');
  const second = follow(t, directory, { from: seen });
  await eventually('the rest', () => second.got.text() === ' line\nsecond line\nthird line\nfourth line\n');
  assert.equal(second.got.chunks[0]!.at.offset, 5);
  assert.deepEqual(second.got.skipped, []);
});

test('a position in a file rotated away is reported as lost and the oldest later file follows', async (t) => {
  const directory = sandbox(t);
  const live = join(directory, 'stdout');
  writeFileSync(live, 'gone\n');
  const first = follow(t, directory);
  await eventually('gone', () => first.got.text() === 'gone\n');
  first.follower.close();
  const position = { file: first.got.chunks[0]!.at.file, offset: 2 };
  rotate(directory, 2);
  appendFileSync(live, 'kept\n');
  unlinkSync(join(directory, 'stdout.1'));
  const second = follow(t, directory, { from: position });
  await eventually('the kept file', () => second.got.text() === 'kept\n');
  assert.equal(second.got.skipped.length, 1);
  assert.equal(second.got.skipped[0]!.bytes, undefined);
});

test('a link planted as stdout is not followed, and what it points at is never read', async (t) => {
  const directory = sandbox(t);
  const host = mkdtempSync(join(tmpdir(), 'console-host-'));
  t.after(() => rmSync(host, { recursive: true, force: true }));
  writeFileSync(join(host, 'secret'), 'host-secret-9f3a\n');
  symlinkSync(join(host, 'secret'), join(directory, 'stdout'));
  const { got } = follow(t, directory);
  await eventually('the refusal', () => got.problems.length > 0);
  assert.match(got.problems[0]!, /stdout is not a regular file; refusing to follow it/);
  assert.doesNotMatch(got.problems.join('\n'), /host-secret|console-host/);
  // Replaced by a real file, it is followed; the link's target never was.
  unlinkSync(join(directory, 'stdout'));
  writeFileSync(join(directory, 'stdout'), 'real\n');
  await eventually('the real file', () => got.text() === 'real\n');
  assert.doesNotMatch(got.text(), /host-secret/);
});

test('a rotated name that is a link is skipped, not followed', async (t) => {
  const directory = sandbox(t);
  const host = mkdtempSync(join(tmpdir(), 'console-host-'));
  t.after(() => rmSync(host, { recursive: true, force: true }));
  writeFileSync(join(host, 'secret'), 'host-secret-9f3a\n');
  writeFileSync(join(directory, 'stdout'), 'a\n');
  const { got } = follow(t, directory);
  await eventually('a', () => got.text() === 'a\n');
  // The container renames stdout away and plants a link where the rotated file would be.
  renameSync(join(directory, 'stdout'), join(directory, 'elsewhere'));
  symlinkSync(join(host, 'secret'), join(directory, 'stdout.1'));
  writeFileSync(join(directory, 'stdout'), 'b\n');
  await eventually('b', () => got.text() === 'a\nb\n');
  assert.doesNotMatch(got.text(), /host-secret/);
});

test('a FIFO planted as stdout is refused without blocking', async (t) => {
  const directory = sandbox(t);
  execFileSync('mkfifo', [join(directory, 'stdout')]);
  const { got } = follow(t, directory);
  await eventually('the refusal', () => got.problems.length > 0);
  assert.match(got.problems[0]!, /not a regular file/);
});

test('a reader that stops taking bytes holds a bounded amount, then skips ahead with the count', async (t) => {
  const directory = sandbox(t);
  const live = join(directory, 'stdout');
  const limits = { chunkBytes: 1024, maxInFlightBytes: 4096, maxBacklogBytes: 64 * 1024, tailBytes: 2048 };
  writeFileSync(live, Buffer.alloc(2048, 'x'));
  const { got } = follow(t, directory, { hold: true, limits });
  await eventually('the whole small file', () => got.chunks.length === 2);
  appendFileSync(live, Buffer.alloc(8192, 'x'));
  await eventually('the in-flight limit reached', () => got.chunks.length === 4);
  const total = 2048 + 8192 + 1024 * 1024;
  appendFileSync(live, Buffer.alloc(total - 2048 - 8192, 'y'));
  // It does not read further while nothing is written out.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(got.chunks.length, 4);
  const before = got.chunks.length;
  // The reader drains: the follower jumps to the last tailBytes and says how much it passed over.
  for (const chunk of got.chunks.slice(0, before)) chunk.written();
  for (let i = 0; i < 500; i++) {
    const delivered = got.chunks.reduce((sum, chunk) => sum + chunk.bytes.length, 0);
    const skipped = got.skipped.reduce((sum, skip) => sum + (skip.bytes ?? 0), 0);
    if (delivered + skipped === total) break;
    for (const chunk of got.chunks) chunk.written();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const delivered = got.chunks.reduce((sum, chunk) => sum + chunk.bytes.length, 0);
  const skipped = got.skipped.reduce((sum, skip) => sum + (skip.bytes ?? 0), 0);
  assert.equal(got.skipped.length, 1);
  assert.equal(delivered + skipped, total, 'every byte is either delivered or counted as skipped');
  assert.equal(delivered, 4096 + limits.tailBytes);
  // The bytes after the skip start where the skip ended.
  const after = got.chunks[before]!;
  assert.equal(after.at.offset, 4096 + skipped);
});

test('a reader without a position starts with the tail of a large file and is told what came before', async (t) => {
  const directory = sandbox(t);
  writeFileSync(join(directory, 'stdout.1'), Buffer.alloc(1000, 'o'));
  writeFileSync(join(directory, 'stdout'), Buffer.concat([Buffer.alloc(10_000, 'y'), Buffer.from('end\n')]));
  const { got } = follow(t, directory, { limits: { tailBytes: 100 } });
  await eventually('the tail', () => got.text().endsWith('end\n'));
  assert.equal(got.text().length, 100);
  assert.deepEqual(got.skipped.map((skip) => skip.bytes), [1000 + 10_004 - 100]);
});
