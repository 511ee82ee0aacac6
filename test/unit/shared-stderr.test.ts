import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { SharedStderr } from '../../src/executor/shared-stderr.js';

function collector(): { sink: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  return { sink, text: () => Buffer.concat(chunks).toString('utf8') };
}

test('a log line never splits a container line', async () => {
  const { sink, text } = collector();
  const shared = new SharedStderr(sink);
  shared.write(Buffer.from('container line one\ncontainer li'));
  await new Promise((resolve) => setImmediate(resolve));
  shared.diagnostic('LOG\n');
  shared.write(Buffer.from('ne two\nthree\n'));
  await new Promise<void>((resolve) => shared.end(resolve));
  assert.equal(text(), 'container line one\ncontainer line two\nLOG\nthree\n');
});

test('a log line between whole container lines is written at once', async () => {
  const { sink, text } = collector();
  const shared = new SharedStderr(sink);
  shared.write(Buffer.from('a\n'));
  await new Promise((resolve) => setImmediate(resolve));
  shared.diagnostic('LOG\n');
  assert.equal(text(), 'a\nLOG\n');
});

test('a container line left open does not hold log lines forever', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { sink, text } = collector();
  const shared = new SharedStderr(sink);
  shared.write(Buffer.from('progress 10%'));
  await new Promise((resolve) => setImmediate(resolve));
  shared.diagnostic('LOG\n');
  assert.equal(text(), 'progress 10%');
  t.mock.timers.tick(1000);
  assert.equal(text(), 'progress 10%LOG\n');
});
