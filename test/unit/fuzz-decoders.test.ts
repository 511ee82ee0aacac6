// Property tests of the decoders that read what the agent sends: the RecordIO framing and the
// Event/Call codec in both content types. Inputs come from a seeded PRNG, so every run checks the
// same cases and a failure names the seed and case that reproduce it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import descriptorJson from '../../src/proto/generated/descriptor.json' with { type: 'json' };
import { decodeCall, decodeEvent, decodeMessage, encodeCall, encodeEvent, encodeMessage, mesos, type ContentType } from '../../src/protocol/codec.js';
import { CodecError } from '../../src/protocol/errors.js';
import { MAX_NESTING, parseJsonTolerant, toMesosJson } from '../../src/protocol/mesos-json.js';
import { DEFAULT_MAX_RECORD_BYTES, RecordIODecoder, RecordIOError, encodeRecord } from '../../src/protocol/recordio.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const CASES = Number(process.env.FUZZ_CASES ?? 5000);
const JSON_TYPE: ContentType = 'application/json';
const PROTOBUF_TYPE: ContentType = 'application/x-protobuf';
const CONTENT_TYPES = [PROTOBUF_TYPE, JSON_TYPE];
// A bound for one decode of a small input that a hang or a blow-up passes and a loaded machine does
// not (a first case also pays for compiling the decoder; CI runs tests two at a time on 2 cores).
const CASE_BUDGET_MS = 2_000;

// mulberry32: small, fast and good enough to spread test inputs.
class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }
}

