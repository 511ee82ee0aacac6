import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CodecError } from '../../src/protocol/errors.js';
import {
  fromMesosJson,
  missingRequiredFields,
  parseJsonTolerant,
  toMesosJson,
} from '../../src/protocol/mesos-json.js';
import { mesos } from '../../src/protocol/codec.js';

const { TaskState } = mesos.v1;
const { Reason } = mesos.v1.TaskStatus;

const UUID_HEX = '3f2b8c1e7d4a4f6b9c2d1a2b3c4d5e6f';
const UUID_BASE64 = 'PyuMHn1KT2ucLRorPE1ebw==';

function codecError(pattern: RegExp) {
  return (err: unknown) => err instanceof CodecError && err.code === 'ERR_CODEC' && pattern.test(err.message);
}

test('parseJsonTolerant reads bare Infinity, -Infinity and NaN values', () => {
  const parsed = parseJsonTolerant('{"a": Infinity, "b": [-Infinity, NaN, 1], "c": {"d":Infinity}}') as {
    a: number; b: number[]; c: { d: number };
  };
  assert.equal(parsed.a, Infinity);
  assert.equal(parsed.b[0], -Infinity);
  assert.ok(Number.isNaN(parsed.b[1]));
  assert.equal(parsed.b[2], 1);
  assert.equal(parsed.c.d, Infinity);
});

test('parseJsonTolerant leaves the same words inside strings alone', () => {
  assert.deepEqual(parseJsonTolerant('{"Infinity": "NaN -Infinity \\" Infinity", "x": Infinity}'), {
    Infinity: 'NaN -Infinity " Infinity',
    x: Infinity,
  });
  assert.deepEqual(parseJsonTolerant('{"a": [1, 2]}'), { a: [1, 2] });
});

test('parseJsonTolerant still rejects what is not JSON', () => {
  assert.throws(() => parseJsonTolerant('{Infinity: 1}'), SyntaxError);
  assert.throws(() => parseJsonTolerant('[Infinityx]'), SyntaxError);
  assert.throws(() => parseJsonTolerant('[Infinity'), SyntaxError);
  assert.throws(() => parseJsonTolerant('{"a": 1,}'), SyntaxError);
});

test('fromMesosJson takes snake_case names verbatim and ignores unknown and camelCase keys', () => {
  const call = fromMesosJson('mesos.v1.executor.Call', {
    type: 'SUBSCRIBE',
    executor_id: { value: 'e' },
    frameworkId: { value: 'ignored' },
    framework_id: { value: 'f', extra: 1 },
    future_field: { anything: true },
    subscribe: {},
  });
  assert.deepEqual(call, {
    executor_id: { value: 'e' },
    framework_id: { value: 'f' },
    type: mesos.v1.executor.Call.Type.SUBSCRIBE,
    subscribe: {},
  });
});

test('fromMesosJson treats null as unset', () => {
  const status = fromMesosJson('mesos.v1.TaskStatus', {
    task_id: { value: 't' }, state: 'TASK_RUNNING', message: null, labels: null, uuid: null,
  });
  assert.deepEqual(status, { task_id: { value: 't' }, state: mesos.v1.TaskState.TASK_RUNNING });
});

test('fromMesosJson reads enums by name and rejects numbers, naming the path', () => {
  const status = fromMesosJson('mesos.v1.TaskStatus', {
    task_id: { value: 't' }, state: 'TASK_KILLING', source: 'SOURCE_EXECUTOR', reason: 'REASON_AGENT_DRAINING',
  });
  assert.equal(status.state, TaskState.TASK_KILLING);
  assert.equal(status.source, mesos.v1.TaskStatus.Source.SOURCE_EXECUTOR);
  assert.equal(status.reason, Reason.REASON_AGENT_DRAINING);
  assert.throws(
    () => fromMesosJson('mesos.v1.executor.Call', { update: { status: { task_id: { value: 't' }, state: 1 } } }),
    codecError(/^update\.status\.state: expected an enum name of mesos\.v1\.TaskState \(a string\), got 1$/),
  );
});

