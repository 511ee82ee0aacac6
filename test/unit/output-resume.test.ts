import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { containerBytes } from '../../src/executor/output-resume.js';
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
