// A framework's own executor, as small as one can be, for the executor-image tests: it subscribes
// over the v1 executor HTTP API (JSON), reports TASK_RUNNING then TASK_FINISHED for the task it is
// given (after `run_ms=<n>` milliseconds when its command says so), and exits once the agent has
// acknowledged the last update. With checkpointing (MESOS_CHECKPOINT=1) it outlives the agent: a
// lost stream or update is retried by subscribing again, with its unacknowledged updates, until
// MESOS_RECOVERY_TIMEOUT. Plain Node, no dependencies.
import http from 'node:http';
import { randomUUID } from 'node:crypto';

const env = process.env;
const [host, port] = env.MESOS_AGENT_ENDPOINT.split(':');
const ids = { framework_id: { value: env.MESOS_FRAMEWORK_ID }, executor_id: { value: env.MESOS_EXECUTOR_ID } };
const headers = {
  'Content-Type': 'application/json',
  Accept: 'application/json',
  ...(env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN ? { Authorization: `Bearer ${env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN}` } : {}),
};
const checkpointing = env.MESOS_CHECKPOINT === '1';
const RETRY_MS = 200;
const RECOVERY_MS = 60_000;
// Updates not acknowledged yet, by uuid (base64), in the order sent.
const unacknowledged = new Map();
let finishedUuid;
let lostSince;
let retrying = false;

function post(call, onResponse, onError) {
  const request = http.request({ host, port: Number(port), method: 'POST', path: '/api/v1/executor', headers }, onResponse);
  request.on('error', (error) => onError(`${call.type}: ${error.message}`));
  request.end(JSON.stringify({ ...ids, ...call }));
}

function fail(why) {
  process.stderr.write(`custom executor: ${why}\n`);
  process.exit(2);
}

// The agent went away: subscribe again (checkpointing), or give up.
function lost(why) {
  if (!checkpointing) fail(why);
  lostSince ??= Date.now();
  if (Date.now() - lostSince > RECOVERY_MS) fail(`${why}; the agent did not come back`);
  if (retrying) return;
  retrying = true;
  setTimeout(() => {
    retrying = false;
    subscribe();
  }, RETRY_MS);
}

function update(task, state) {
  const uuid = Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64');
  if (state === 'TASK_FINISHED') finishedUuid = uuid;
  const status = { task_id: task.task_id, state, source: 'SOURCE_EXECUTOR', uuid, executor_id: ids.executor_id, timestamp: Date.now() / 1000 };
  unacknowledged.set(uuid, status);
  post({ type: 'UPDATE', update: { status } }, (response) => {
    response.resume();
    // Kept for the next subscription when the agent is away.
    if (response.statusCode !== 202 && !checkpointing) fail(`UPDATE ${state} answered ${response.statusCode}`);
  }, (why) => (checkpointing ? undefined : fail(why)));
}

function handle(event) {
  switch (event.type) {
    case 'SUBSCRIBED':
      lostSince = undefined;
      process.stdout.write(`custom executor ${env.MESOS_EXECUTOR_ID} subscribed; sandbox ${env.MESOS_SANDBOX}\n`);
      process.stderr.write('custom executor diagnostics go to stderr\n');
      break;
    case 'LAUNCH': {
      const task = event.launch.task;
      update(task, 'TASK_RUNNING');
      const runMs = Number(/run_ms=(\d+)/.exec(task.command?.value ?? '')?.[1] ?? 0);
      setTimeout(() => update(task, 'TASK_FINISHED'), runMs);
      break;
    }
    case 'ACKNOWLEDGED':
      unacknowledged.delete(event.acknowledged.uuid);
      if (event.acknowledged.uuid === finishedUuid) {
        process.stdout.write('custom executor done\n');
        process.exit(0);
      }
      break;
    case 'SHUTDOWN':
      process.exit(0);
  }
}

// RecordIO: "<length>\n<JSON event>" after "<length>\n<JSON event>".
function subscribe() {
  const updates = [...unacknowledged.values()].map((status) => ({ framework_id: ids.framework_id, status }));
  post({ type: 'SUBSCRIBE', subscribe: { unacknowledged_updates: updates } }, (response) => {
    if (response.statusCode !== 200) {
      response.resume();
      return lost(`SUBSCRIBE answered ${response.statusCode}`);
    }
    let buffered = Buffer.alloc(0);
    response.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const newline = buffered.indexOf(10);
        if (newline < 0) return;
        const length = Number(buffered.subarray(0, newline).toString());
        if (buffered.length < newline + 1 + length) return;
        handle(JSON.parse(buffered.subarray(newline + 1, newline + 1 + length).toString()));
        buffered = buffered.subarray(newline + 1 + length);
      }
    });
    response.on('error', () => undefined);
    response.on('close', () => lost('the agent closed the event stream'));
  }, lost);
}

subscribe();
