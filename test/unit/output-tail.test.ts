// The bounded tail of a container's output and the last lines a terminal message quotes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { lastLines, LAST_WORDS_BYTES, OutputTail, recordedTo } from '../../src/executor/output-tail.js';

test('the last two non-empty lines, trailing blanks dropped', () => {
  assert.equal(lastLines('one\ntwo\nthree\n\n'), 'two\nthree');
  assert.equal(lastLines('only'), 'only');
  assert.equal(lastLines('\n \n'), undefined);
  assert.equal(lastLines('a\r\nb\r\n'), 'a\nb');
});

test('the quote is bounded in bytes, its end kept, a cut marked and no split character left', () => {
  const long = `${'é'.repeat(600)}END`;
  const words = lastLines(long)!;
  assert.ok(Buffer.byteLength(words) <= LAST_WORDS_BYTES, `${Buffer.byteLength(words)} bytes`);
  assert.ok(words.startsWith('…'));
  assert.ok(words.endsWith('END'));
  assert.doesNotMatch(words, /\uFFFD/);
});

test('the tail keeps only its bound, and a cut first line is not quoted', () => {
  const tail = new OutputTail(16);
  tail.add(Buffer.from('a line that is cut\nwhole\n'));
  assert.equal(tail.text(), 'a line that is cut\nwhole\n'.slice(-16));
  assert.equal(tail.lastWords(), 'whole');
});

test('secrets are masked before the quote is cut, so no part of one shows', () => {
  const secret = 's3cr3t-value-XYZ';
  const tail = new OutputTail();
  tail.add(Buffer.from(`${'x'.repeat(600)} ${secret}\nfailed with ${secret}\n`));
  const words = tail.lastWords((text) => text.replaceAll(secret, '***'))!;
  assert.doesNotMatch(words, /s3cr3t|XYZ/);
  assert.match(words, /failed with \*\*\*$/);
});

test('recordedTo hands every byte on and records it', async () => {
  const target = new PassThrough();
  const chunks: Buffer[] = [];
  target.on('data', (chunk: Buffer) => chunks.push(chunk));
  const tail = new OutputTail();
  const sink = recordedTo(target, tail);
  sink.write(Buffer.from('hello '));
  sink.end(Buffer.from('world\n'));
  await new Promise((resolve) => sink.on('finish', resolve));
  assert.equal(Buffer.concat(chunks).toString(), 'hello world\n');
  assert.equal(tail.lastWords(), 'hello world');
});
