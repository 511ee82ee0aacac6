import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeCall,
  decodeEvent,
  decodeJsonValue,
  decodeMessage,
  encodeCall,
  encodeEvent,
  encodeMessage,
  mesos,
  type ContentType,
} from '../../src/protocol/codec.js';
import { CodecError } from '../../src/protocol/errors.js';
import { parseJsonTolerant, toMesosJson } from '../../src/protocol/mesos-json.js';

import Call = mesos.v1.executor.Call;
import Event = mesos.v1.executor.Event;

const CONTENT_TYPES: ContentType[] = ['application/x-protobuf', 'application/json'];
const UUID_HEX = '3f2b8c1e7d4a4f6b9c2d1a2b3c4d5e6f';
const UUID = Buffer.from(UUID_HEX, 'hex');
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const json = (text: string) => Buffer.from(text, 'utf8');

function codecError(pattern: RegExp) {
  return (err: unknown) => err instanceof CodecError && err.code === 'ERR_CODEC' && pattern.test(err.message);
}

const subscribe: Call.$Properties = {
  executor_id: { value: 'e' },
  framework_id: { value: 'f' },
  type: Call.Type.SUBSCRIBE,
  subscribe: {},
};

// Bytes worked out by hand from the field numbers (tag = number << 3 | wire type):
//   0a 03 {0a 01 "e"}   executor_id (1, length-delimited) = ExecutorID{value (1) = "e"}
//   12 03 {0a 01 "f"}   framework_id (2)
//   18 01               type (3, varint) = SUBSCRIBE
//   22 00               subscribe (4), empty but present
const SUBSCRIBE_HEX = '0a030a0165' + '12030a0166' + '1801' + '2200';

// UPDATE: type (3) = 2, update (5, tag 2a) { status (1, tag 0a) { task_id (1), state (2) =
// TASK_RUNNING, timestamp (6, 64-bit, tag 31) = 1.5, source (9, tag 48) = SOURCE_EXECUTOR,
// uuid (11, tag 5a) = 16 bytes } }. Fields go out in field-number order, as protoc writes them.
const UPDATE_HEX =
  '0a030a0165' + '12030a0166' + '1802' +
  '2a26' + '0a24' +
  '0a030a0174' + '1001' + '31000000000000f83f' + '4802' + '5a10' + UUID_HEX;

const update: Call.$Properties = {
  executor_id: { value: 'e' },
  framework_id: { value: 'f' },
  type: Call.Type.UPDATE,
  update: {
    status: {
      task_id: { value: 't' },
      state: mesos.v1.TaskState.TASK_RUNNING,
      source: mesos.v1.TaskStatus.Source.SOURCE_EXECUTOR,
      uuid: UUID,
      timestamp: 1.5,
    },
  },
};

// ACKNOWLEDGED: type (1) = 4, acknowledged (3, tag 1a) { task_id (1), uuid (2, tag 12) }.
const ACKNOWLEDGED_HEX = '0804' + '1a17' + '0a030a0174' + '1210' + UUID_HEX;

test('encodeCall writes the known bytes of a SUBSCRIBE with an empty subscribe', () => {
  assert.equal(hex(encodeCall(subscribe, 'application/x-protobuf')), SUBSCRIBE_HEX);
});

test('encodeCall writes the known bytes of an UPDATE with a 16-byte uuid', () => {
  assert.equal(hex(encodeCall(update, 'application/x-protobuf')), UPDATE_HEX);
});

test('Call.Message.data goes out with tag 2 (there is no field 1)', () => {
  const bytes = encodeCall(
    { executor_id: { value: 'e' }, framework_id: { value: 'f' }, type: Call.Type.MESSAGE, message: { data: Buffer.from('hi') } },
    'application/x-protobuf',
  );
  // message (6, tag 32) { data (2, tag 12) = "hi" }
  assert.equal(hex(bytes), '0a030a0165' + '12030a0166' + '1803' + '3204' + '12026869');
  assert.equal(Buffer.from(decodeCall(bytes, 'application/x-protobuf').message!.data).toString(), 'hi');
});

test('decodeCall reads the known bytes back', () => {
  const call = decodeCall(Buffer.from(UPDATE_HEX, 'hex'), 'application/x-protobuf');
  assert.equal(call.type, Call.Type.UPDATE);
  assert.equal(call.executor_id.value, 'e');
  assert.equal(call.update!.status.state, mesos.v1.TaskState.TASK_RUNNING);
  assert.equal(call.update!.status.timestamp, 1.5);
  assert.equal(hex(call.update!.status.uuid!), UUID_HEX);
});