// Runs `cases` cases, each with its own PRNG derived from the seed, naming the failing one.
function forCases(name: string, body: (random: Random, index: number) => void, cases = CASES): void {
  for (let index = 0; index < cases; index++) {
    const seed = (SEED * 1_000_003 + index * 7919 + hash(name)) >>> 0;
    const random = new Random(seed);
    const started = performance.now();
    try {
      body(random, index);
    } catch (error) {
      const detail = error instanceof Error ? error.stack ?? error.message : String(error);
      assert.fail(`${name}: case ${index} (FUZZ_SEED=${SEED}, case seed ${seed}) failed: ${detail}`);
    }
    const elapsed = performance.now() - started;
    assert.ok(elapsed < CASE_BUDGET_MS, `${name}: case ${index} (FUZZ_SEED=${SEED}) took ${elapsed.toFixed(0)} ms`);
  }
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

// Splits `bytes` into random chunks, empty ones included.
function chunkings(random: Random, bytes: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const size = random.chance(0.1) ? 0 : random.chance(0.5) ? 1 + random.int(4) : 1 + random.int(bytes.length);
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  if (random.chance(0.2)) chunks.push(Buffer.alloc(0));
  return chunks;
}

// ---------------------------------------------------------------------------------------------
// RecordIO

// The framing as the spec states it, over a whole stream: the records before the first framing
// error, and whether there is one.
function referenceDecode(stream: Buffer, maxRecordBytes: number): { records: Buffer[]; failed: boolean } {
  const records: Buffer[] = [];
  let offset = 0;
  while (offset < stream.length) {
    const newline = stream.indexOf(0x0a, offset);
    if (newline === -1) return { records, failed: stream.length - offset > 20 };
    const header = stream.subarray(offset, newline).toString('latin1');
    if (!/^[0-9]{1,20}$/.test(header) || Number(header) > maxRecordBytes) return { records, failed: true };
    const length = Number(header);
    if (newline + 1 + length > stream.length) return { records, failed: false };
    records.push(Buffer.from(stream.subarray(newline + 1, newline + 1 + length)));
    offset = newline + 1 + length;
  }
  return { records, failed: false };
}

// Feeds the chunks; checks that only RecordIOError escapes, that a failed decoder stays failed,
// and that what it holds never exceeds one record plus its header.
function feed(decoder: RecordIODecoder, chunks: Buffer[], maxRecordBytes: number): { records: Buffer[]; failed: boolean } {
  const records: Buffer[] = [];
  let failure: RecordIOError | undefined;
  for (const chunk of chunks) {
    if (failure) {
      assert.throws(() => decoder.push(chunk), (error) => error === failure, 'a failed decoder keeps failing with the same error');
      continue;
    }
    try {
      records.push(...decoder.push(chunk));
    } catch (error) {
      assert.ok(error instanceof RecordIOError, `only RecordIOError may escape, got ${String(error)}`);
      assert.equal(error.code, 'ERR_RECORDIO');
      // What was complete before the failure in this chunk still counts.
      records.push(...error.records);
      failure = error;
      continue;
    }
    assert.ok(decoder.pendingBytes <= maxRecordBytes + 21, `holds ${decoder.pendingBytes} bytes with a ${maxRecordBytes}-byte limit`);
  }
  return { records, failed: failure !== undefined };
}

const RECORDIO_ALPHABET = Buffer.from('0123456789\n\n\n-+ x\r\t\0\xff', 'latin1');

test('RecordIO: random bytes at random chunkings give the reference records or a RecordIOError', () => {
  forCases('recordio-random', (random) => {
    const maxRecordBytes = random.pick([0, 1, 16, 300, DEFAULT_MAX_RECORD_BYTES]);
    const length = random.int(200);
    const stream = random.chance(0.5)
      ? random.bytes(length)
      : Buffer.from(Array.from({ length }, () => random.pick([...RECORDIO_ALPHABET])));
    const decoder = new RecordIODecoder({ maxRecordBytes });
    const got = feed(decoder, chunkings(random, stream), maxRecordBytes);
    const expected = referenceDecode(stream, maxRecordBytes);
    assert.equal(got.failed, expected.failed, `failed: ${got.failed}, reference: ${expected.failed}`);
    assert.deepEqual(got.records.map((r) => r.toString('hex')), expected.records.map((r) => r.toString('hex')));
  });
});

test('RecordIO: mutations of valid streams at random chunkings give the reference records or a RecordIOError', () => {
  forCases('recordio-mutated', (random) => {
    const maxRecordBytes = random.pick([64, 1000, DEFAULT_MAX_RECORD_BYTES]);
    const records = Array.from({ length: 1 + random.int(6) }, () => random.bytes(random.int(random.chance(0.2) ? 120 : 20)));
    let stream = Buffer.concat(records.map(encodeRecord));
    const mutations = random.int(4);
    for (let m = 0; m < mutations && stream.length > 0; m++) {
      const at = random.int(stream.length);
      switch (random.int(6)) {
        case 0: // flip one bit
          stream[at] = stream[at]! ^ (1 << random.int(8));
          break;
        case 1: // delete a byte
          stream = Buffer.concat([stream.subarray(0, at), stream.subarray(at + 1)]);
          break;
        case 2: // insert a byte likely to matter
          stream = Buffer.concat([stream.subarray(0, at), Buffer.from([random.pick([...RECORDIO_ALPHABET])]), stream.subarray(at)]);
          break;
        case 3: // a huge or absurd header in the middle
          stream = Buffer.concat([
            stream.subarray(0, at),
            Buffer.from(random.pick(['1000000000000000000\n', '99999999999999999999\n', '123456789012345678901\n', '-1\n', '1e3\n', '\n', ' 5\n', '0x10\n'])),
            stream.subarray(at),
          ]);
          break;
        case 4: // truncate
          stream = stream.subarray(0, at);
          break;
        default: // duplicate a slice
          stream = Buffer.concat([stream, stream.subarray(at, at + random.int(30))]);
      }
    }
    const decoder = new RecordIODecoder({ maxRecordBytes });
    const got = feed(decoder, chunkings(random, stream), maxRecordBytes);
    const expected = referenceDecode(stream, maxRecordBytes);
    assert.equal(got.failed, expected.failed);
    assert.deepEqual(got.records.map((r) => r.toString('hex')), expected.records.map((r) => r.toString('hex')));
  });
});

test('RecordIO: a header claiming 10^18 bytes is refused as soon as its newline arrives, before any record byte', () => {
  for (const header of ['1000000000000000000', '18446744073709551615', '99999999999999999999', String(DEFAULT_MAX_RECORD_BYTES + 1)]) {
    const decoder = new RecordIODecoder();
    assert.deepEqual(decoder.push(Buffer.from(header)), [], 'no newline yet: nothing to decide');
    assert.ok(decoder.pendingBytes <= 20);
    assert.throws(
      () => decoder.push(Buffer.from('\n')),
      (error) => error instanceof RecordIOError && error.message.includes(header) && /exceeds the limit/.test(error.message),
      header,
    );
    assert.throws(() => decoder.push(Buffer.from('x')), RecordIOError, 'and stays failed');
  }
  // The limit itself is accepted and the record waits for its bytes without holding more than it.
  const decoder = new RecordIODecoder({ maxRecordBytes: 10 });
  assert.deepEqual(decoder.push(Buffer.from('10\n12345')), []);
  assert.equal(decoder.pendingBytes, 3 + 5);
  assert.deepEqual(decoder.push(Buffer.from('67890')).map(String), ['1234567890']);
});

test('RecordIO: a header without a newline is refused after 20 bytes, however it arrives', () => {
  forCases('recordio-long-header', (random) => {
    const header = Buffer.from('1'.repeat(21 + random.int(100)));
    const decoder = new RecordIODecoder();
    const got = feed(decoder, chunkings(random, header), DEFAULT_MAX_RECORD_BYTES);
    assert.equal(got.failed, true);
    assert.equal(got.records.length, 0);
  }, 500);
});

test('RecordIO: a large record fed one byte at a time decodes in linear time', () => {
  const record = new Random(SEED).bytes(256 * 1024);
  const stream = encodeRecord(record);
  const decoder = new RecordIODecoder();
  const started = performance.now();
  const out: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) out.push(...decoder.push(stream.subarray(i, i + 1)));
  const elapsed = performance.now() - started;
  assert.equal(out.length, 1);
  assert.ok(out[0]!.equals(record));
  assert.ok(elapsed < 5000, `took ${elapsed.toFixed(0)} ms`);
});