test('fromMesosJson drops an unknown name on an optional enum, as Mesos does', () => {
  const status = fromMesosJson('mesos.v1.TaskStatus', {
    task_id: { value: 't' }, state: 'TASK_RUNNING', source: 'SOURCE_SOMEWHERE_NEW', reason: 'REASON_FROM_THE_FUTURE',
  });
  assert.equal(Object.hasOwn(status, 'source'), false);
  assert.equal(Object.hasOwn(status, 'reason'), false);
  assert.equal(status.state, TaskState.TASK_RUNNING);

  const linux = fromMesosJson('mesos.v1.CapabilityInfo', { capabilities: ['CHOWN', 'NEW_CAPABILITY', 'CHECKPOINT_RESTORE'] });
  assert.deepEqual(linux.capabilities, [mesos.v1.CapabilityInfo.Capability.CHOWN, mesos.v1.CapabilityInfo.Capability.CHECKPOINT_RESTORE]);
});

test('fromMesosJson rejects an unknown name on a required enum', () => {
  assert.throws(
    () => fromMesosJson('mesos.v1.TaskStatus', { task_id: { value: 't' }, state: 'TASK_BOGUS' }),
    codecError(/^state: Failed to find enum for a name of 10 bytes in mesos\.v1\.TaskState/),
  );
});

test('fromMesosJson decodes standard base64 bytes and rejects anything else', () => {
  const ack = fromMesosJson('mesos.v1.executor.Event', {
    type: 'ACKNOWLEDGED', acknowledged: { task_id: { value: 't' }, uuid: UUID_BASE64 },
  }) as { acknowledged: { uuid: Uint8Array } };
  assert.equal(Buffer.from(ack.acknowledged.uuid).toString('hex'), UUID_HEX);

  for (const bad of ['PyuMHn1KT2ucLRorPE1ebw', 'PyuMHn1KT2ucLRorPE1eb w==', 'PyuMHn1KT2ucLRorPE1ebw=*', '-_8=']) {
    assert.throws(
      () => fromMesosJson('mesos.v1.executor.Event', { acknowledged: { task_id: { value: 't' }, uuid: bad } }),
      codecError(/^acknowledged\.uuid: expected standard base64 with padding, got /),
      bad,
    );
  }
  assert.throws(
    () => fromMesosJson('mesos.v1.TaskStatus', { data: [1, 2] }),
    codecError(/^data: expected a base64 string, got an array$/),
  );
});

test('fromMesosJson accepts 64-bit integers as numbers or numeric strings', () => {
  const info = fromMesosJson('mesos.v1.TaskInfo', {
    max_completion_time: { nanoseconds: '5000000000' },
    resources: [{ name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: '31005' }] } }],
  }) as { max_completion_time: { nanoseconds: number }; resources: Array<{ ranges: { range: Array<{ begin: number; end: number }> } }> };
  assert.equal(info.max_completion_time.nanoseconds, 5_000_000_000);
  assert.deepEqual(info.resources[0]!.ranges.range[0], { begin: 31000, end: 31005 });
});

test('fromMesosJson rejects integers of the wrong type or range', () => {
  assert.throws(
    () => fromMesosJson('mesos.v1.DurationInfo', { nanoseconds: 'abc' }),
    codecError(/^nanoseconds: expected an integer, got a string of 3 bytes$/),
  );
  assert.throws(
    () => fromMesosJson('mesos.v1.DurationInfo', { nanoseconds: 1.5 }),
    codecError(/^nanoseconds: expected an integer, got 1.5$/),
  );
  assert.throws(
    () => fromMesosJson('mesos.v1.ContainerInfo.DockerInfo.PortMapping', { host_port: -1, container_port: 80 }),
    codecError(/^host_port: expected a uint32 in \[0, 4294967295\], got -1$/),
  );
});

