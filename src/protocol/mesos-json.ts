// The Mesos JSON mapping (stout's `JSON::protobuf` / `protobuf::parse`), which is NOT proto3 JSON:
// snake_case names, enums by name only, base64 bytes, 64-bit integers as numbers, non-finite
// doubles. Driven by the generated descriptor.json, so it follows the .proto files.
import descriptorJson from '../proto/generated/descriptor.json' with { type: 'json' };
import { randomUUID } from 'node:crypto';
import { CodecError } from './errors.js';
import { describeJsonError } from './json-error.js';

interface FieldJson {
  rule?: string;
  type: string;
  keyType?: string;
  id: number;
}

interface NodeJson {
  nested?: Record<string, NodeJson>;
  fields?: Record<string, FieldJson>;
  values?: Record<string, number>;
}

type ScalarType =
  | 'double' | 'float'
  | 'int32' | 'uint32' | 'sint32' | 'fixed32' | 'sfixed32'
  | 'int64' | 'uint64' | 'sint64' | 'fixed64' | 'sfixed64'
  | 'bool' | 'string' | 'bytes';

const SCALARS = new Set<string>([
  'double', 'float', 'int32', 'uint32', 'sint32', 'fixed32', 'sfixed32',
  'int64', 'uint64', 'sint64', 'fixed64', 'sfixed64', 'bool', 'string', 'bytes',
]);

// What a field (or a map's value) holds, resolved to a fully qualified type where it names one.
type ValueKind =
  | { kind: 'scalar'; type: ScalarType }
  | { kind: 'enum'; type: EnumType }
  | { kind: 'message'; type: MessageType };

interface Field {
  name: string;
  label: 'required' | 'optional' | 'repeated' | 'map';
  keyType?: ScalarType;
  value: ValueKind;
}

interface MessageType {
  name: string;
  fields: Field[];
}

interface EnumType {
  name: string;
  byName: Map<string, number>;
  byNumber: Map<number, string>;
}

const nodes = new Map<string, NodeJson>();
const messages = new Map<string, MessageType>();
const enums = new Map<string, EnumType>();

(function index(node: NodeJson, prefix: string): void {
  for (const [name, child] of Object.entries(node.nested ?? {})) {
    const fullName = prefix ? `${prefix}.${name}` : name;
    nodes.set(fullName, child);
    index(child, fullName);
  }
})(descriptorJson as NodeJson, '');

function enumType(fullName: string): EnumType {
  let type = enums.get(fullName);
  if (!type) {
    const values = Object.entries(nodes.get(fullName)?.values ?? {});
    type = {
      name: fullName,
      byName: new Map(values),
      // The first name wins for aliases, as protoc's descriptor lookup does.
      byNumber: new Map([...values].reverse().map(([name, number]) => [number, name])),
    };
    enums.set(fullName, type);
  }
  return type;
}

// Resolves a type reference as protoc does: innermost scope first, then outwards.
function resolve(reference: string, scope: string): string {
  if (reference.startsWith('.')) return reference.slice(1);
  for (let current = scope; ; current = current.slice(0, Math.max(0, current.lastIndexOf('.')))) {
    const candidate = current ? `${current}.${reference}` : reference;
    if (nodes.has(candidate)) return candidate;
    if (!current) break;
  }
  throw new CodecError(`Descriptor: cannot resolve type '${reference}' from '${scope}'`);
}

function valueKind(type: string, scope: string): ValueKind {
  if (SCALARS.has(type)) return { kind: 'scalar', type: type as ScalarType };
  const fullName = resolve(type, scope);
  return nodes.get(fullName)?.values
    ? { kind: 'enum', type: enumType(fullName) }
    : { kind: 'message', type: messageType(fullName) };
}

function messageType(fullName: string): MessageType {
  const cached = messages.get(fullName);
  if (cached) return cached;
  const node = nodes.get(fullName);
  if (!node?.fields) throw new CodecError(`Unknown message type '${fullName}'`);
  // Registered before its fields resolve: messages may refer to themselves (ContainerID.parent).
  const type: MessageType = { name: fullName, fields: [] };
  messages.set(fullName, type);
  for (const [name, field] of Object.entries(node.fields)) {
    type.fields.push({
      name,
      label: field.keyType
        ? 'map'
        : field.rule === 'required' || field.rule === 'repeated' ? field.rule : 'optional',
      ...(field.keyType ? { keyType: field.keyType as ScalarType } : {}),
      value: valueKind(field.type, fullName),
    });
  }
  return type;
}

// True if `typeName` is a message type of the descriptor (e.g. 'mesos.v1.TaskInfo').
export function isMessageType(typeName: string): boolean {
  return nodes.get(typeName)?.fields !== undefined;
}

