// Encoding and decoding of executor Calls, Events and any other mesos.v1 message in both content
// types of the v1 Executor HTTP API: protobuf binary, or Mesos JSON (see mesos-json.ts).
import { mesos } from '../proto/generated/mesos.js';
import { CodecError } from './errors.js';
import { fromMesosJson, isMessageType, MAX_NESTING, missingRequiredFields, parseJsonTolerant, toMesosJson } from './mesos-json.js';

export { mesos };

export type ContentType = 'application/json' | 'application/x-protobuf';

export const APPLICATION_JSON: ContentType = 'application/json';
export const APPLICATION_PROTOBUF: ContentType = 'application/x-protobuf';

type Namespace = { mesos: typeof mesos };

// The generated class (constructor + static codec) for a dotted name, at the type level.
type Lookup<Scope, Name extends string> = Name extends `${infer Head}.${infer Rest}`
  ? Head extends keyof Scope ? Lookup<Scope[Head], Rest> : never
  : Name extends keyof Scope ? Scope[Name] : never;

type AnyClass = abstract new (...args: never[]) => object;

// Every message type name of the generated code, e.g. 'mesos.v1.TaskInfo'.
type Names<Scope, Prefix extends string> = {
  [K in keyof Scope & string]: K extends 'prototype'
    ? never
    : Scope[K] extends AnyClass & { decode: unknown }
      ? `${Prefix}${K}` | Names<Scope[K], `${Prefix}${K}.`>
      : Scope[K] extends (...args: never[]) => unknown
        ? never
        : Scope[K] extends object ? Names<Scope[K], `${Prefix}${K}.`> : never;
}[keyof Scope & string];

export type MessageTypeName = Names<Namespace, ''>;

// The decoded instance type for a name: MessageOf<'mesos.v1.TaskInfo'> is mesos.v1.TaskInfo.
export type MessageOf<Name extends MessageTypeName> =
  Lookup<Namespace, Name> extends abstract new (...args: never[]) => infer Instance ? Instance : never;

// What may be encoded for a name: the generated `$Properties` interface (plain objects welcome).
export type PropertiesOf<Name extends MessageTypeName> =
  Lookup<Namespace, Name> extends abstract new (properties?: infer Properties) => object ? NonNullable<Properties> : never;

interface MessageClass {
  encode(message: object): { finish(): Uint8Array };
  decode(bytes: Uint8Array): object;
  fromObject(object: Record<string, unknown>): object;
}

const namespace: Namespace = { mesos };

function messageClass(typeName: string): MessageClass {
  let current: unknown = namespace;
  for (const part of typeName.split('.')) {
    current = typeof current === 'object' || typeof current === 'function'
      ? (current as Record<string, unknown> | null)?.[part]
      : undefined;
  }
  if (typeof current !== 'function' || !isMessageType(typeName)) {
    throw new CodecError(`Unknown message type '${typeName}'`);
  }
  return current as unknown as MessageClass;
}

// Encodes `message` as `contentType`. Required fields are checked first (the generated encoders
// would write garbage or throw on them), and the error names every missing one.
export function encodeMessage<Name extends MessageTypeName>(
  typeName: Name,
  message: PropertiesOf<Name>,
  contentType: ContentType,
): Buffer {
  const type = messageClass(typeName);
  if (contentType !== APPLICATION_PROTOBUF && contentType !== APPLICATION_JSON) {
    throw new CodecError(`Unsupported content type '${String(contentType)}'`);
  }
  try {
    const instance = type.fromObject(message as Record<string, unknown>);
    const missing = missingRequiredFields(typeName, instance);
    if (missing.length > 0) throw new CodecError(`missing required fields: ${missing.join(', ')}`);
    if (contentType === APPLICATION_JSON) return Buffer.from(JSON.stringify(toMesosJson(typeName, instance)), 'utf8');
    const bytes = type.encode(instance).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (err) {
    throw new CodecError(`Failed to encode ${typeName}: ${errorMessage(err)}`, { cause: err });
  }
}

// Decodes `body` of `contentType` into a generated message instance. Unset fields read as their
// proto2 defaults; test presence with Object.hasOwn(instance, 'field').
export function decodeMessage<Name extends MessageTypeName>(
  typeName: Name,
  body: Uint8Array,
  contentType: ContentType,
): MessageOf<Name> {
  return decodeAs(typeName, body, contentType, `Failed to de-serialize ${typeName}`) as MessageOf<Name>;
}

// Mesos JSON is UTF-8; invalid sequences are an error rather than U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeAs(typeName: string, body: Uint8Array, contentType: ContentType, failure: string): object {
  const type = messageClass(typeName);
  try {
    if (contentType === APPLICATION_PROTOBUF) return type.decode(body);
    if (contentType !== APPLICATION_JSON) throw new CodecError(`Unsupported content type '${String(contentType)}'`);
    return fromJsonValue(type, typeName, parseJsonTolerant(utf8.decode(body)));
  } catch (err) {
    throw new CodecError(`${failure}: ${errorMessage(err)}`, { cause: err });
  }
}

