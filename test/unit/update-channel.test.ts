// The update channel against a fake link to the agent: ordered sends, resends with the next
// SUBSCRIBE, acknowledgements, and each fail-safe, without an agent or real waiting.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Call, Event, SubscriptionEnd } from '../../src/executor/agent-connection.js';
import { UpdateChannel, type AgentLink, type UpdateChannelOptions } from '../../src/executor/update-channel.js';
import { newTaskStatus } from '../../src/executor/task-status.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;
const CallType = mesos.v1.executor.Call.Type;
const EventType = mesos.v1.executor.Event.Type;

interface FakeStream {
  readonly call: Call;
  open(): void;
  event(event: Partial<Event>): void;
  end(result: SubscriptionEnd): void;
}

// A link whose subscriptions and sends the test drives by hand.
class FakeLink implements AgentLink {
  readonly streams: FakeStream[] = [];
  readonly sent: Call[] = [];
  closed = false;

  subscribe(call: Call, handlers: { onOpen(): void; onEvent(event: Event): void }) {
    let finish: (end: SubscriptionEnd) => void = () => undefined;
    const done = new Promise<SubscriptionEnd>((resolve) => {
      finish = resolve;
    });
    this.streams.push({ call, open: () => handlers.onOpen(), event: (event) => handlers.onEvent(event as Event), end: (end) => finish(end) });
    return { done, close: () => finish({ kind: 'closed', message: 'closed' }) };
  }

  async send(call: Call): Promise<void> {
    this.sent.push(call);
  }

  close(): void {
    this.closed = true;
  }
}

function channel(link: FakeLink, overrides: Partial<UpdateChannelOptions> = {}) {
  const lost: string[] = [];
  const events: Event[] = [];
  let failSafe = 0;
  let terminal = false;
  const options: UpdateChannelOptions = {
    connection: link,
    executorId: 'e1',
    frameworkId: 'f1',
    checkpoint: true,
    registrationTimeoutMs: 60_000,
    recoveryTimeoutMs: 60_000,
    subscriptionBackoffMaxMs: 1,
    terminalAckTimeoutMs: 60_000,
    unacknowledgedTasks: () => [],
    allTasksTerminal: () => terminal,
    onEvent: (event) => events.push(event),
    onAcknowledged: () => undefined,
    onLost: (reason) => lost.push(reason),
    onTerminalUnacknowledged: () => {
      failSafe += 1;
    },
    ...overrides,
  };
  const updates = new UpdateChannel(options);
  return { updates, lost, events, failSafes: () => failSafe, setTerminal: (value: boolean) => { terminal = value; } };
}