const BARE_TOKENS: ReadonlyArray<[string, number]> = [
  ['-Infinity', -Infinity],
  ['Infinity', Infinity],
  ['NaN', NaN],
];

// Deepest nesting accepted, in JSON text and in messages: protobuf's default recursion limit,
// which the agent's own parsers apply too. Deeper input is garbage, and recursing into it would
// overflow the stack.
export const MAX_NESTING = 100;

// JSON.parse, plus the bare Infinity/-Infinity/NaN values the agent's RapidJSON writer emits.
// Nesting deeper than MAX_NESTING is a SyntaxError, like any other text that is not Mesos JSON.
export function parseJsonTolerant(text: string): unknown {
  try {
    return parseBareNumbers(text);
  } catch (error) {
    // V8's message quotes the text around the fault: say only where it is.
    if (error instanceof SyntaxError && !(error instanceof NestingError)) throw new SyntaxError(describeJsonError(text, { bareNumbers: true }));
    throw error;
  }
}

class NestingError extends SyntaxError {}

function parseBareNumbers(text: string): unknown {
  const found = scanJson(text);
  if (found.length === 0) return JSON.parse(text);

  // Each token becomes a string holding an unguessable marker, turned back into a number below.
  const id = `${randomUUID()}:`;
  const marker = `\u0000${id}`;
  let rewritten = '';
  let last = 0;
  for (const [start, token] of found) {
    rewritten += `${text.slice(last, start)}"\\u0000${id}${token}"`;
    last = start + token.length;
  }
  rewritten += text.slice(last);

  return JSON.parse(rewritten, (key, value: unknown) => {
    if (key.startsWith(marker)) throw new SyntaxError(`Unexpected token ${key.slice(marker.length)} in JSON`);
    if (typeof value === 'string' && value.startsWith(marker)) {
      return BARE_TOKENS.find(([token]) => token === value.slice(marker.length))?.[1];
    }
    return value;
  });
}

// One pass over the text, skipping strings: refuses nesting deeper than MAX_NESTING, and returns
// the offsets of bare tokens in value position (after '[', ':' or ',', or at the start).
function scanJson(text: string): Array<[number, string]> {
  const found: Array<[number, string]> = [];
  const mayHaveTokens = text.includes('Infinity') || text.includes('NaN');
  let depth = 0;
  let previous = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      previous = '"';
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      continue;
    } else if (c === '{' || c === '[') {
      depth += 1;
      if (depth > MAX_NESTING) throw new NestingError(`JSON nested deeper than ${MAX_NESTING} levels at byte ${Buffer.byteLength(text.slice(0, i), 'utf8')}`);
      previous = c;
    } else if (c === '}' || c === ']') {
      depth -= 1;
      previous = c;
    } else if (mayHaveTokens && (c === 'I' || c === 'N' || c === '-') && (previous === '' || previous === '[' || previous === ':' || previous === ',')) {
      const token = BARE_TOKENS.find(([t]) => text.startsWith(t, i))?.[0];
      if (token && !/[A-Za-z0-9_]/.test(text[i + token.length] ?? '')) {
        found.push([i, token]);
        i += token.length - 1;
      }
      previous = 'x';
    } else {
      previous = c;
    }
  }
  return found;
}

const DROP = Symbol('drop');

// Mesos JSON (already parsed) to a plain object that the generated `fromObject` accepts: enums as
// numbers, bytes as Uint8Array, 64-bit integers as numbers. Does not check required fields.
export function fromMesosJson(typeName: string, json: unknown): Record<string, unknown> {
  const type = messageType(typeName);
  if (!isObject(json)) {
    throw new CodecError(`Expected a JSON object for ${typeName}, got ${describe(json)}`);
  }
  return parseMessage(type, json, '', 1);
}

function parseMessage(type: MessageType, json: Record<string, unknown>, path: string, depth: number): Record<string, unknown> {
  checkDepth(depth, path);
  const result: Record<string, unknown> = {};
  for (const field of type.fields) {
    if (!Object.hasOwn(json, field.name)) continue;
    const raw = json[field.name];
    if (raw === null || raw === undefined) continue;
    const fieldPath = path ? `${path}.${field.name}` : field.name;

    if (field.label === 'repeated') {
      if (!Array.isArray(raw)) fail(fieldPath, 'an array', raw);
      const values = raw
        .map((element, i) => parseValue(field.value, element, `${fieldPath}[${i}]`, false, depth))
        .filter((value) => value !== DROP);
      result[field.name] = values;
    } else if (field.label === 'map') {
      if (!isObject(raw)) fail(fieldPath, 'an object', raw);
      const entries: Array<[string, unknown]> = [];
      for (const [index, [key, element]] of Object.entries(raw).entries()) {
        // The key is input: an error names the entry by its place, not by its text.
        const entryPath = `${fieldPath}{entry ${index}}`;
        parseMapKey(field.keyType!, key, entryPath);
        const value = parseValue(field.value, element, entryPath, false, depth);
        if (value !== DROP) entries.push([key, value]);
      }
      // fromEntries defines own properties, so a "__proto__" key stays a key.
      result[field.name] = Object.fromEntries(entries);
    } else {
      const value = parseValue(field.value, raw, fieldPath, field.label === 'required', depth);
      if (value !== DROP) result[field.name] = value;
    }
  }
  return result;
}