function fromJsonValue(type: MessageClass, typeName: string, json: unknown): object {
  const instance = type.fromObject(fromMesosJson(typeName, json));
  const missing = missingRequiredFields(typeName, instance);
  if (missing.length > 0) throw new CodecError(`Missing required fields: ${missing.join(', ')}`);
  return instance;
}

// decodeMessage for Mesos JSON that is already parsed (with parseJsonTolerant): re-serializing it
// with JSON.stringify first would turn Infinity limits into null.
export function decodeJsonValue<Name extends MessageTypeName>(typeName: Name, json: unknown): MessageOf<Name> {
  const type = messageClass(typeName);
  try {
    return fromJsonValue(type, typeName, json) as MessageOf<Name>;
  } catch (err) {
    throw new CodecError(`Failed to de-serialize ${typeName}: ${errorMessage(err)}`, { cause: err });
  }
}

export function encodeCall(call: mesos.v1.executor.Call.$Properties, contentType: ContentType): Buffer {
  return encodeMessage('mesos.v1.executor.Call', call, contentType);
}

export function decodeCall(body: Uint8Array, contentType: ContentType): mesos.v1.executor.Call {
  return decodeAs('mesos.v1.executor.Call', body, contentType, 'Failed to de-serialize call') as mesos.v1.executor.Call;
}

export function encodeEvent(event: mesos.v1.executor.Event.$Properties, contentType: ContentType): Buffer {
  return encodeMessage('mesos.v1.executor.Event', event, contentType);
}

// The reference library turns this failure into a local ERROR event and keeps reading.
export function decodeEvent(body: Uint8Array, contentType: ContentType): mesos.v1.executor.Event {
  return decodeAs('mesos.v1.executor.Event', body, contentType, 'Failed to de-serialize event') as mesos.v1.executor.Event;
}

// protobufjs words some failures tersely: say which message lacks a field, and what "max depth" means.
function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.message === 'max depth exceeded') return `messages nested deeper than ${MAX_NESTING} levels`;
  const instance: unknown = (err as { instance?: unknown }).instance;
  const typeName = typeof instance === 'object' && instance !== null ? classNames().get(instance.constructor) : undefined;
  if (err.name === 'ProtocolError' && typeName) return `${err.message} in a ${typeName}`;
  return err.message;
}

let classNameMap: Map<unknown, string> | undefined;

// Generated class -> its short proto name (e.g. 'TaskInfo'); constructor.name is mangled in the bundle.
function classNames(): Map<unknown, string> {
  if (classNameMap) return classNameMap;
  const found = new Map<unknown, string>();
  const visit = (scope: unknown, depth: number): void => {
    if (depth > 8 || (typeof scope !== 'object' && typeof scope !== 'function') || scope === null) return;
    for (const [key, value] of Object.entries(scope)) {
      if (typeof value === 'function' && typeof (value as { decode?: unknown }).decode === 'function') found.set(value, key);
      if (/^[A-Za-z]/.test(key) && key !== 'prototype') visit(value, depth + 1);
    }
  };
  visit(namespace, 0);
  classNameMap = found;
  return found;
}
