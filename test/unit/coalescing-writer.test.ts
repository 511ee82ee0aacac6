// The checkpoint's writer: changes of one turn of the event loop make one write, a change during
// a write makes one more, flushed() waits for what was asked before it, and a failure is reported
// without stopping later writes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoalescingWriter } from '../../src/state/coalescing-writer.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('coalescing writer', () => {
  it('writes once for every change made in the same turn, taking the state at the write', async () => {
    let state = 0;
    const written: number[] = [];
    const writer = new CoalescingWriter(async () => {
      written.push(state);
    }, (error) => assert.fail(String(error)));
    for (let i = 1; i <= 5; i += 1) {
      state = i;
      writer.request();
    }
    assert.deepEqual(written, [], 'nothing written while the caller runs');
    await writer.flushed();
    assert.deepEqual(written, [5]);
  });

  it('a change during a write makes one more write; flushed() waits for it', async () => {
    let state = 'a';
    const written: string[] = [];
    const gate = deferred();
    const writer = new CoalescingWriter(async () => {
      written.push(state);
      if (written.length === 1) await gate.promise;
    }, (error) => assert.fail(String(error)));
    writer.request();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(written, ['a']);
    state = 'b';
    writer.request();
    state = 'c';
    writer.request();
    let flushed = false;
    const flush = writer.flushed().then(() => {
      flushed = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(flushed, false, 'the change made during the first write is not on disk yet');
    gate.resolve();
    await flush;
    assert.deepEqual(written, ['a', 'c']);
  });

  it('reports a failed write and writes again on the next change; after close nothing is written', async () => {
    let calls = 0;
    const errors: unknown[] = [];
    const writer = new CoalescingWriter(async () => {
      calls += 1;
      if (calls === 1) throw new Error('disk full');
    }, (error) => errors.push(error));
    writer.request();
    await writer.flushed();
    assert.equal((errors[0] as Error).message, 'disk full');
    writer.request();
    await writer.close();
    assert.equal(calls, 2);
    writer.request();
    await writer.flushed();
    assert.equal(calls, 2);
  });
});