test('decodeEvent reads the known bytes of an ACKNOWLEDGED event, and encodeEvent writes them', () => {
  const event = decodeEvent(Buffer.from(ACKNOWLEDGED_HEX, 'hex'), 'application/x-protobuf');
  assert.equal(event.type, Event.Type.ACKNOWLEDGED);
  assert.equal(event.acknowledged!.task_id.value, 't');
  assert.equal(hex(event.acknowledged!.uuid), UUID_HEX);
  assert.equal(
    hex(encodeEvent({ type: Event.Type.ACKNOWLEDGED, acknowledged: { task_id: { value: 't' }, uuid: UUID } }, 'application/x-protobuf')),
    ACKNOWLEDGED_HEX,
  );
});

test('JSON output uses enum names and base64 bytes', () => {
  const body = JSON.parse(encodeCall(update, 'application/json').toString('utf8'));
  assert.deepEqual(body, {
    executor_id: { value: 'e' },
    framework_id: { value: 'f' },
    type: 'UPDATE',
    update: {
      status: {
        task_id: { value: 't' },
        state: 'TASK_RUNNING',
        source: 'SOURCE_EXECUTOR',
        timestamp: 1.5,
        uuid: 'PyuMHn1KT2ucLRorPE1ebw==',
      },
    },
  });
  assert.equal(
    encodeCall(subscribe, 'application/json').toString('utf8'),
    '{"executor_id":{"value":"e"},"framework_id":{"value":"f"},"type":"SUBSCRIBE","subscribe":{}}',
  );
});

const task: mesos.v1.TaskInfo.$Properties = {
  name: 'web',
  task_id: { value: 'web.1' },
  agent_id: { value: 'S0' },
  resources: [
    { name: 'cpus', type: mesos.v1.Value.Type.SCALAR, scalar: { value: 0.5 }, allocation_info: { role: '*' } },
    { name: 'ports', type: mesos.v1.Value.Type.RANGES, ranges: { range: [{ begin: 31000, end: 31005 }] } },
  ],
  command: { shell: true, value: "nginx -g 'daemon off;'", environment: { variables: [{ name: 'FOO', value: 'bar' }] } },
  container: {
    type: mesos.v1.ContainerInfo.Type.DOCKER,
    docker: {
      image: 'nginx:alpine',
      network: mesos.v1.ContainerInfo.DockerInfo.Network.BRIDGE,
      port_mappings: [{ host_port: 31000, container_port: 80, protocol: 'tcp' }],
      parameters: [{ key: 'label', value: 'a=b' }],
    },
    volumes: [{ container_path: 'data', host_path: '/srv/data', mode: mesos.v1.Volume.Mode.RO }],
  },
  health_check: {
    type: mesos.v1.HealthCheck.Type.HTTP,
    http: { port: 80, path: '/health', statuses: [200, 204] },
    consecutive_failures: 5,
  },
  kill_policy: { grace_period: { nanoseconds: 3_000_000_000 } },
  max_completion_time: { nanoseconds: 60_000_000_000 },
  data: Buffer.from([0, 1, 2, 255]),
  limits: { cpus: { value: 1 }, mem: { value: Infinity } },
};

const calls: Array<[string, Call.$Properties]> = [
  ['SUBSCRIBE', subscribe],
  ['UPDATE', update],
  ['re-SUBSCRIBE', {
    ...subscribe,
    subscribe: { unacknowledged_tasks: [task], unacknowledged_updates: [{ status: update.update!.status }] },
  }],
  ['MESSAGE', { executor_id: { value: 'e' }, framework_id: { value: 'f' }, type: Call.Type.MESSAGE, message: { data: Buffer.from('x') } }],
  ['HEARTBEAT', { executor_id: { value: 'unused' }, framework_id: { value: 'unused' }, type: Call.Type.HEARTBEAT }],
];

