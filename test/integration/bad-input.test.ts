// Bad input from the agent or in the TaskInfo, through the built executor: a corrupt event stream,
// undecodable events, unknown enum values, a TaskInfo without required fields, absurd values.
// Each ends in a clear outcome (the executor survives and the task finishes, or the task fails
// naming the value), never a crash and never a hang.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import protobuf from 'protobufjs/minimal.js';
import type { ExecutorRecord, LocalAgent } from '../../src/agent/local-agent.js';
import { encodeEvent, mesos, type ContentType } from '../../src/protocol/codec.js';
import { toMesosJson } from '../../src/protocol/mesos-json.js';
import { encodeRecord } from '../../src/protocol/recordio.js';
import { stateName } from '../../src/executor/task-states.js';
import { BUSYBOX, containerExists, eventually, exitCode, inspectContainer, sandboxFile, shellTask, startAgent, states, terminal } from '../helpers/harness.js';

const { TaskState } = mesos.v1;
const { Reason } = mesos.v1.TaskStatus;
const EventType = mesos.v1.executor.Event.Type;

// Runs until SIGKILL: only a kill with no grace left stops it quickly.
const IGNORES_TERM = "trap '' TERM; echo started; while true; do sleep 0.1; done";
const STOPS_ON_TERM = "trap 'exit 0' TERM; echo started; while true; do sleep 0.1; done";
const MB = 1024 * 1024;

// The executor's sandbox stderr holds its log and the container's stderr: a crash shows there
// as an error class name or a stack frame.
function assertNoCrash(record: ExecutorRecord): void {
  const stderr = sandboxFile(record, 'stderr');
  assert.doesNotMatch(stderr, /\b(TypeError|RangeError|ReferenceError)\b|Maximum call stack|Uncaught|unhandled/i, stderr);
  assert.doesNotMatch(stderr, /^\s+at .+(:\d+:\d+\)?|\(native\))$/m, `a stack trace in the executor's stderr:\n${stderr}`);
}

function running(agent: LocalAgent, record: ExecutorRecord): Promise<unknown> {
  return agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING, 30_000);
}

function streamType(record: ExecutorRecord): ContentType {
  const contentType = record.stream?.contentType;
  assert.ok(contentType, 'the executor is subscribed');
  return contentType;
}

function subscribed(record: ExecutorRecord): Promise<unknown> {
  return eventually('the subscription', () => record.state === 'running' || undefined);
}

function frame(text: string | Uint8Array): Buffer {
  return encodeRecord(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
}

// A LAUNCH event in protobuf whose TaskInfo lacks `name` (field 1): the generated encoder cannot
// write such a message, so the TaskInfo's top-level fields are copied without it.
function protobufLaunchWithoutName(task: mesos.v1.ITaskInfo): Uint8Array {
  const full = mesos.v1.TaskInfo.encode(task).finish();
  const reader = protobuf.Reader.create(full);
  const kept: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    reader.skipType(tag & 7);
    if (tag >>> 3 !== 1) kept.push(full.subarray(start, reader.pos));
  }
  const taskBytes = Buffer.concat(kept);
  const writer = protobuf.Writer.create();
  writer.uint32((1 << 3) | 0).int32(2); // type = LAUNCH
  writer.uint32((4 << 3) | 2).fork(); // launch
  writer.uint32((1 << 3) | 2).bytes(taskBytes); // launch.task
  writer.ldelim();
  return writer.finish();
}

function jsonLaunchWithout(task: mesos.v1.ITaskInfo, ...fields: string[]): string {
  const json = toMesosJson('mesos.v1.TaskInfo', task);
  for (const field of fields) delete json[field];
  return JSON.stringify({ type: 'LAUNCH', launch: { task: json } });
}

// ---------------------------------------------------------------------------------------------
// A corrupt event stream