// ---------------------------------------------------------------------------------------------
// Random messages, driven by the descriptor the codec uses

interface FieldJson {
  rule?: string;
  type: string;
  keyType?: string;
}
interface NodeJson {
  nested?: Record<string, NodeJson>;
  fields?: Record<string, FieldJson>;
  values?: Record<string, number>;
  oneofs?: Record<string, { oneof: string[] }>;
}

const nodes = new Map<string, NodeJson>();
(function index(node: NodeJson, prefix: string): void {
  for (const [name, child] of Object.entries(node.nested ?? {})) {
    const full = prefix ? `${prefix}.${name}` : name;
    nodes.set(full, child);
    index(child, full);
  }
})(descriptorJson as NodeJson, '');

const SCALARS = new Set(['double', 'float', 'int32', 'uint32', 'sint32', 'fixed32', 'sfixed32', 'int64', 'uint64', 'sint64', 'fixed64', 'sfixed64', 'bool', 'string', 'bytes']);

function resolve(reference: string, scope: string): string {
  for (let current = scope; ; current = current.slice(0, Math.max(0, current.lastIndexOf('.')))) {
    const candidate = current ? `${current}.${reference}` : reference;
    if (nodes.has(candidate)) return candidate;
    if (!current) throw new Error(`cannot resolve ${reference} from ${scope}`);
  }
}

// Strings that stress the JSON and UTF-8 paths: quotes, escapes, the bare-token words, astral characters.
const STRING_PIECES = ['a', 'Z', '0', ' ', '"', '\\', '\n', '\u0000', '\u001f', 'é', '✓', '🚀', 'Infinity', 'NaN', '-Infinity', '{', '[', ':', ','];