const events: Array<[string, Event.$Properties]> = [
  ['SUBSCRIBED', {
    type: Event.Type.SUBSCRIBED,
    subscribed: {
      executor_info: { executor_id: { value: 'e' }, type: mesos.v1.ExecutorInfo.Type.CUSTOM, shutdown_grace_period: { nanoseconds: 5_000_000_000 } },
      framework_info: {
        user: 'root', name: 'fw', id: { value: 'f' }, checkpoint: true,
        capabilities: [{ type: mesos.v1.FrameworkInfo.Capability.Type.TASK_KILLING_STATE }],
      },
      agent_info: { hostname: 'agent', port: 5051, id: { value: 'S0' } },
      container_id: { value: 'c' },
    },
  }],
  ['LAUNCH', { type: Event.Type.LAUNCH, launch: { task } }],
  ['LAUNCH_GROUP', { type: Event.Type.LAUNCH_GROUP, launch_group: { task_group: { tasks: [task] } } }],
  ['KILL', { type: Event.Type.KILL, kill: { task_id: { value: 't' }, kill_policy: { grace_period: { nanoseconds: 100 } } } }],
  ['ACKNOWLEDGED', { type: Event.Type.ACKNOWLEDGED, acknowledged: { task_id: { value: 't' }, uuid: UUID } }],
  ['MESSAGE', { type: Event.Type.MESSAGE, message: { data: Buffer.from('from the scheduler') } }],
  ['ERROR', { type: Event.Type.ERROR, error: { message: 'oops' } }],
  ['SHUTDOWN', { type: Event.Type.SHUTDOWN }],
  ['HEARTBEAT', { type: Event.Type.HEARTBEAT }],
];

for (const contentType of CONTENT_TYPES) {
  for (const [name, call] of calls) {
    test(`a ${name} Call round-trips through ${contentType}`, () => {
      const decoded = decodeCall(encodeCall(call, contentType), contentType);
      assert.ok(decoded instanceof Call);
      assert.deepEqual(toMesosJson('mesos.v1.executor.Call', decoded), toMesosJson('mesos.v1.executor.Call', call));
    });
  }
  for (const [name, event] of events) {
    test(`a ${name} Event round-trips through ${contentType}`, () => {
      const decoded = decodeEvent(encodeEvent(event, contentType), contentType);
      assert.ok(decoded instanceof Event);
      assert.deepEqual(toMesosJson('mesos.v1.executor.Event', decoded), toMesosJson('mesos.v1.executor.Event', event));
    });
  }
}

test('JSON and protobuf decode to the same message', () => {
  for (const [, call] of calls) {
    assert.equal(
      hex(encodeCall(decodeCall(encodeCall(call, 'application/json'), 'application/json'), 'application/x-protobuf')),
      hex(encodeCall(call, 'application/x-protobuf')),
    );
  }
});

test('a bare Infinity limit from the agent survives JSON and protobuf', () => {
  const body = '{"type":"LAUNCH","launch":{"task":{"name":"t","task_id":{"value":"t"},"agent_id":{"value":"a"},' +
    '"limits":{"cpus":{"value":2.0},"mem":{"value":Infinity}}}}}';
  const event = decodeEvent(json(body), 'application/json');
  assert.equal(event.launch!.task.limits!.mem!.value, Infinity);
  assert.equal(event.launch!.task.limits!.cpus!.value, 2);

  const again = decodeEvent(encodeEvent(event, 'application/x-protobuf'), 'application/x-protobuf');
  assert.equal(again.launch!.task.limits!.mem!.value, Infinity);

  const out = encodeEvent(again, 'application/json').toString('utf8');
  assert.match(out, /"mem":\{"value":"Infinity"\}/);
  assert.equal(decodeEvent(json(out), "application/json").launch!.task.limits!.mem!.value, Infinity);
});

test('64-bit integers decode as plain numbers', () => {
  const event = decodeEvent(encodeEvent(events[1]![1], 'application/x-protobuf'), 'application/x-protobuf');
  const nanoseconds: unknown = event.launch!.task.max_completion_time!.nanoseconds;
  assert.equal(typeof nanoseconds, 'number');
  assert.equal(nanoseconds, 60_000_000_000);
  assert.deepEqual(event.launch!.task.resources![1]!.ranges!.range![0], new mesos.v1.Value.Range({ begin: 31000, end: 31005 }));
});

test('unset fields read as proto2 defaults; presence is an own property', () => {
  const launch: Event.$Properties = {
    type: Event.Type.LAUNCH,
    launch: { task: { name: 't', task_id: { value: 't' }, agent_id: { value: 'a' }, command: { value: 'ls' }, container: { type: mesos.v1.ContainerInfo.Type.DOCKER, docker: { image: 'i' } } } },
  };
  for (const contentType of CONTENT_TYPES) {
    const decoded = decodeEvent(encodeEvent(launch, contentType), contentType).launch!.task;
    assert.equal(decoded.command!.shell, true);
    assert.equal(Object.hasOwn(decoded.command!, 'shell'), false);
    assert.equal(Object.hasOwn(decoded.command!, 'value'), true);
    assert.equal(decoded.container!.docker!.network, mesos.v1.ContainerInfo.DockerInfo.Network.HOST);
    assert.equal(Object.hasOwn(decoded.container!.docker!, 'network'), false);
    assert.equal(Object.hasOwn(decoded, 'health_check'), false);
    assert.equal(decoded.health_check, null);
  }
});

