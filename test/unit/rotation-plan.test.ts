// The rotating logger's two decisions: where each byte of a chunk goes (a file filled to exactly
// its size, a chunk split at the boundary, no empty file rotated) and the renames of a rotation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planRotation, planWrite } from '../../src/logrotate/rotation-plan.js';

test('planWrite: a chunk that fits goes whole into the current file', () => {
  assert.deepEqual(planWrite(0, 10, 4), [{ rotateFirst: false, start: 0, end: 4 }]);
  assert.deepEqual(planWrite(6, 10, 4), [{ rotateFirst: false, start: 0, end: 4 }]);
});

test('planWrite: a chunk that does not fit fills the file to its size, then rotates', () => {
  assert.deepEqual(planWrite(8, 10, 5), [
    { rotateFirst: false, start: 0, end: 2 },
    { rotateFirst: true, start: 2, end: 5 },
  ]);
});

test('planWrite: a chunk larger than the size is split across several files', () => {
  assert.deepEqual(planWrite(3, 10, 27), [
    { rotateFirst: false, start: 0, end: 7 },
    { rotateFirst: true, start: 7, end: 17 },
    { rotateFirst: true, start: 17, end: 27 },
  ]);
});

test('planWrite: a full file is rotated only when a byte arrives for it', () => {
  // Filling it exactly does not rotate.
  assert.deepEqual(planWrite(6, 10, 4), [{ rotateFirst: false, start: 0, end: 4 }]);
  assert.deepEqual(planWrite(10, 10, 0), []);
  assert.deepEqual(planWrite(10, 10, 1), [{ rotateFirst: true, start: 0, end: 1 }]);
  // A file already over the size (left from before) counts as full.
  assert.deepEqual(planWrite(25, 10, 3), [{ rotateFirst: true, start: 0, end: 3 }]);
});

test('planWrite: any sequence of chunks fills files of exactly the size, in order', () => {
  let seed = 7;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let round = 0; round < 200; round++) {
    const max = 1 + random(50);
    const files: number[][] = [[]];
    let next = 0;
    for (let chunk = 0; chunk < 20; chunk++) {
      const length = random(3 * max);
      const current = files[files.length - 1]!;
      for (const segment of planWrite(current.length, max, length)) {
        if (segment.rotateFirst) files.push([]);
        for (let i = segment.start; i < segment.end; i++) files[files.length - 1]!.push(next + i);
      }
      next += length;
    }
    // Every byte once, in order; every file but the last exactly full; none empty but the first.
    assert.deepEqual(files.flat(), Array.from({ length: next }, (_, i) => i));
    for (const file of files.slice(0, -1)) assert.equal(file.length, max);
    for (const file of files.slice(1)) assert.ok(file.length > 0);
  }
});

test('planWrite refuses a size below one byte', () => {
  assert.throws(() => planWrite(0, 0, 1), RangeError);
});

test('planRotation: the oldest removed, each moved up one, the current becoming .1', () => {
  assert.deepEqual(planRotation('stdout', 3), [
    { op: 'remove', name: 'stdout.3' },
    { op: 'rename', from: 'stdout.2', to: 'stdout.3' },
    { op: 'rename', from: 'stdout.1', to: 'stdout.2' },
    { op: 'rename', from: 'stdout', to: 'stdout.1' },
  ]);
  assert.deepEqual(planRotation('stderr', 1), [
    { op: 'remove', name: 'stderr.1' },
    { op: 'rename', from: 'stderr', to: 'stderr.1' },
  ]);
});

test('planRotation: rotate 0 removes the current file (logrotate: old versions are removed)', () => {
  assert.deepEqual(planRotation('stdout', 0), [{ op: 'remove', name: 'stdout' }]);
  assert.throws(() => planRotation('stdout', -1), RangeError);
});