test('a non-numeric RecordIO header: the executor drops the stream, resubscribes, and the task still finishes', async (t) => {
  const agent = await startAgent(t, { checkpoint: true, subscriptionBackoffMaxMs: 200 });
  const record = agent.launch(shellTask('sleep 2; echo finished'));
  await running(agent, record);

  assert.equal(agent.sendRaw(record.executorId, Buffer.from('garbage, not a length\n')), true);
  await eventually('a second SUBSCRIBE', () => record.subscribeCalls.length >= 2 || undefined, 10_000);
  const last = await terminal(agent, record, 30_000);
  assert.equal(stateName(last.status.state), 'TASK_FINISHED');
  assert.equal(await exitCode(record, 30_000), 0);
  assert.match(sandboxFile(record, 'stderr'), /Event stream is corrupt: Invalid RecordIO header of 21 bytes: expected a decimal record length/);
  assert.match(sandboxFile(record, 'stdout'), /finished/);
  assertNoCrash(record);
});

test('a RecordIO header claiming 10^18 bytes is refused at once, without waiting for or buffering the record', async (t) => {
  const agent = await startAgent(t, { checkpoint: true, subscriptionBackoffMaxMs: 200 });
  const record = agent.launch(shellTask(STOPS_ON_TERM));
  await running(agent, record);

  const sent = Date.now();
  agent.sendRaw(record.executorId, Buffer.from('1000000000000000000\n'));
  await eventually('a second SUBSCRIBE', () => record.subscribeCalls.length >= 2 || undefined, 10_000);
  const elapsed = Date.now() - sent;
  assert.ok(elapsed < 5000, `resubscribed after ${elapsed} ms`);
  assert.match(sandboxFile(record, 'stderr'), /RecordIO record of 1000000000000000000 bytes exceeds the limit/);

  // The new stream works: a KILL on it is obeyed.
  await eventually('the new stream', () => record.stream !== undefined || undefined);
  agent.kill(record.executorId, 5000);
  const last = await terminal(agent, record, 30_000);
  assert.equal(stateName(last.status.state), 'TASK_KILLED');
  assert.equal(await exitCode(record, 30_000), 0);
  assert.equal(await containerExists(record.containerName), false);
  assertNoCrash(record);
});

test('an event followed by garbage in the same write is still handled before the stream is dropped', async (t) => {
  const agent = await startAgent(t, { checkpoint: true, subscriptionBackoffMaxMs: 200 });
  const record = agent.launch(shellTask(STOPS_ON_TERM));
  await running(agent, record);

  const kill = encodeEvent({ type: EventType.KILL, kill: { task_id: { value: record.executorId } } }, streamType(record));
  agent.sendRaw(record.executorId, Buffer.concat([encodeRecord(kill), Buffer.from('x\n')]));
  const last = await terminal(agent, record, 30_000);
  assert.equal(stateName(last.status.state), 'TASK_KILLED');
  assert.equal(await exitCode(record, 30_000), 0);
  assert.ok(record.subscribeCalls.length >= 2, 'the corrupt stream was replaced');
  assertNoCrash(record);
});

// ---------------------------------------------------------------------------------------------
// Undecodable events on an intact stream: skipped, the stream kept (without checkpointing, a
// dropped stream would end the executor)

test('a valid RecordIO frame around bytes that are not protobuf is skipped, and the stream is kept', async (t) => {
  const agent = await startAgent(t, { checkpoint: false });
  const record = agent.launch(shellTask('sleep 1; echo finished'));
  await running(agent, record);

  agent.sendRaw(record.executorId, frame(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x07])));
  agent.sendRaw(record.executorId, frame(Buffer.from([0x22, 0x64, 0x0a]))); // a length past the end
  const last = await terminal(agent, record, 30_000);
  assert.equal(stateName(last.status.state), 'TASK_FINISHED');
  assert.equal(await exitCode(record, 30_000), 0);
  assert.equal(record.subscribeCalls.length, 1, 'no resubscription: the stream was not dropped');
  const stderr = sandboxFile(record, 'stderr');
  assert.equal(stderr.match(/Failed to de-serialize event: .+ \(a record of \d+ bytes; the event is skipped\)/g)?.length, 2, stderr);
  assertNoCrash(record);
});

