import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MAX_RECORD_BYTES, RecordIODecoder, RecordIOError, encodeRecord } from '../../src/protocol/recordio.js';

// Records chosen to catch framing bugs: an empty record, a multi-byte UTF-8 record (bytes !=
// characters), and binary records holding '\n' and digits that look like a header.
const RECORDS: Buffer[] = [
  Buffer.from('{"type":"SUBSCRIBED"}', 'utf8'),
  Buffer.alloc(0),
  Buffer.from('héllo wörld — ✓ 🚀', 'utf8'),
  Buffer.from([0x0a, 0x31, 0x32, 0x0a, 0x00, 0xff, 0x0a]),
  Buffer.from('\n\n', 'latin1'),
  Buffer.from('x'.repeat(300), 'ascii'),
];
const STREAM = Buffer.concat(RECORDS.map(encodeRecord));

const hex = (buffers: Buffer[]) => buffers.map((b) => b.toString('hex'));

function recordIOError(pattern: RegExp) {
  return (err: unknown) => err instanceof RecordIOError && err.code === 'ERR_RECORDIO' && pattern.test(err.message);
}

test('encodeRecord writes the decimal byte length, a newline and the bytes', () => {
  const cases: Array<[Buffer, string]> = [
    [Buffer.from('hello'), '5\nhello'],
    [Buffer.alloc(0), '0\n'],
    [Buffer.from('é', 'utf8'), '2\né'],
    [Buffer.from('🚀', 'utf8'), '4\n🚀'],
  ];
  for (const [record, expected] of cases) {
    assert.equal(encodeRecord(record).toString('utf8'), expected);
  }
  assert.equal(Buffer.concat([encodeRecord(Buffer.from('hello')), encodeRecord(Buffer.from('world!'))]).toString(), '5\nhello6\nworld!');
});

test('the whole stream in one chunk gives every record in order', () => {
  const decoder = new RecordIODecoder();
  assert.deepEqual(hex(decoder.push(STREAM)), hex(RECORDS));
  assert.equal(decoder.pendingBytes, 0);
});

test('many records in one chunk', () => {
  const many = Array.from({ length: 1000 }, (_, i) => Buffer.from(`record ${i}`));
  const decoder = new RecordIODecoder();
  const out = decoder.push(Buffer.concat(many.map(encodeRecord)));
  assert.equal(out.length, 1000);
  assert.deepEqual(hex(out), hex(many));
});

test('the stream split at every possible point into two chunks gives the same records', () => {
  for (let split = 0; split <= STREAM.length; split++) {
    const decoder = new RecordIODecoder();
    const out = [...decoder.push(STREAM.subarray(0, split)), ...decoder.push(STREAM.subarray(split))];
    assert.deepEqual(hex(out), hex(RECORDS), `split at byte ${split}`);
    assert.equal(decoder.pendingBytes, 0, `split at byte ${split}`);
  }
});

test('the stream fed byte by byte gives the same records', () => {
  const decoder = new RecordIODecoder();
  const out: Buffer[] = [];
  for (let i = 0; i < STREAM.length; i++) out.push(...decoder.push(STREAM.subarray(i, i + 1)));
  assert.deepEqual(hex(out), hex(RECORDS));
  assert.equal(decoder.pendingBytes, 0);
});

test('an empty chunk yields nothing and changes nothing', () => {
  const decoder = new RecordIODecoder();
  assert.deepEqual(decoder.push(Buffer.alloc(0)), []);
  assert.deepEqual(hex(decoder.push(Buffer.from('3\nabc'))), hex([Buffer.from('abc')]));
});

test('decoded records are copies: reusing the input buffer does not change them', () => {
  const decoder = new RecordIODecoder();
  const input = Buffer.from('3\nabc');
  const [record] = decoder.push(input);
  input.fill(0x7a);
  assert.equal(record!.toString(), 'abc');
});

test('a header that is not a decimal length throws RecordIOError naming it', () => {
  const cases: Array<[string, RegExp]> = [
    ['abc\nxyz', /^Invalid RecordIO header of 3 bytes: expected a decimal record length$/],
    ['-1\nx', /Invalid RecordIO header of 2 bytes/],
    ['+5\nhello', /Invalid RecordIO header of 2 bytes/],
    [' 5\nhello', /Invalid RecordIO header of 2 bytes/],
    ['5x\nhello', /Invalid RecordIO header of 2 bytes/],
    ['1.5\nhello', /Invalid RecordIO header of 3 bytes/],
    ['\nhello', /^Invalid RecordIO header of 0 bytes: expected a decimal record length$/],
    ['sekrit-token\nhello', /^Invalid RecordIO header of 12 bytes: expected a decimal record length$/],
  ];
  for (const [input, pattern] of cases) {
    const decoder = new RecordIODecoder();
    assert.throws(() => decoder.push(Buffer.from(input, 'latin1')), recordIOError(pattern), JSON.stringify(input));
  }
});