function parseValue(kind: ValueKind, raw: unknown, path: string, required: boolean, depth: number): unknown {
  switch (kind.kind) {
    case 'message':
      if (!isObject(raw)) fail(path, 'an object', raw);
      return parseMessage(kind.type, raw, path, depth + 1);
    case 'enum': {
      if (typeof raw !== 'string') fail(path, `an enum name of ${kind.type.name} (a string)`, raw);
      const number = kind.type.byName.get(raw);
      if (number !== undefined) return number;
      // Mesos drops an unknown name on a non-required field (newer peers may know more values).
      if (!required) return DROP;
      throw new CodecError(`${path}: Failed to find enum for a name of ${Buffer.byteLength(raw, 'utf8')} bytes in ${kind.type.name}`);
    }
    case 'scalar':
      return parseScalar(kind.type, raw, path);
  }
}

const INT_RANGES: Partial<Record<ScalarType, [number, number]>> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  sint32: [-(2 ** 31), 2 ** 31 - 1],
  sfixed32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
  fixed32: [0, 2 ** 32 - 1],
  int64: [-(2 ** 63), 2 ** 63],
  sint64: [-(2 ** 63), 2 ** 63],
  sfixed64: [-(2 ** 63), 2 ** 63],
  uint64: [0, 2 ** 64],
  fixed64: [0, 2 ** 64],
};

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function parseScalar(type: ScalarType, raw: unknown, path: string): unknown {
  switch (type) {
    case 'string':
      if (typeof raw !== 'string') fail(path, 'a string', raw);
      return raw;
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === 'false') return raw === 'true';
      return fail(path, 'a boolean', raw);
    case 'bytes':
      if (typeof raw !== 'string') fail(path, 'a base64 string', raw);
      if (!BASE64.test(raw)) fail(path, 'standard base64 with padding', raw);
      return Buffer.from(raw, 'base64');
    case 'double':
    case 'float':
      if (typeof raw === 'number') return raw;
      if (raw === 'Infinity') return Infinity;
      if (raw === '-Infinity') return -Infinity;
      if (raw === 'NaN') return NaN;
      // Like stout, a string is re-read as a JSON number.
      if (typeof raw === 'string' && JSON_NUMBER.test(raw)) return Number(raw);
      return fail(path, 'a number', raw);
    default: {
      // Integers: JSON numbers, or strings holding one (64-bit values are often quoted).
      let value: number;
      if (typeof raw === 'number') value = raw;
      else if (typeof raw === 'string' && JSON_NUMBER.test(raw)) value = Number(raw);
      else return fail(path, 'an integer', raw);
      if (!Number.isInteger(value)) fail(path, 'an integer', raw);
      const [min, max] = INT_RANGES[type]!;
      if (value < min || value > max) fail(path, `${article(type)} ${type} in [${min}, ${max}]`, raw);
      return value;
    }
  }
}

function parseMapKey(keyType: ScalarType, key: string, path: string): void {
  if (keyType === 'string') return;
  if (keyType === 'bool') {
    if (key !== 'true' && key !== 'false') fail(path, 'a boolean map key', key);
    return;
  }
  parseScalar(keyType, key, path);
}

interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
}

// A generated message instance (or a plain object of the same shape) to Mesos JSON: only set
// fields, repeated fields and maps only when non-empty, enum names, base64 bytes, 64-bit integers
// as numbers, and non-finite doubles as the strings Mesos accepts (JSON.stringify would write null).
export function toMesosJson(typeName: string, message: object): Record<string, unknown> {
  return writeMessage(messageType(typeName), message, '', 1);
}

function writeMessage(type: MessageType, message: object, path: string, depth: number): Record<string, unknown> {
  checkDepth(depth, path);
  const json: Record<string, unknown> = {};
  const source = message as Record<string, unknown>;
  for (const field of type.fields) {
    if (!Object.hasOwn(source, field.name)) continue;
    const value = source[field.name];
    if (value === null || value === undefined) continue;
    const fieldPath = path ? `${path}.${field.name}` : field.name;

    if (field.label === 'repeated') {
      if (!Array.isArray(value)) fail(fieldPath, 'an array', value);
      if (value.length > 0) {
        json[field.name] = value.map((element, i) => writeValue(field.value, element, `${fieldPath}[${i}]`, depth));
      }
    } else if (field.label === 'map') {
      if (!isObject(value)) fail(fieldPath, 'an object', value);
      const entries = Object.entries(value);
      if (entries.length > 0) {
        json[field.name] = Object.fromEntries(
          entries.map(([key, element]) => [key, writeValue(field.value, element, `${fieldPath}${pathKey(key)}`, depth)]),
        );
      }
    } else {
      json[field.name] = writeValue(field.value, value, fieldPath, depth);
    }
  }
  return json;
}