test('fromMesosJson accepts doubles as numbers or "Infinity"/"-Infinity"/"NaN" strings', () => {
  const task = fromMesosJson('mesos.v1.TaskInfo', {
    limits: { cpus: { value: 'Infinity' }, mem: { value: Infinity }, disk: { value: '-Infinity' }, gpus: { value: 'NaN' } },
    health_check: { delay_seconds: '2.5' },
  }) as { limits: Record<string, { value: number }>; health_check: { delay_seconds: number } };
  assert.equal(task.limits.cpus!.value, Infinity);
  assert.equal(task.limits.mem!.value, Infinity);
  assert.equal(task.limits.disk!.value, -Infinity);
  assert.ok(Number.isNaN(task.limits.gpus!.value));
  assert.equal(task.health_check.delay_seconds, 2.5);
});

test('fromMesosJson accepts bools as booleans or "true"/"false" strings', () => {
  assert.deepEqual(fromMesosJson('mesos.v1.CommandInfo', { shell: 'false' }), { shell: false });
  assert.deepEqual(fromMesosJson('mesos.v1.CommandInfo', { shell: true }), { shell: true });
  assert.throws(() => fromMesosJson('mesos.v1.CommandInfo', { shell: 1 }), codecError(/^shell: expected a boolean, got 1$/));
});

test('fromMesosJson names the full path of a value of the wrong JSON type', () => {
  const event = {
    type: 'LAUNCH',
    launch: {
      task: {
        name: 't', task_id: { value: 't' }, agent_id: { value: 'a' },
        resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 'abc' } }],
      },
    },
  };
  assert.throws(
    () => fromMesosJson('mesos.v1.executor.Event', event),
    codecError(/^launch\.task\.resources\[0\]\.scalar\.value: expected a number, got a string of 3 bytes$/),
  );
  assert.throws(
    () => fromMesosJson('mesos.v1.TaskInfo', { name: 7 }),
    codecError(/^name: expected a string, got 7$/),
  );
  assert.throws(
    () => fromMesosJson('mesos.v1.TaskInfo', { resources: { name: 'cpus' } }),
    codecError(/^resources: expected an array, got an object$/),
  );
  assert.throws(
    () => fromMesosJson('mesos.v1.TaskInfo', { task_id: 'my-task' }),
    codecError(/^task_id: expected an object, got a string of 7 bytes$/),
  );
  assert.throws(
    () => fromMesosJson('mesos.v1.TaskInfo', { limits: { cpus: 2 } }),
    codecError(/^limits\{entry 0\}: expected an object, got 2$/),
  );
  assert.throws(
    () => fromMesosJson('mesos.v1.TaskInfo', { limits: [] }),
    codecError(/^limits: expected an object, got an array$/),
  );
});

test('fromMesosJson requires an object at the top level', () => {
  assert.throws(() => fromMesosJson('mesos.v1.executor.Call', []), codecError(/Expected a JSON object for mesos\.v1\.executor\.Call, got an array/));
  assert.throws(() => fromMesosJson('mesos.v1.executor.Call', 'x'), codecError(/got a string of 1 bytes/));
  assert.throws(() => fromMesosJson('mesos.v1.NoSuchThing', {}), codecError(/Unknown message type 'mesos\.v1\.NoSuchThing'/));
});

test('fromMesosJson reads maps as objects', () => {
  const task = fromMesosJson('mesos.v1.TaskInfo', { limits: { cpus: { value: 2 }, mem: { value: 1024 } } });
  assert.deepEqual(task.limits, { cpus: { value: 2 }, mem: { value: 1024 } });
  const framework = fromMesosJson('mesos.v1.FrameworkInfo', {
    offer_filters: { '*': { min_allocatable_resources: { quantities: [{ quantities: { cpus: { value: 0.5 } } }] } } },
  });
  assert.deepEqual(framework.offer_filters, {
    '*': { min_allocatable_resources: { quantities: [{ quantities: { cpus: { value: 0.5 } } }] } },
  });
});