test('a bad header after a good record throws, and the decoder stays failed', () => {
  const decoder = new RecordIODecoder();
  assert.throws(() => decoder.push(Buffer.from('2\nokNOPE\n')), recordIOError(/header of 4 bytes/));
  // A valid stream afterwards is still refused, with the same error.
  assert.throws(() => decoder.push(Buffer.from('5\nhello')), recordIOError(/header of 4 bytes/));
  assert.throws(() => decoder.push(Buffer.alloc(0)), recordIOError(/header of 4 bytes/));
});

test('a header longer than 20 bytes without a newline throws before the newline arrives', () => {
  const decoder = new RecordIODecoder();
  // 20 digits might still be a valid header: wait for more.
  assert.deepEqual(decoder.push(Buffer.from('1'.repeat(20))), []);
  assert.throws(() => decoder.push(Buffer.from('1')), recordIOError(/no newline within 20 bytes/));
  assert.throws(() => decoder.push(Buffer.from('\n')), recordIOError(/no newline within 20 bytes/));

  const garbage = new RecordIODecoder();
  assert.throws(
    () => garbage.push(Buffer.from('<html><body>Bad Gateway</body></html>')),
    recordIOError(/^Invalid RecordIO header: no newline within 20 bytes$/),
  );
});

test('a record longer than maxRecordBytes throws naming the size and the limit', () => {
  const decoder = new RecordIODecoder({ maxRecordBytes: 10 });
  assert.deepEqual(hex(decoder.push(Buffer.from('10\n0123456789'))), hex([Buffer.from('0123456789')]));
  assert.throws(() => decoder.push(Buffer.from('11\n')), recordIOError(/record of 11 bytes exceeds the limit of 10 bytes/));
  assert.throws(() => decoder.push(Buffer.from('1\nx')), recordIOError(/11 bytes/));
});

test('the default limit is 64 MiB and a 20-digit length beyond it is refused without waiting for the body', () => {
  assert.equal(DEFAULT_MAX_RECORD_BYTES, 64 * 1024 * 1024);
  const decoder = new RecordIODecoder();
  assert.throws(
    () => decoder.push(Buffer.from(`${DEFAULT_MAX_RECORD_BYTES + 1}\n`)),
    recordIOError(new RegExp(`record of ${DEFAULT_MAX_RECORD_BYTES + 1} bytes exceeds the limit of ${DEFAULT_MAX_RECORD_BYTES} bytes`)),
  );
  assert.throws(
    () => new RecordIODecoder().push(Buffer.from('99999999999999999999\n')),
    recordIOError(/record of 99999999999999999999 bytes exceeds the limit/),
  );
});

test('pendingBytes reports a record whose body has only partly arrived, header included', () => {
  const decoder = new RecordIODecoder();
  assert.deepEqual(decoder.push(Buffer.from('5\nhel')), []);
  assert.equal(decoder.pendingBytes, 5);
  assert.deepEqual(hex(decoder.push(Buffer.from('lo'))), hex([Buffer.from('hello')]));
  assert.equal(decoder.pendingBytes, 0);
});

test('pendingBytes reports a header that has only partly arrived', () => {
  const decoder = new RecordIODecoder();
  assert.deepEqual(decoder.push(Buffer.from('12')), []);
  assert.equal(decoder.pendingBytes, 2);
});

// A stream that ends right after "5\n" was cut off: that must not look like a clean end.
test('pendingBytes reports a record whose header arrived but none of its body', () => {
  const decoder = new RecordIODecoder();
  assert.deepEqual(decoder.push(Buffer.from('5\n')), []);
  assert.equal(decoder.pendingBytes, 2);
  assert.deepEqual(hex(decoder.push(Buffer.from('hello3\nab'))), hex([Buffer.from('hello')]));
  assert.equal(decoder.pendingBytes, 4);
  assert.deepEqual(hex(decoder.push(Buffer.from('c'))), hex([Buffer.from('abc')]));
  assert.equal(decoder.pendingBytes, 0);
});

test('pendingBytes is 0 after an empty record', () => {
  const decoder = new RecordIODecoder();
  assert.deepEqual(hex(decoder.push(Buffer.from('0\n'))), hex([Buffer.alloc(0)]));
  assert.equal(decoder.pendingBytes, 0);
});