function writeValue(kind: ValueKind, value: unknown, path: string, depth: number): unknown {
  switch (kind.kind) {
    case 'message':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'an object', value);
      return writeMessage(kind.type, value, path, depth + 1);
    case 'enum': {
      const name = typeof value === 'number' ? kind.type.byNumber.get(value)
        : typeof value === 'string' && kind.type.byName.has(value) ? value
        : undefined;
      if (name === undefined) fail(path, `a value of ${kind.type.name}`, value);
      return name;
    }
    case 'scalar':
      return writeScalar(kind.type, value, path);
  }
}

function writeScalar(type: ScalarType, value: unknown, path: string): unknown {
  switch (type) {
    case 'string':
      if (typeof value !== 'string') fail(path, 'a string', value);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') fail(path, 'a boolean', value);
      return value;
    case 'bytes':
      if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
      // protobufjs represents bytes given as strings as base64 already.
      if (typeof value === 'string' && BASE64.test(value)) return value;
      return fail(path, 'bytes (a Uint8Array)', value);
    case 'double':
    case 'float':
      if (typeof value !== 'number') fail(path, 'a number', value);
      return Number.isFinite(value) ? value : String(value);
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      if (typeof value === 'number' || typeof value === 'bigint') return Number(value);
      if (typeof value === 'string' && JSON_NUMBER.test(value)) return Number(value);
      if (isLongLike(value)) return longToNumber(value, type === 'uint64' || type === 'fixed64');
      return fail(path, 'an integer', value);
    default:
      if (typeof value !== 'number') fail(path, 'a number', value);
      return value;
  }
}

function isLongLike(value: unknown): value is LongLike {
  return isObject(value) && typeof value.low === 'number' && typeof value.high === 'number';
}

function longToNumber(value: LongLike, unsigned: boolean): number {
  const high = unsigned || value.unsigned ? value.high >>> 0 : value.high | 0;
  return high * 2 ** 32 + (value.low >>> 0);
}

// Paths of proto2 `required` fields missing from `message`, recursively (e.g. "update.status.state").
// The generated static encoders do not check these; the agent rejects such a message.
export function missingRequiredFields(typeName: string, message: object): string[] {
  const missing: string[] = [];
  collectMissing(messageType(typeName), message as Record<string, unknown>, '', missing, 1);
  return missing;
}

function collectMissing(type: MessageType, message: Record<string, unknown>, path: string, missing: string[], depth: number): void {
  checkDepth(depth, path);
  for (const field of type.fields) {
    const fieldPath = path ? `${path}.${field.name}` : field.name;
    const present = Object.hasOwn(message, field.name) && message[field.name] != null;
    if (!present) {
      if (field.label === 'required') missing.push(fieldPath);
      continue;
    }
    if (field.value.kind !== 'message') continue;
    const value = message[field.name];
    const nested = field.value.type;
    if (field.label === 'repeated' && Array.isArray(value)) {
      value.forEach((element, i) => {
        if (isObject(element)) collectMissing(nested, element, `${fieldPath}[${i}]`, missing, depth + 1);
      });
    } else if (field.label === 'map' && isObject(value)) {
      for (const [key, element] of Object.entries(value)) {
        if (isObject(element)) collectMissing(nested, element, `${fieldPath}${pathKey(key)}`, missing, depth + 1);
      }
    } else if (isObject(value)) {
      collectMissing(nested, value, fieldPath, missing, depth + 1);
    }
  }
}

// Messages nest by recursion here: a bound keeps absurd input from overflowing the stack.
function checkDepth(depth: number, path: string): void {
  if (depth > MAX_NESTING) throw new CodecError(`${path}: messages nested deeper than ${MAX_NESTING} levels`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function pathKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  switch (typeof value) {
    // Never the text itself: it may be a secret in the wrong place.
    case 'string':
      return `a string of ${Buffer.byteLength(value, 'utf8')} bytes`;
    case 'object':
      return 'an object';
    case 'undefined':
      return 'undefined';
    default:
      return String(value);
  }
}

// "an int64", but "a uint32" and "a sint64".
function article(typeName: string): string {
  return typeName.startsWith('int') ? 'an' : 'a';
}

function fail(path: string, expected: string, got: unknown): never {
  throw new CodecError(`${path || '(top level)'}: expected ${expected}, got ${describe(got)}`);
}