test('the JSON examples of the spec (Appendix A) parse', () => {
  const inspect = Buffer.from('[{"Id":"abc","State":{"Running":true}}]').toString('base64');
  const subscribeCall = decodeCall(json(`{"type":"SUBSCRIBE",
    "framework_id":{"value":"9aaa9d0d-e00d-444f-bfbd-23dd197939a0-0000"},
    "executor_id":{"value":"my-task-1"},
    "subscribe":{}}`), 'application/json');
  assert.equal(subscribeCall.type, Call.Type.SUBSCRIBE);
  assert.ok(subscribeCall.subscribe);

  const updateCall = decodeCall(json(`{"type":"UPDATE",
    "framework_id":{"value":"9aaa9d0d-e00d-444f-bfbd-23dd197939a0-0000"},
    "executor_id":{"value":"my-task-1"},
    "update":{"status":{
      "task_id":{"value":"my-task-1"},
      "state":"TASK_RUNNING",
      "source":"SOURCE_EXECUTOR",
      "executor_id":{"value":"my-task-1"},
      "uuid":"PyuMHn1KT2ucLRorPE1ebw==",
      "timestamp":1724441940.123,
      "data":"${inspect}",
      "container_status":{"network_infos":[{"ip_addresses":[{"protocol":"IPv4","ip_address":"172.17.0.2"}]}]}}}}`), 'application/json');
  const status = updateCall.update!.status;
  assert.equal(hex(status.uuid!), UUID_HEX);
  assert.equal(status.timestamp, 1724441940.123);
  assert.equal(status.source, mesos.v1.TaskStatus.Source.SOURCE_EXECUTOR);
  assert.equal(Buffer.from(status.data!).toString(), '[{"Id":"abc","State":{"Running":true}}]');
  assert.equal(status.container_status!.network_infos![0]!.ip_addresses![0]!.ip_address, '172.17.0.2');

  // The appendix elides the TaskInfo and update bodies with "..."; filled in here.
  const resubscribe = decodeCall(json(`{"type":"SUBSCRIBE",
    "framework_id":{"value":"fw"}, "executor_id":{"value":"my-task-1"},
    "subscribe":{
      "unacknowledged_tasks":[ { "name":"my-task", "task_id":{"value":"my-task-1"}, "agent_id":{"value":"S0"},
                                 "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1},"allocation_info":{"role":"*"}}],
                                 "command":{"shell":true,"value":"sleep 10"},
                                 "container":{"type":"DOCKER","docker":{"image":"alpine","network":"HOST","privileged":false}} } ],
      "unacknowledged_updates":[ {"status":{ "task_id":{"value":"my-task-1"}, "state":"TASK_STARTING",
                                             "source":"SOURCE_EXECUTOR", "uuid":"PyuMHn1KT2ucLRorPE1ebw==", "timestamp":1724441939.5 }} ]}}`), 'application/json');
  assert.equal(resubscribe.subscribe!.unacknowledged_tasks![0]!.container!.docker!.image, 'alpine');
  assert.equal(resubscribe.subscribe!.unacknowledged_updates![0]!.status.state, mesos.v1.TaskState.TASK_STARTING);

  const ack = decodeEvent(json('{"type":"ACKNOWLEDGED","acknowledged":{"task_id":{"value":"my-task-1"},"uuid":"PyuMHn1KT2ucLRorPE1ebw=="}}'), 'application/json');
  assert.equal(hex(ack.acknowledged!.uuid), UUID_HEX);

  const kill = decodeEvent(json('{"type":"KILL","kill":{"task_id":{"value":"my-task-1"},"kill_policy":{"grace_period":{"nanoseconds":100}}}}'), 'application/json');
  assert.equal(kill.kill!.kill_policy!.grace_period!.nanoseconds, 100);
});

test('encodeCall names missing required fields before encoding', () => {
  for (const contentType of CONTENT_TYPES) {
    assert.throws(
      () => encodeCall({ executor_id: { value: 'e' }, type: Call.Type.UPDATE, update: { status: { task_id: {} } } } as unknown as Call.$Properties, contentType),
      codecError(/missing required fields: framework_id, update\.status\.task_id\.value, update\.status\.state$/),
    );
  }
});

