// The executor's event stream reader against a real HTTP server on port 0 that writes bad input:
// what is delivered, what is skipped, and how the subscription ends.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { AgentConnection, type Event, type SubscriptionEnd } from '../../src/executor/agent-connection.js';
import { configureLog } from '../../src/log.js';
import { encodeEvent, type ContentType } from '../../src/protocol/codec.js';
import { encodeRecord } from '../../src/protocol/recordio.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const EventType = mesos.v1.executor.Event.Type;
const PROTOBUF: ContentType = 'application/x-protobuf';
const SUBSCRIBE = { executor_id: { value: 'e' }, framework_id: { value: 'f' }, type: mesos.v1.executor.Call.Type.SUBSCRIBE, subscribe: {} };

const logged: string[] = [];
configureLog({ sink: (line) => logged.push(line) });

function record(event: Parameters<typeof encodeEvent>[0]): Buffer {
  return encodeRecord(encodeEvent(event, PROTOBUF));
}

// A server that answers the SUBSCRIBE with 200 and writes `chunks` on the stream, each as one
// write, then leaves the stream open (as a live agent would).
async function agentWriting(t: TestContext, chunks: Buffer[]): Promise<AgentConnection> {
  const server = http.createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'Content-Type': PROTOBUF });
    let index = 0;
    const next = (): void => {
      if (index < chunks.length && !response.destroyed) response.write(chunks[index++], () => setTimeout(next, 20));
    };
    next();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const connection = new AgentConnection({
    endpoint: { protocol: 'http:', host: '127.0.0.1', port, path: '/api/v1/executor', description: `127.0.0.1:${port}` },
    contentType: PROTOBUF,
    authToken: undefined,
  });
  t.after(() => {
    connection.close();
    server.closeAllConnections();
    server.close();
  });
  return connection;
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    }),
  ]);
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('an event handler that throws is logged with the event type; later events are still delivered', async (t) => {
  logged.length = 0;
  const connection = await agentWriting(t, [record({ type: EventType.HEARTBEAT }), record({ type: EventType.SHUTDOWN })]);
  const seen: number[] = [];
  const subscription = connection.subscribe(SUBSCRIBE, {
    onOpen: () => undefined,
    onEvent: (event: Event) => {
      seen.push(event.type);
      if (event.type === EventType.HEARTBEAT) throw new TypeError('a bug in a handler');
    },
  });
  t.after(() => subscription.close());
  await waitFor(() => seen.length === 2, 'both events');
  assert.deepEqual(seen, [EventType.HEARTBEAT, EventType.SHUTDOWN]);
  assert.ok(logged.some((line) => /Failed to handle a HEARTBEAT event: TypeError: a bug in a handler/.test(line)), logged.join(''));
});

test('events complete before garbage in the same chunk are delivered, then the stream ends as corrupt', async (t) => {
  const connection = await agentWriting(t, [Buffer.concat([record({ type: EventType.HEARTBEAT }), record({ type: EventType.SHUTDOWN }), Buffer.from('not a header\n'), record({ type: EventType.HEARTBEAT })])]);
  const seen: number[] = [];
  const subscription = connection.subscribe(SUBSCRIBE, { onOpen: () => undefined, onEvent: (event) => seen.push(event.type) });
  const end: SubscriptionEnd = await within(subscription.done, 5000, 'the end of the corrupt stream');
  assert.deepEqual(seen, [EventType.HEARTBEAT, EventType.SHUTDOWN]);
  assert.equal(end.kind, 'closed');
  assert.match(end.message, /^Event stream is corrupt: Invalid RecordIO header of 12 bytes: expected a decimal record length$/);
});

test('a header claiming 10^18 bytes ends the subscription at once, though the agent keeps the stream open', async (t) => {
  const connection = await agentWriting(t, [Buffer.from('1000000000000000000\n')]);
  const subscription = connection.subscribe(SUBSCRIBE, { onOpen: () => undefined, onEvent: () => assert.fail('no event') });
  const end = await within(subscription.done, 2000, 'the end of the stream');
  assert.equal(end.kind, 'closed');
  assert.match(end.message, /RecordIO record of 1000000000000000000 bytes exceeds the limit of 67108864 bytes/);
});

test('an undecodable record is skipped with one clear log line, and the stream goes on', async (t) => {
  logged.length = 0;
  const connection = await agentWriting(t, [encodeRecord(Buffer.from([0xff, 0xff, 0xff])), record({ type: EventType.SHUTDOWN })]);
  const seen: number[] = [];
  const subscription = connection.subscribe(SUBSCRIBE, { onOpen: () => undefined, onEvent: (event) => seen.push(event.type) });
  t.after(() => subscription.close());
  await waitFor(() => seen.length === 1, 'the event after the bad record');
  assert.deepEqual(seen, [EventType.SHUTDOWN]);
  const lines = logged.filter((line) => line.includes('de-serialize'));
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /E executor: Failed to de-serialize event: index out of range.* \(a record of 3 bytes; the event is skipped\)\n$/);
  assert.equal(lines[0]!.match(/Failed to de-serialize/g)!.length, 1, 'said once');
});