test('with --content_type=json, invalid JSON, invalid UTF-8 and absurd nesting are skipped, and the stream is kept', async (t) => {
  const agent = await startAgent(t, { checkpoint: false, executorFlags: ['--content_type=json'] });
  const record = agent.launch(shellTask('sleep 1; echo finished'));
  await running(agent, record);
  assert.equal(streamType(record), 'application/json');

  agent.sendRaw(record.executorId, frame('{"type": "KILL", "kill": {'));
  agent.sendRaw(record.executorId, frame(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])));
  agent.sendRaw(record.executorId, frame(`{"type":"HEARTBEAT","x":${'['.repeat(100_000)}NaN${']'.repeat(100_000)}}`));
  agent.sendRaw(record.executorId, frame('{"type":"KILL","kill":{"task_id":{"value":7}}}'));
  const last = await terminal(agent, record, 30_000);
  assert.equal(stateName(last.status.state), 'TASK_FINISHED', 'the malformed KILL did not kill the task');
  assert.equal(await exitCode(record, 30_000), 0);
  assert.equal(record.subscribeCalls.length, 1);
  const stderr = sandboxFile(record, 'stderr');
  assert.match(stderr, /Failed to de-serialize event: .*JSON/);
  assert.match(stderr, /Failed to de-serialize event: The encoded data was not valid for encoding utf-8/);
  assert.match(stderr, /Failed to de-serialize event: JSON nested deeper than 100 levels/);
  assert.match(stderr, /Failed to de-serialize event: kill\.task_id\.value: expected a string, got 7/);
  assertNoCrash(record);
});