test('decodeEvent reports undecodable bodies as "Failed to de-serialize event"', () => {
  const cases: Array<[Uint8Array, ContentType, RegExp]> = [
    [Buffer.from('0a', 'hex'), 'application/x-protobuf', /^Failed to de-serialize event: /],
    [Buffer.from('0804' + '1a05' + '0a030a0174', 'hex'), 'application/x-protobuf', /^Failed to de-serialize event: missing required 'uuid'/],
    [json('{"type":"KILL",'), 'application/json', /^Failed to de-serialize event: /],
    [json('[1]'), 'application/json', /^Failed to de-serialize event: Expected a JSON object/],
    [json('{"type":"KILL","kill":{}}'), 'application/json', /^Failed to de-serialize event: Missing required fields: kill\.task_id$/],
    [json('{"type":"KILL","kill":{"task_id":{"value":5}}}'), 'application/json', /^Failed to de-serialize event: kill\.task_id\.value: expected a string, got 5$/],
    [Buffer.from([0x7b, 0xff, 0x7d]), 'application/json', /^Failed to de-serialize event: /],
  ];
  for (const [body, contentType, pattern] of cases) {
    assert.throws(() => decodeEvent(body, contentType), (err: unknown) => {
      assert.ok(err instanceof CodecError);
      assert.equal(err.code, 'ERR_CODEC');
      assert.match(err.message, pattern);
      assert.ok(err.cause instanceof Error, 'the underlying error is kept');
      return true;
    });
  }
});

test('decodeEvent keeps reading past fields it does not know', () => {
  // ACKNOWLEDGED plus field 99 (varint) that a newer agent might send.
  const event = decodeEvent(Buffer.from(ACKNOWLEDGED_HEX + '98' + '06' + '01', 'hex'), 'application/x-protobuf');
  assert.equal(event.type, Event.Type.ACKNOWLEDGED);
  const fromJson = decodeEvent(json('{"type":"HEARTBEAT","heartbeat":{"future":true}}'), 'application/json');
  assert.equal(fromJson.type, Event.Type.HEARTBEAT);
});

test('an unknown optional enum name in JSON is dropped, so the event reads as UNKNOWN', () => {
  const event = decodeEvent(json('{"type":"SOMETHING_NEW"}'), 'application/json');
  assert.equal(Object.hasOwn(event, 'type'), false);
  assert.equal(event.type, Event.Type.UNKNOWN);
});

test('encodeMessage and decodeMessage handle any mesos.v1 type, e.g. a TaskInfo in Mesos JSON', () => {
  const text = encodeMessage('mesos.v1.TaskInfo', task, 'application/json');
  const parsed = decodeMessage('mesos.v1.TaskInfo', text, 'application/json');
  assert.ok(parsed instanceof mesos.v1.TaskInfo);
  assert.equal(parsed.container!.docker!.port_mappings![0]!.container_port, 80);
  assert.deepEqual(parsed.health_check!.http!.statuses, [200, 204]);
  const bytes = encodeMessage('mesos.v1.TaskInfo', parsed, 'application/x-protobuf');
  assert.equal(decodeMessage('mesos.v1.TaskInfo', bytes, 'application/x-protobuf').name, 'web');

  assert.throws(
    () => decodeMessage('mesos.v1.TaskInfo', json('{"name":"n","task_id":{"value":"t"}}'), 'application/json'),
    codecError(/^Failed to de-serialize mesos\.v1\.TaskInfo: Missing required fields: agent_id$/),
  );
  assert.throws(
    () => decodeMessage('mesos.v1.Nope' as 'mesos.v1.TaskInfo', json('{}'), 'application/json'),
    codecError(/Unknown message type 'mesos\.v1\.Nope'/),
  );
  assert.throws(
    () => encodeMessage('mesos.v1.TaskID', { value: 'x' }, 'text/plain' as ContentType),
    codecError(/Unsupported content type 'text\/plain'/),
  );
});

test('decodeJsonValue takes Mesos JSON that is already parsed, Infinity included', () => {
  const parsed = parseJsonTolerant('{"name":"t","task_id":{"value":"t"},"agent_id":{"value":"a"},"limits":{"mem":{"value":Infinity}}}');
  const taskInfo = decodeJsonValue('mesos.v1.TaskInfo', parsed);
  assert.ok(taskInfo instanceof mesos.v1.TaskInfo);
  assert.equal(taskInfo.limits!.mem!.value, Infinity);
  assert.throws(
    () => decodeJsonValue('mesos.v1.TaskInfo', { name: 't', task_id: { value: 't' } }),
    codecError(/^Failed to de-serialize mesos\.v1\.TaskInfo: Missing required fields: agent_id$/),
  );
  assert.throws(
    () => decodeJsonValue('mesos.v1.TaskInfo', 'a string'),
    codecError(/^Failed to de-serialize mesos\.v1\.TaskInfo: Expected a JSON object for mesos\.v1\.TaskInfo, got a string of 8 bytes$/),
  );
});