function randomString(random: Random): string {
  let text = '';
  const length = random.int(8);
  for (let i = 0; i < length; i++) text += random.pick(STRING_PIECES);
  return text;
}

function randomScalar(random: Random, type: string): unknown {
  switch (type) {
    case 'string':
      return randomString(random);
    case 'bytes':
      return random.bytes(random.int(20));
    case 'bool':
      return random.chance(0.5);
    case 'double':
    case 'float':
      return random.pick([0, 1, -1.5, 0.1, 1e300, -1e-300, Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -Infinity, NaN, random.next() * 1e6 - 5e5]);
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return random.pick([0, 1, -1, 2 ** 31 - 1, -(2 ** 31), random.int(2 ** 31) - 2 ** 30]);
    case 'uint32':
    case 'fixed32':
      return random.pick([0, 1, 2 ** 32 - 1, random.int(2 ** 32)]);
    case 'uint64':
    case 'fixed64':
      return random.pick([0, 1, Number.MAX_SAFE_INTEGER, random.int(2 ** 52)]);
    default: // int64, sint64, sfixed64
      return random.pick([0, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, random.int(2 ** 52) - 2 ** 51]);
  }
}

// A valid message of `typeName` with a random subset of its fields (required ones always).
function randomMessage(random: Random, typeName: string, depth = 0): Record<string, unknown> {
  const node = nodes.get(typeName)!;
  const message: Record<string, unknown> = {};
  const skipped = new Set<string>();
  for (const oneof of Object.values(node.oneofs ?? {})) {
    const keep = random.int(oneof.oneof.length + 1);
    oneof.oneof.forEach((name, i) => i !== keep && skipped.add(name));
  }
  const p = depth < 2 ? 0.6 : depth < 5 ? 0.25 : 0;
  for (const [name, field] of Object.entries(node.fields ?? {})) {
    if (skipped.has(name)) continue;
    if (field.rule !== 'required' && !random.chance(p)) continue;
    const value = () => randomValue(random, field.type, typeName, depth + 1);
    if (field.keyType) {
      message[name] = Object.fromEntries(Array.from({ length: random.int(3) }, () => [randomString(random), value()]));
    } else if (field.rule === 'repeated') {
      message[name] = Array.from({ length: random.int(3) }, value);
    } else {
      message[name] = value();
    }
  }
  return message;
}

function randomValue(random: Random, type: string, scope: string, depth: number): unknown {
  if (SCALARS.has(type)) return randomScalar(random, type);
  const full = resolve(type, scope);
  const node = nodes.get(full)!;
  if (node.values) return random.pick(Object.values(node.values));
  return randomMessage(random, full, depth);
}

const EVENT_TYPES = Object.values(mesos.v1.executor.Event.Type) as number[];
const CALL_TYPES = Object.values(mesos.v1.executor.Call.Type) as number[];

function randomEvent(random: Random): mesos.v1.executor.Event.$Properties {
  return { ...randomMessage(random, 'mesos.v1.executor.Event'), type: random.pick(EVENT_TYPES) };
}

function randomCall(random: Random): mesos.v1.executor.Call.$Properties {
  return { ...randomMessage(random, 'mesos.v1.executor.Call'), type: random.pick(CALL_TYPES) } as mesos.v1.executor.Call.$Properties;
}

// Calls `decode`; anything thrown must be a CodecError naming what failed. Returns the message or undefined.
function decodesOrCodecError<T>(decode: () => T): T | undefined {
  try {
    return decode();
  } catch (error) {
    if (!(error instanceof CodecError)) {
      throw new Error(`a ${(error as Error)?.constructor?.name} escaped the decoder: ${String((error as Error)?.stack ?? error)}`);
    }
    assert.equal(error.code, 'ERR_CODEC');
    assert.match(error.message, /^Failed to de-serialize (event|call): ./);
    return undefined;
  }
}