function update(state: number, message?: string) {
  return { status: newTaskStatus('t1', 'e1', { state, ...(message ? { message } : {}) }) };
}

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('update channel', () => {
  it('updates made before the subscription go out in the SUBSCRIBE; later ones as UPDATE calls, in order', async () => {
    const link = new FakeLink();
    const { updates, events } = channel(link);
    const starting = update(TaskState.TASK_STARTING);
    updates.send(starting);
    updates.open();
    assert.equal(updates.readyState, 'registering');
    assert.deepEqual(link.streams[0]!.call.subscribe?.unacknowledged_updates, [starting]);
    link.streams[0]!.open();
    assert.equal(updates.readyState, 'subscribed');
    link.streams[0]!.event({ type: EventType.SUBSCRIBED });
    assert.equal(events[0]!.type, EventType.SUBSCRIBED);
    const running = update(TaskState.TASK_RUNNING);
    const finished = update(TaskState.TASK_FINISHED);
    updates.send(running);
    updates.send(finished);
    await until('two UPDATE calls', () => link.sent.length === 2);
    assert.deepEqual(link.sent.map((call) => [call.type, call.update?.status?.state]), [[CallType.UPDATE, TaskState.TASK_RUNNING], [CallType.UPDATE, TaskState.TASK_FINISHED]]);
    updates.close();
  });

  it('an acknowledged update is never sent again; the rest go with the next SUBSCRIBE, in order', async () => {
    const link = new FakeLink();
    const acknowledged: number[] = [];
    const { updates } = channel(link, { onAcknowledged: (u) => acknowledged.push(u.status.state) });
    updates.open();
    link.streams[0]!.open();
    const [a, b, c] = [update(TaskState.TASK_STARTING), update(TaskState.TASK_RUNNING), update(TaskState.TASK_KILLING)];
    for (const u of [a, b, c]) updates.send(u);
    link.streams[0]!.event({ type: EventType.ACKNOWLEDGED, acknowledged: { task_id: { value: 't1' }, uuid: b.status.uuid! } });
    assert.deepEqual(acknowledged, [TaskState.TASK_RUNNING]);
    link.streams[0]!.end({ kind: 'closed', message: 'agent went away' });
    await until('a new SUBSCRIBE', () => link.streams.length === 2);
    assert.equal(updates.readyState, 'disconnected');
    assert.deepEqual(link.streams[1]!.call.subscribe?.unacknowledged_updates, [a, c]);
    updates.close();
  });

  it('a terminal update left unacknowledged while connected trips the fail-safe once', async () => {
    const link = new FakeLink();
    const { updates, failSafes, setTerminal } = channel(link, { terminalAckTimeoutMs: 5 });
    updates.open();
    link.streams[0]!.open();
    setTerminal(true);
    updates.send(update(TaskState.TASK_FINISHED));
    await until('the fail-safe', () => failSafes() === 1);
    updates.close();
  });

  it('an acknowledged terminal update disarms the fail-safe', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const link = new FakeLink();
    const { updates, failSafes, setTerminal } = channel(link, { terminalAckTimeoutMs: 30 });
    updates.open();
    link.streams[0]!.open();
    setTerminal(true);
    const finished = update(TaskState.TASK_FINISHED);
    updates.send(finished);
    link.streams[0]!.event({ type: EventType.ACKNOWLEDGED, acknowledged: { task_id: { value: 't1' }, uuid: finished.status.uuid! } });
    t.mock.timers.tick(1000);
    assert.equal(failSafes(), 0);
    updates.close();
  });

  it('lost for good: a refusal the agent means, the recovery timeout, a disconnection without checkpointing', async () => {
    const refused = new FakeLink();
    const first = channel(refused);
    first.updates.open();
    refused.streams[0]!.end({ kind: 'refused', status: 403, message: 'Forbidden' });
    await until('lost', () => first.lost.length === 1);
    assert.match(first.lost[0]!, /the agent does not know this executor any more/);
    first.updates.close();

    const away = new FakeLink();
    const second = channel(away, { recoveryTimeoutMs: 5 });
    second.updates.open();
    away.streams[0]!.open();
    away.streams[0]!.end({ kind: 'closed', message: 'gone' });
    await until('the recovery timeout', () => second.lost.length >= 1);
    assert.match(second.lost[0]!, /Recovery timeout of 5ms exceeded/);
    second.updates.close();

    const noCheckpoint = new FakeLink();
    const third = channel(noCheckpoint, { checkpoint: false });
    third.updates.open();
    noCheckpoint.streams[0]!.open();
    noCheckpoint.streams[0]!.end({ kind: 'closed', message: 'gone' });
    await until('lost', () => third.lost.length === 1);
    assert.match(third.lost[0]!, /does not checkpoint/);
    third.updates.close();
  });

  it('with a durability barrier, neither an UPDATE nor a SUBSCRIBE leaves before it settles', async () => {
    const link = new FakeLink();
    let release: () => void = () => undefined;
    let barrier: Promise<void> = new Promise((resolve) => {
      release = resolve;
    });
    const { updates } = channel(link, { durable: () => barrier });
    const starting = update(TaskState.TASK_STARTING);
    updates.send(starting);
    updates.open();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(link.streams.length, 0, 'no SUBSCRIBE while STARTING is not on disk');
    release();
    await until('the SUBSCRIBE', () => link.streams.length === 1);
    assert.deepEqual(link.streams[0]!.call.subscribe?.unacknowledged_updates, [starting]);
    link.streams[0]!.open();
    barrier = new Promise((resolve) => {
      release = resolve;
    });
    updates.send(update(TaskState.TASK_RUNNING));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(link.sent.length, 0, 'no UPDATE while RUNNING is not on disk');
    release();
    await until('the UPDATE', () => link.sent.length === 1);
    assert.equal(link.sent[0]!.update?.status?.state, TaskState.TASK_RUNNING);
    updates.close();
  });

  it('a SUBSCRIBE never accepted within the registration timeout is a loss', async () => {
    const link = new FakeLink();
    const { updates, lost } = channel(link, { registrationTimeoutMs: 5 });
    updates.open();
    await until('lost', () => lost.length === 1);
    assert.match(lost[0]!, /did not accept SUBSCRIBE within 5ms/);
    updates.close();
    assert.equal(link.closed, true);
  });
});