test('fromMesosJson keeps a "__proto__" map key as a key', () => {
  const task = fromMesosJson('mesos.v1.TaskInfo', JSON.parse('{"limits": {"__proto__": {"value": 1}}}'));
  const limits = task.limits as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(limits), Object.prototype);
  assert.deepEqual(Object.keys(limits), ['__proto__']);
  const instance = mesos.v1.TaskInfo.fromObject(task);
  assert.deepEqual(toMesosJson('mesos.v1.TaskInfo', instance), { limits: { ['__proto__']: { value: 1 } } });
});

test('fromMesosJson reads agent-style JSON that carries every field with a default', () => {
  const task = fromMesosJson('mesos.v1.TaskInfo', {
    name: 'web', task_id: { value: 'web.1' }, agent_id: { value: 'S0' },
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 }, role: '*', allocation_info: { role: '*' } },
      { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31000 }] }, role: '*' },
    ],
    command: {
      shell: true, value: 'sleep 1000',
      uris: [{ value: 'http://x/y.tgz', extract: true, cache: false, executable: false }],
      environment: { variables: [{ name: 'FOO', type: 'VALUE', value: 'bar' }] },
    },
    container: {
      type: 'DOCKER',
      docker: { image: 'alpine', network: 'HOST', privileged: false, force_pull_image: false },
      network_infos: [{ ip_addresses: [{ protocol: 'IPv4' }] }],
      linux_info: { share_cgroups: true },
      mesos: { image: { type: 'DOCKER', docker: { name: 'alpine' }, cached: true } },
    },
    health_check: {
      type: 'COMMAND', command: { shell: true, value: 'true' },
      delay_seconds: 15.0, interval_seconds: 10.0, timeout_seconds: 20.0,
      consecutive_failures: 3, grace_period_seconds: 10.0,
    },
    check: { type: 'TCP', tcp: { port: 80 }, delay_seconds: 15.0, interval_seconds: 10.0, timeout_seconds: 20.0 },
    kill_policy: { grace_period: { nanoseconds: 3000000000 } },
  });
  const instance = mesos.v1.TaskInfo.fromObject(task);
  assert.equal(instance.command!.shell, true);
  assert.equal(instance.container!.docker!.network, mesos.v1.ContainerInfo.DockerInfo.Network.HOST);
  assert.equal(instance.container!.docker!.privileged, false);
  assert.equal(instance.container!.network_infos![0]!.ip_addresses![0]!.protocol, mesos.v1.NetworkInfo.Protocol.IPv4);
  assert.equal(instance.command!.environment!.variables![0]!.type, mesos.v1.Environment.Variable.Type.VALUE);
  assert.equal(instance.health_check!.consecutive_failures, 3);
  assert.equal(instance.resources[0]!.role, '*');
  assert.equal(instance.kill_policy!.grace_period!.nanoseconds, 3_000_000_000);
  assert.deepEqual(missingRequiredFields('mesos.v1.TaskInfo', instance), []);
});

test('toMesosJson writes enum names, base64 bytes and 64-bit integers as numbers', () => {
  const update = mesos.v1.executor.Call.fromObject({
    executor_id: { value: 'e' },
    framework_id: { value: 'f' },
    type: mesos.v1.executor.Call.Type.UPDATE,
    update: {
      status: {
        task_id: { value: 't' },
        state: mesos.v1.TaskState.TASK_RUNNING,
        source: mesos.v1.TaskStatus.Source.SOURCE_EXECUTOR,
        uuid: Buffer.from(UUID_HEX, 'hex'),
        unreachable_time: { nanoseconds: 1_724_441_940_123_000_000 },
      },
    },
  });
  assert.deepEqual(toMesosJson('mesos.v1.executor.Call', update), {
    executor_id: { value: 'e' },
    framework_id: { value: 'f' },
    type: 'UPDATE',
    update: {
      status: {
        task_id: { value: 't' },
        state: 'TASK_RUNNING',
        source: 'SOURCE_EXECUTOR',
        uuid: UUID_BASE64,
        unreachable_time: { nanoseconds: 1_724_441_940_123_000_000 },
      },
    },
  });
});