// A decoded message must be usable: re-encoding either works or is a CodecError (an unknown enum
// number from protobuf has no JSON name), never a TypeError.
function reencodes(typeName: 'mesos.v1.executor.Event' | 'mesos.v1.executor.Call', message: object): void {
  for (const contentType of CONTENT_TYPES) {
    try {
      encodeMessage(typeName, message as never, contentType);
    } catch (error) {
      if (!(error instanceof CodecError)) throw new Error(`re-encoding threw ${String((error as Error)?.stack ?? error)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Codec: garbage in

test('codec: random bytes decode as an Event/Call or fail with a CodecError, in both content types', () => {
  forCases('codec-random-bytes', (random) => {
    const body = random.chance(0.5)
      ? random.bytes(random.int(120))
      // Bytes that look more like protobuf: small tags, varints with continuation bits, lengths.
      : Buffer.from(Array.from({ length: random.int(120) }, () => random.pick([0x08, 0x0a, 0x12, 0x1a, 0x22, 0x0b, 0x0c, 0x80, 0xff, 0x01, 0x02, 0x00, 0x7f, random.int(256)])));
    for (const contentType of CONTENT_TYPES) {
      const event = decodesOrCodecError(() => decodeEvent(body, contentType));
      if (event) reencodes('mesos.v1.executor.Event', event);
      const call = decodesOrCodecError(() => decodeCall(body, contentType));
      if (call) reencodes('mesos.v1.executor.Call', call);
    }
  });
});

test('codec: truncated and mutated valid encodings decode or fail with a CodecError', () => {
  forCases('codec-mutated', (random) => {
    const isEvent = random.chance(0.5);
    const contentType = random.pick(CONTENT_TYPES);
    let body = isEvent ? encodeEvent(randomEvent(random), contentType) : encodeCall(randomCall(random), contentType);
    const mutations = 1 + random.int(3);
    for (let m = 0; m < mutations && body.length > 0; m++) {
      const at = random.int(body.length);
      switch (random.int(5)) {
        case 0:
          body = body.subarray(0, at);
          break;
        case 1:
          body = Buffer.from(body);
          body[at] = body[at]! ^ (1 << random.int(8));
          break;
        case 2:
          body = Buffer.concat([body.subarray(0, at), body.subarray(at + 1 + random.int(4))]);
          break;
        case 3:
          body = Buffer.concat([body.subarray(0, at), random.bytes(1 + random.int(4)), body.subarray(at)]);
          break;
        default:
          // An invalid UTF-8 byte or a NUL where text was.
          body = Buffer.from(body);
          body[at] = random.pick([0xff, 0xc3, 0x80, 0x00]);
      }
    }
    const decode = isEvent ? decodeEvent : decodeCall;
    const message = decodesOrCodecError(() => decode(body, contentType));
    if (message) reencodes(isEvent ? 'mesos.v1.executor.Event' : 'mesos.v1.executor.Call', message);
  });
});

// A JSON text built by hand, so that it can hold what JSON.stringify never writes: bare NaN and
// Infinity tokens, numbers too large for a double, raw control characters, broken escapes.
function jsonText(random: Random, value: unknown): string {
  if (value === undefined) return random.pick(['NaN', 'Infinity', '-Infinity', '1e400', '-1e400', '18446744073709551616', '-0', '1.5e-400', '00', '.5', 'undefined']);
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') {
    const text = JSON.stringify(value);
    if (random.chance(0.03)) return text.slice(0, -1) + '\\u12"';
    return text;
  }
  if (Array.isArray(value)) return `[${value.map((v) => jsonText(random, v)).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${jsonText(random, v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const WRONG_VALUES: unknown[] = [
  null, true, false, 0, -1, 1.5, 2 ** 53 + 1, 1e308, -1e308, 2 ** 64, '', 'x', '123', '1.5', 'true', 'NaN', 'Infinity',
  'TASK_RUNNING', 'NO_SUCH_ENUM_VALUE', 'AAAA', 'AAA=', '####', 'aGVsbG8', 'aGVsbG8=', [], [1, 'a', null], {}, { value: 'x' },
  undefined, // a bare token or an unparseable number
];

// A JSON value for `typeName`: real field names, each value right, wrong, or random.
function randomJsonFor(random: Random, typeName: string, depth: number): unknown {
  const node = nodes.get(typeName);
  if (!node?.fields || depth > 6) return randomJson(random, depth);
  const object: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(node.fields)) {
    if (!random.chance(depth === 0 ? 0.7 : 0.35)) continue;
    const roll = random.next();
    if (roll < 0.3) {
      object[name] = random.pick(WRONG_VALUES);
    } else if (SCALARS.has(field.type)) {
      const scalar = randomScalar(random, field.type);
      object[name] = scalar instanceof Buffer ? scalar.toString('base64') : scalar;
    } else {
      const full = resolve(field.type, typeName);
      const target = nodes.get(full)!;
      const one = (): unknown => target.values
        ? random.pick([...Object.keys(target.values), 'UNKNOWN_FUTURE_VALUE', Object.values(target.values)[0]!, 99])
        : randomJsonFor(random, full, depth + 1);
      object[name] = field.rule === 'repeated' ? Array.from({ length: random.int(3) }, one) : field.keyType ? { [randomString(random)]: one() } : one();
    }
  }
  if (random.chance(0.2)) object[random.pick(['unknown_key', 'camelCase', '__proto__', 'constructor'])] = randomJson(random, depth + 1);
  return object;
}

function randomJson(random: Random, depth: number): unknown {
  const roll = random.int(depth > 4 ? 3 : 5);
  switch (roll) {
    case 0:
      return random.pick(WRONG_VALUES);
    case 1:
      return randomString(random);
    case 2:
      return random.pick([0, -0, 1e-7, 123456789012345680000, random.next()]);
    case 3:
      return Array.from({ length: random.int(4) }, () => randomJson(random, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: random.int(4) }, () => [randomString(random), randomJson(random, depth + 1)]));
  }
}

// Nesting to `levels` levels, of arrays, objects, or a message that refers to itself.
function deeplyNested(random: Random, levels: number): string {
  switch (random.int(3)) {
    case 0:
      return `{"type":"HEARTBEAT","x":${'['.repeat(levels)}${random.pick(['1', 'NaN', 'Infinity'])}${']'.repeat(levels)}}`;
    case 1:
      return `{"type":"HEARTBEAT","x":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}`;
    default: {
      let id = '{"value":"c"}';
      for (let i = 0; i < levels; i++) id = `{"value":"c","parent":${id}}`;
      return `{"type":"SUBSCRIBED","subscribed":{"executor_info":{"executor_id":{"value":"e"}},"framework_info":{"user":"u","name":"n"},"agent_info":{"hostname":"h"},"container_id":${id}}}`;
    }
  }
}

test('codec: random JSON values (wrong types, huge numbers, enum names and numbers, bare tokens, bad base64) decode or fail with a CodecError', () => {
  forCases('codec-random-json', (random) => {
    const isEvent = random.chance(0.5);
    const typeName = isEvent ? 'mesos.v1.executor.Event' : 'mesos.v1.executor.Call';
    const value = random.chance(0.85) ? randomJsonFor(random, typeName, 0) : randomJson(random, 0);
    let text = jsonText(random, value);
    if (random.chance(0.1)) text = text.slice(0, random.int(text.length + 1));
    let body = Buffer.from(text, 'utf8');
    if (random.chance(0.1) && body.length > 0) {
      body = Buffer.from(body);
      body[random.int(body.length)] = random.pick([0xff, 0xfe, 0xc0, 0x80, 0xed]);
    }
    const message = decodesOrCodecError(() => (isEvent ? decodeEvent : decodeCall)(body, JSON_TYPE));
    if (message) reencodes(typeName, message);
  });
});

test('codec: JSON nested deeper than the limit is a CodecError, not a stack overflow', () => {
  forCases('codec-deep-json', (random) => {
    const levels = random.pick([MAX_NESTING + 1, 1000, 20_000, 200_000]);
    const text = deeplyNested(random, levels);
    assert.throws(
      () => decodeEvent(Buffer.from(text), JSON_TYPE),
      (error) => error instanceof CodecError && /nested deeper than 100/.test(error.message),
    );
  }, 40);
  // The limit is not hit by real nesting: a ContainerID with 90 ancestors reads fine.
  let id = '{"value":"c"}';
  for (let i = 0; i < 90; i++) id = `{"value":"c","parent":${id}}`;
  const event = decodeEvent(Buffer.from(`{"type":"SUBSCRIBED","subscribed":{"executor_info":{"executor_id":{"value":"e"}},"framework_info":{"user":"u","name":"n"},"agent_info":{"hostname":"h"},"container_id":${id}}}`), JSON_TYPE);
  let depth = 0;
  for (let c = event.subscribed?.container_id; c?.parent; c = c.parent) depth += 1;
  assert.equal(depth, 90);
});

test('codec: protobuf nested deeper than the limit is a CodecError, not a stack overflow', () => {
  const lengthDelimited = (tag: number, body: Buffer): Buffer => {
    const length: number[] = [];
    let n = body.length;
    do {
      length.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      n >>>= 7;
    } while (n > 0);
    return Buffer.concat([Buffer.from([tag]), Buffer.from(length), body]);
  };
  for (const levels of [MAX_NESTING + 5, 5000]) {
    // ContainerID { value = "c" (0a 01 63), parent (2) = ContainerID { ... } }
    let id = Buffer.from([0x0a, 0x01, 0x63]);
    for (let i = 0; i < levels; i++) id = Buffer.concat([Buffer.from([0x0a, 0x01, 0x63]), lengthDelimited(0x12, id)]);
    const event = Buffer.concat([Buffer.from([0x08, 0x01]), lengthDelimited(0x12, lengthDelimited(0x22, id))]);
    assert.throws(() => decodeEvent(event, PROTOBUF_TYPE), (error) => error instanceof CodecError && /nested deeper than 100/.test(error.message), `${levels} levels`);
  }
  // Start-group tags nested 100,000 deep: skipping unknown groups must not recurse without bound.
  assert.throws(() => decodeEvent(Buffer.alloc(100_000, 0x0b), PROTOBUF_TYPE), CodecError);
  // And objects nested too deep are refused when encoding, too.
  let deep: Record<string, unknown> = { value: 'c' };
  for (let i = 0; i < 10_000; i++) deep = { value: 'c', parent: deep };
  for (const contentType of CONTENT_TYPES) {
    assert.throws(() => encodeMessage('mesos.v1.ContainerID', deep as never, contentType), CodecError);
  }
});

test('codec: unknown enum values read as Mesos reads them, and never as a crash', () => {
  // protobuf, like protoc's proto2 code, keeps an unknown number out of the field: the event reads
  // as UNKNOWN, which the executor ignores.
  const unknownType = decodeEvent(Buffer.from([0x08, 0x63]), PROTOBUF_TYPE);
  assert.equal(unknownType.type, mesos.v1.executor.Event.Type.UNKNOWN);
  assert.equal(Object.hasOwn(unknownType, 'type'), false);
  // JSON drops an unknown name on the optional type too, and refuses a number.
  assert.equal(decodeEvent(Buffer.from('{"type":"FUTURE_EVENT"}'), JSON_TYPE).type, mesos.v1.executor.Event.Type.UNKNOWN);
  assert.throws(() => decodeEvent(Buffer.from('{"type":9}'), JSON_TYPE), (error) => error instanceof CodecError && /^Failed to de-serialize event: type: expected an enum name/.test(error.message));
  // A required enum with an unknown value is a missing field, named.
  assert.throws(
    () => decodeCall(Buffer.from('{"type":"UPDATE","executor_id":{"value":"e"},"framework_id":{"value":"f"},"update":{"status":{"task_id":{"value":"t"},"state":"TASK_EXPLODED"}}}'), JSON_TYPE),
    (error) => error instanceof CodecError && /update\.status\.state: Failed to find enum for a name of 13 bytes in mesos\.v1\.TaskState/.test(error.message),
  );
  // TaskInfo { name "n", task_id {"t"}, agent_id {"a"}, container (9) { type (1) = 42 } }
  const task = Buffer.from('0a016e' + '12030a0174' + '1a030a0161' + '4a02082a', 'hex');
  assert.throws(() => decodeMessage('mesos.v1.TaskInfo', task, PROTOBUF_TYPE), (error) => error instanceof CodecError && /missing required 'type' in a ContainerInfo/.test(error.message));
  // An unknown number given to the encoder is refused in JSON, naming the path.
  assert.throws(
    () => encodeMessage('mesos.v1.TaskInfo', { name: 'n', task_id: { value: 't' }, agent_id: { value: 'a' }, container: { type: 42 as never } }, JSON_TYPE),
    (error) => error instanceof CodecError && /container\.type/.test(error.message),
  );
});

test('codec: missing required fields are named, with the message that lacks them', () => {
  // A LAUNCH whose TaskInfo has no name: protobuf (the field is simply not written) and JSON.
  const withoutName = Buffer.concat([
    Buffer.from([0x08, 0x02, 0x22]),
    (() => {
      const taskId = Buffer.from([0x12, 0x03, 0x0a, 0x01, 0x74]);
      const agentId = Buffer.from([0x1a, 0x03, 0x0a, 0x01, 0x61]);
      const task = Buffer.concat([Buffer.from([0x0a, taskId.length + agentId.length]), taskId, agentId]);
      return Buffer.concat([Buffer.from([task.length]), task]);
    })(),
  ]);
  assert.throws(() => decodeEvent(withoutName, PROTOBUF_TYPE), (error) => error instanceof CodecError && /missing required 'name'.*TaskInfo/.test(error.message));
  assert.throws(
    () => decodeEvent(Buffer.from('{"type":"LAUNCH","launch":{"task":{"task_id":{"value":"t"}}}}'), JSON_TYPE),
    (error) => error instanceof CodecError && /Missing required fields: launch\.task\.name, launch\.task\.agent_id/.test(error.message),
  );
});

// ---------------------------------------------------------------------------------------------
// Codec: valid messages round-trip

test('codec: random valid Events and Calls round-trip in both content types, and re-encode to the same bytes', () => {
  forCases('codec-round-trip', (random) => {
    const isEvent = random.chance(0.5);
    const typeName = isEvent ? 'mesos.v1.executor.Event' : 'mesos.v1.executor.Call';
    const message = isEvent ? randomEvent(random) : randomCall(random);
    const expected = toMesosJson(typeName, message);
    const decoded: object[] = [];
    for (const contentType of CONTENT_TYPES) {
      const bytes = isEvent ? encodeEvent(message as never, contentType) : encodeCall(message as never, contentType);
      const back = isEvent ? decodeEvent(bytes, contentType) : decodeCall(bytes, contentType);
      assert.deepEqual(toMesosJson(typeName, back), expected, contentType);
      const again = encodeMessage(typeName, back as never, contentType);
      assert.ok(again.equals(bytes), `${contentType}: re-encoding the decoded message gives the same bytes`);
      decoded.push(back);
    }
    // Both content types carry the same message.
    assert.deepEqual(toMesosJson(typeName, decoded[0]!), toMesosJson(typeName, decoded[1]!));
    // The JSON text reads back through the tolerant parser as the same value (bare tokens included).
    const text = encodeMessage(typeName, message as never, JSON_TYPE).toString('utf8');
    assert.deepEqual(parseJsonTolerant(text), JSON.parse(text));
  });
});