test('an Event with an unknown type value is ignored, in protobuf and in JSON', async (t) => {
  for (const flags of [[], ['--content_type=json']]) {
    await t.test(flags.join(' ') || 'protobuf', async (t) => {
      const agent = await startAgent(t, { holdLaunch: true, executorFlags: flags });
      const task = shellTask('echo finished');
      const record = agent.launch(task);
      await subscribed(record);

      agent.sendRaw(record.executorId, frame(streamType(record) === 'application/json' ? '{"type":"FUTURE_EVENT","future":{"x":1}}' : Buffer.from([0x08, 0x63])));
      agent.sendEvent(record.executorId, { type: EventType.LAUNCH, launch: { task } });
      await terminal(agent, record, 30_000);
      assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
      assert.equal(await exitCode(record, 30_000), 0);
      assert.match(sandboxFile(record, 'stderr'), /Ignoring an event of unknown type 0/);
      assertNoCrash(record);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// A LAUNCH whose TaskInfo misses required fields

for (const contentType of ['application/x-protobuf', 'application/json'] as const) {
  test(`a LAUNCH (${contentType}) whose TaskInfo misses required fields is refused naming them, and a valid LAUNCH still runs`, async (t) => {
    const agent = await startAgent(t, { holdLaunch: true, executorFlags: contentType === 'application/json' ? ['--content_type=json'] : [] });
    const task = shellTask('echo finished');
    const record = agent.launch(task);
    await subscribed(record);
    assert.equal(streamType(record), contentType);

    const bad = shellTask('echo must-not-run');
    agent.sendRaw(record.executorId, frame(contentType === 'application/json' ? jsonLaunchWithout(bad, 'name', 'agent_id') : protobufLaunchWithoutName(bad)));
    agent.sendEvent(record.executorId, { type: EventType.LAUNCH, launch: { task } });

    const last = await agent.waitForUpdate(record.executorId, (update) => update.status.task_id?.value === task.task_id.value && update.status.state === TaskState.TASK_FINISHED, 30_000);
    assert.equal(stateName(last.status.state), 'TASK_FINISHED');
    assert.equal(await exitCode(record, 30_000), 0);
    const stderr = sandboxFile(record, 'stderr');
    assert.match(
      stderr,
      contentType === 'application/json'
        ? /Failed to de-serialize event: Missing required fields: launch\.task\.name, launch\.task\.agent_id/
        : /Failed to de-serialize event: missing required 'name' in a TaskInfo/,
    );
    assert.doesNotMatch(sandboxFile(record, 'stdout'), /must-not-run/);
    // If the executor reports the refused task, it must be TASK_FAILED naming the missing field.
    for (const update of record.updates.filter((u) => u.status.task_id?.value === bad.task_id.value)) {
      assert.equal(update.status.state, TaskState.TASK_FAILED);
      assert.match(update.status.message ?? '', /name/);
    }
    assertNoCrash(record);
  });
}

// ---------------------------------------------------------------------------------------------
// Absurd TaskInfo values

const INVALID_TASKS: Array<{ name: string; extra: Record<string, unknown>; message: RegExp }> = [
  {
    name: 'negative mem',
    extra: { resources: [{ name: 'cpus', type: mesos.v1.Value.Type.SCALAR, scalar: { value: 0.1 } }, { name: 'mem', type: mesos.v1.Value.Type.SCALAR, scalar: { value: -64 } }] },
    message: /resources mem is -64/,
  },
  {
    name: 'negative cpus',
    extra: { resources: [{ name: 'cpus', type: mesos.v1.Value.Type.SCALAR, scalar: { value: -1 } }, { name: 'mem', type: mesos.v1.Value.Type.SCALAR, scalar: { value: 64 } }] },
    message: /resources cpus is -1/,
  },
  {
    name: "a volume host path with ':'",
    extra: { container: { type: mesos.v1.ContainerInfo.Type.DOCKER, docker: { image: BUSYBOX, network: mesos.v1.ContainerInfo.DockerInfo.Network.HOST }, volumes: [{ host_path: 'a:b', container_path: '/data', mode: mesos.v1.Volume.Mode.RW }] } },
    message: /container\.volumes\[0\]\.host_path 'a:b' contains ':'/,
  },
  {
    name: "a relative host path climbing out of the sandbox with '..'",
    extra: { container: { type: mesos.v1.ContainerInfo.Type.DOCKER, docker: { image: BUSYBOX, network: mesos.v1.ContainerInfo.DockerInfo.Network.HOST }, volumes: [{ host_path: '../../../etc', container_path: '/host-etc', mode: mesos.v1.Volume.Mode.RO }] } },
    message: /container\.volumes\[0\]\.host_path '\.\.\/\.\.\/\.\.\/etc' leads out of the sandbox/,
  },
  {
    name: "a port mapping outside the task's ports",
    extra: {
      resources: [
        { name: 'cpus', type: mesos.v1.Value.Type.SCALAR, scalar: { value: 0.1 } },
        { name: 'mem', type: mesos.v1.Value.Type.SCALAR, scalar: { value: 64 } },
        { name: 'ports', type: mesos.v1.Value.Type.RANGES, ranges: { range: [{ begin: 31000, end: 31010 }] } },
      ],
      container: { type: mesos.v1.ContainerInfo.Type.DOCKER, docker: { image: BUSYBOX, network: mesos.v1.ContainerInfo.DockerInfo.Network.BRIDGE, port_mappings: [{ host_port: 31999, container_port: 80 }] } },
    },
    message: /Port \[31999\] not included in resources: expected a port in \[31000-31010\]/,
  },
];

for (const { name, extra, message } of INVALID_TASKS) {
  test(`a TaskInfo with ${name} fails with REASON_TASK_INVALID naming the value, and nothing runs`, async (t) => {
    const agent = await startAgent(t);
    const record = agent.launch(shellTask('echo must-not-run', extra));
    const last = await terminal(agent, record, 30_000);
    assert.equal(stateName(last.status.state), 'TASK_FAILED');
    assert.equal(last.status.reason, Reason.REASON_TASK_INVALID);
    assert.match(last.status.message ?? '', message);
    assert.equal(await exitCode(record, 30_000), 0);
    assert.doesNotMatch(sandboxFile(record, 'stdout'), /must-not-run/);
    assert.equal(await containerExists(record.containerName), false);
    assertNoCrash(record);
  });
}

test('a KILL with a negative grace period kills at once (as a zero grace), without a crash', async (t) => {
  const agent = await startAgent(t);
  const record = agent.launch(shellTask(IGNORES_TERM));
  await running(agent, record);

  const killed = Date.now();
  assert.equal(agent.kill(record.executorId, -5000), true);
  const last = await terminal(agent, record, 30_000);
  const elapsed = Date.now() - killed;
  assert.equal(stateName(last.status.state), 'TASK_KILLED');
  assert.ok(elapsed < 4000, `killed after ${elapsed} ms: a negative grace must not wait for the default grace or longer`);
  assert.equal(await exitCode(record, 30_000), 0);
  assertNoCrash(record);
});

test('a TaskInfo with a negative kill_policy grace period never crashes the executor or hangs a kill', async (t) => {
  const agent = await startAgent(t);
  const record = agent.launch(shellTask(IGNORES_TERM, { kill_policy: { grace_period: { nanoseconds: -5e9 } } }));
  const first = await agent.waitForUpdate(record.executorId, (update) => update.status.state !== TaskState.TASK_STARTING, 30_000);
  if (first.status.state === TaskState.TASK_FAILED) {
    assert.match(first.status.message ?? '', /kill_policy\.grace_period/);
  } else {
    const killed = Date.now();
    agent.kill(record.executorId);
    const last = await terminal(agent, record, 30_000);
    assert.equal(stateName(last.status.state), 'TASK_KILLED');
    assert.ok(Date.now() - killed < 4000);
  }
  assert.equal(await exitCode(record, 30_000), 0);
  assertNoCrash(record);
});

test('a TaskInfo with a negative kill_policy grace period fails naming it, as the Mesos master would refuse it', async (t) => {
  const agent = await startAgent(t);
  const record = agent.launch(shellTask('echo must-not-run', { kill_policy: { grace_period: { nanoseconds: -5e9 } } }));
  const last = await terminal(agent, record, 30_000);
  assert.equal(stateName(last.status.state), 'TASK_FAILED');
  assert.equal(last.status.reason, Reason.REASON_TASK_INVALID);
  assert.match(last.status.message ?? '', /kill_policy\.grace_period is -5secs/);
});

test('a TaskInfo with mem 0 never runs without a memory limit: it fails naming the value, or runs with at least 32 MB', async (t) => {
  const agent = await startAgent(t);
  const record = agent.launch(shellTask(STOPS_ON_TERM, { resources: [{ name: 'cpus', type: mesos.v1.Value.Type.SCALAR, scalar: { value: 0.1 } }, { name: 'mem', type: mesos.v1.Value.Type.SCALAR, scalar: { value: 0 } }] }));
  const first = await agent.waitForUpdate(record.executorId, (update) => update.status.state !== TaskState.TASK_STARTING, 30_000);
  if (first.status.state === TaskState.TASK_FAILED) {
    assert.match(first.status.message ?? '', /mem is 0/);
  } else {
    const inspect = await inspectContainer(record.containerName);
    assert.ok(inspect.HostConfig.Memory >= 32 * MB, `memory limit ${inspect.HostConfig.Memory}`);
    agent.kill(record.executorId, 1000);
    await terminal(agent, record, 30_000);
  }
  assert.equal(await exitCode(record, 30_000), 0);
  assertNoCrash(record);
});

test('a TaskInfo with cpus 0 runs with the minimum CPU shares, as the stock executor does', async (t) => {
  const agent = await startAgent(t);
  const record = agent.launch(shellTask(STOPS_ON_TERM, { resources: [{ name: 'cpus', type: mesos.v1.Value.Type.SCALAR, scalar: { value: 0 } }, { name: 'mem', type: mesos.v1.Value.Type.SCALAR, scalar: { value: 64 } }] }));
  await running(agent, record);
  const inspect = await inspectContainer(record.containerName);
  assert.equal(inspect.HostConfig.CpuShares, 2);
  agent.kill(record.executorId, 1000);
  await terminal(agent, record, 30_000);
  assert.equal(await exitCode(record, 30_000), 0);
  assertNoCrash(record);
});

test('a TaskInfo with mem 0 fails naming the value', async (t) => {
  const agent = await startAgent(t);
  const record = agent.launch(shellTask('echo must-not-run', { resources: [{ name: 'cpus', type: mesos.v1.Value.Type.SCALAR, scalar: { value: 0.1 } }, { name: 'mem', type: mesos.v1.Value.Type.SCALAR, scalar: { value: 0 } }] }));
  const last = await terminal(agent, record, 30_000);
  assert.equal(stateName(last.status.state), 'TASK_FAILED');
  assert.equal(last.status.reason, Reason.REASON_TASK_INVALID);
  assert.match(last.status.message ?? '', /resources mem is 0/);
});

// ---------------------------------------------------------------------------------------------
// Durations beyond what a Node timer holds (2^31 - 1 ms, about 24.8 days): setTimeout fires such
// a timer after 1 ms instead, turning "practically never" into "now".

const THIRTY_DAYS_MS = 30 * 86_400_000;

test('a max_completion_time of 30 days does not end the task at once', async (t) => {
  const agent = await startAgent(t);
  const record = agent.launch(shellTask(STOPS_ON_TERM, { max_completion_time: { nanoseconds: THIRTY_DAYS_MS * 1e6 } }));
  await running(agent, record);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING'], 'still running after 3 s');
  agent.kill(record.executorId, 1000);
  await terminal(agent, record, 30_000);
  assertNoCrash(record);
  assert.doesNotMatch(sandboxFile(record, 'stderr'), /TimeoutOverflowWarning/);
});

test('a KILL with a 30-day grace period sends the stop signal and waits, rather than SIGKILL at once', async (t) => {
  const agent = await startAgent(t);
  const record = agent.launch(shellTask(IGNORES_TERM));
  await running(agent, record);
  agent.kill(record.executorId, THIRTY_DAYS_MS);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING'], 'the task ignores SIGTERM and its grace has not run out');
  agent.kill(record.executorId, 0);
  await terminal(agent, record, 30_000);
  assertNoCrash(record);
  assert.doesNotMatch(sandboxFile(record, 'stderr'), /TimeoutOverflowWarning/);
});

test('with a recovery timeout of 30 days, a dropped stream is recovered rather than abandoned at once', async (t) => {
  const agent = await startAgent(t, { checkpoint: true, recoveryTimeoutMs: THIRTY_DAYS_MS, subscriptionBackoffMaxMs: 200 });
  const record = agent.launch(shellTask(STOPS_ON_TERM));
  await running(agent, record);
  agent.dropStream(record.executorId);
  await eventually('a second SUBSCRIBE', () => record.subscribeCalls.length >= 2 || undefined, 10_000);
  assert.equal(record.exitCode, undefined, 'the executor is still there');
  agent.kill(record.executorId, 1000);
  await terminal(agent, record, 30_000);
  assert.equal(await exitCode(record, 30_000), 0);
  assert.doesNotMatch(sandboxFile(record, 'stderr'), /TimeoutOverflowWarning/);
});

test('a registration timeout of 30 days does not make the executor give up before subscribing', async (t) => {
  const agent = await startAgent(t, { executorEnv: { MESOS_EXECUTOR_REGISTRATION_TIMEOUT: '30days' } });
  const record = agent.launch(shellTask('echo finished'));
  const first = await eventually('a terminal update or an exit', () => {
    if (record.updates.some((update) => update.status.state === TaskState.TASK_FINISHED)) return 'a terminal update';
    return record.exitCode !== undefined ? 'the executor exited' : undefined;
  }, 30_000);
  assert.equal(first, 'a terminal update');
  assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  assert.equal(await exitCode(record, 30_000), 0);
});

test('a --docker_api_timeout of 30 days does not time out every Engine API call at once', async (t) => {
  const agent = await startAgent(t, { executorFlags: ['--docker_api_timeout=30days'] });
  const record = agent.launch(shellTask('echo finished'));
  await terminal(agent, record, 30_000);
  assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  assert.equal(await exitCode(record, 30_000), 0);
});