test('toMesosJson writes non-finite doubles as strings so JSON.stringify keeps them', () => {
  const json = toMesosJson('mesos.v1.TaskInfo', {
    limits: { cpus: { value: Infinity }, mem: { value: 64 }, disk: { value: -Infinity }, gpus: { value: NaN } },
  });
  assert.equal(
    JSON.stringify(json),
    '{"limits":{"cpus":{"value":"Infinity"},"mem":{"value":64},"disk":{"value":"-Infinity"},"gpus":{"value":"NaN"}}}',
  );
});

test('toMesosJson omits unset fields, empty repeated fields and empty maps, even with defaults', () => {
  const command = new mesos.v1.CommandInfo({ value: 'ls' });
  assert.equal(command.shell, true, 'the proto2 default is visible on the instance');
  assert.deepEqual(toMesosJson('mesos.v1.CommandInfo', command), { value: 'ls' });
  const task = mesos.v1.TaskInfo.fromObject({ name: 'n' });
  assert.deepEqual(task.resources, []);
  assert.deepEqual(toMesosJson('mesos.v1.TaskInfo', task), { name: 'n' });
  assert.deepEqual(toMesosJson('mesos.v1.CommandInfo', { shell: false, arguments: ['a'] }), { shell: false, arguments: ['a'] });
});

test('toMesosJson rejects an enum number it cannot name', () => {
  assert.throws(
    () => toMesosJson('mesos.v1.TaskStatus', { task_id: { value: 't' }, state: 99 }),
    codecError(/^state: expected a value of mesos\.v1\.TaskState, got 99$/),
  );
});

test('Mesos JSON round-trips through fromMesosJson and toMesosJson', () => {
  const json = {
    type: 'SUBSCRIBED',
    subscribed: {
      executor_info: { executor_id: { value: 'e' }, data: 'aGVsbG8=', shutdown_grace_period: { nanoseconds: 5000000000 } },
      framework_info: {
        user: 'root', name: 'marathon', failover_timeout: 604800, checkpoint: true,
        capabilities: [{ type: 'TASK_KILLING_STATE' }, { type: 'PARTITION_AWARE' }],
      },
      agent_info: { hostname: 'agent-1', port: 5051, id: { value: 'S0' }, domain: { fault_domain: { region: { name: 'r' }, zone: { name: 'z' } } } },
      container_id: { value: 'c', parent: { value: 'p' } },
    },
  };
  const plain = fromMesosJson('mesos.v1.executor.Event', json);
  const instance = mesos.v1.executor.Event.fromObject(plain);
  assert.deepEqual(toMesosJson('mesos.v1.executor.Event', instance), json);
});

test('missingRequiredFields names every missing required field by path, recursively', () => {
  const task = mesos.v1.TaskInfo.fromObject({
    name: 'n',
    task_id: {},
    resources: [
      { name: 'cpus', type: mesos.v1.Value.Type.SCALAR, scalar: { value: 1 } },
      { name: 'mem', scalar: {} },
    ],
    limits: { cpus: {} },
    container: { type: mesos.v1.ContainerInfo.Type.DOCKER, docker: {} },
  });
  assert.deepEqual(missingRequiredFields('mesos.v1.TaskInfo', task), [
    'task_id.value',
    'agent_id',
    'resources[1].type',
    'resources[1].scalar.value',
    'container.docker.image',
    'limits.cpus.value',
  ]);
  assert.deepEqual(missingRequiredFields('mesos.v1.executor.Call', { executor_id: { value: 'e' }, framework_id: null }), [
    'framework_id',
  ]);
});
