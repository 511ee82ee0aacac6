// Parse errors say what was wrong and where (byte offset, size) but never quote the input: a
// malformed record may carry a secret, and the error goes to the log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCall, decodeEvent } from '../../src/protocol/codec.js';
import { describeJsonError, jsonErrorIndex } from '../../src/protocol/json-error.js';
import { parseJsonTolerant } from '../../src/protocol/mesos-json.js';

const SECRET = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
const JSON_TYPE = 'application/json';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected an error');
}

const records: Array<[string, string]> = [
  ['a bare word beside the secret', `{"type":"MESSAGE","message":{"data":${SECRET}}}`],
  ['a bare word that is the secret at the start', `${SECRET}`],
  ['a missing comma after the secret', `{"type":"MESSAGE","message":{"data":"${SECRET}" "x":1}}`],
  ['a control character inside the secret', `{"type":"MESSAGE","message":{"data":"${SECRET}\n"}}`],
  ['a truncated record', `{"type":"MESSAGE","message":{"data":"${SECRET}`],
  ['the secret as a required enum name', `{"type":"LAUNCH","launch":{"task":{"name":"n","task_id":{"value":"t"},"agent_id":{"value":"a"},"container":{"type":"${SECRET}"}}}}`],
  ['the secret where an object is expected', `{"type":"MESSAGE","message":"${SECRET}"}`],
  ['the secret where a number is expected', `{"type":"LAUNCH","launch":{"task":{"name":"n","task_id":{"value":"t"},"agent_id":{"value":"a"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":"${SECRET}"}}]}}}`],
  ['the secret as a bad map key', `{"type":"LAUNCH","launch":{"task":{"name":"n","task_id":{"value":"t"},"agent_id":{"value":"a"},"limits":{"${SECRET}":7}}}}`],
  ['the secret as invalid base64', `{"type":"MESSAGE","message":{"data":"${SECRET}!"}}`],
];

for (const [what, record] of records) {
  test(`a malformed event with ${what}: the error does not quote it`, () => {
    const message = messageOf(() => decodeEvent(Buffer.from(record), JSON_TYPE));
    assert.match(message, /^Failed to de-serialize event: /);
    assert.ok(!message.includes(SECRET.slice(0, 8)) && !message.includes(SECRET.slice(-8)), message);
  });
}

test('a malformed call: the error does not quote it', () => {
  const message = messageOf(() => decodeCall(Buffer.from(`{"type":"UPDATE", "token": ${SECRET}}`), JSON_TYPE));
  assert.ok(!message.includes(SECRET.slice(0, 8)), message);
});

test('the error says where the JSON breaks, as a byte offset, and how big the record is', () => {
  const record = `{"data":"é", x${SECRET}}`;
  const message = messageOf(() => decodeEvent(Buffer.from(record), JSON_TYPE));
  assert.match(message, new RegExp(`invalid JSON at byte ${Buffer.byteLength('{"data":"é", ')} of ${Buffer.byteLength(record)}$`));
  assert.match(messageOf(() => parseJsonTolerant('{"a":[1,2')), /^JSON ended early, after 9 bytes$/);
});

test('the bare numbers of Mesos JSON are still accepted', () => {
  assert.deepEqual(parseJsonTolerant('{"a":[Infinity,-Infinity]}'), { a: [Infinity, -Infinity] });
  assert.match(messageOf(() => parseJsonTolerant('{"a":Infinit}')), /invalid JSON at byte 5 of 13/);
});

// Random near-JSON texts: the locator agrees with JSON.parse on validity, and with the offset V8
// reports when V8 reports one.
test('the error locator agrees with JSON.parse', () => {
  const pieces = ['{', '}', '[', ']', ',', ':', '"a"', '"b\\n"', '"\\x"', '"\\u12G4"', '1', '-0.5e3', '01', '-', 'true', 'nul', 'null', ' ', '\n', '"', '\\', 'é', 'Infinity'];
  let seed = 12345;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const valid = ['{"a":[1,true,null,{"b\\n":-0.5e3}]}', '[]', '{}', ' "é" ', '[[[]],{}]'];
  const texts = [...valid];
  for (let i = 0; i < 20_000; i++) {
    const base = valid[random(valid.length)]!;
    let text = '';
    const length = random(8);
    for (let j = 0; j < length; j++) text += pieces[random(pieces.length)];
    const at = random(base.length + 1);
    texts.push(random(2) === 0 ? base.slice(0, at) + text + base.slice(at) : text);
  }
  for (const text of texts) {
    let position: number | undefined;
    let parsed = true;
    try {
      JSON.parse(text);
    } catch (error) {
      parsed = false;
      const found = /at position (\d+)/.exec((error as Error).message)?.[1];
      if (found !== undefined) position = Number(found);
    }
    const index = jsonErrorIndex(text);
    assert.equal(index === undefined, parsed, `validity of ${JSON.stringify(text)}`);
    if (position !== undefined) assert.equal(index, position, `offset in ${JSON.stringify(text)}`);
    if (!parsed) assert.ok(!describeJsonError(text).includes('"'));
  }
});
