// A framework's own executor, as small as one can be, for the executor-image tests: it subscribes
// over the v1 executor HTTP API (JSON), reports TASK_RUNNING then TASK_FINISHED for the task it is
// given, and exits once the agent has acknowledged the last update. Plain Node, no dependencies.
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
let lastUuid;

function post(call, onResponse) {
  const request = http.request({ host, port: Number(port), method: 'POST', path: '/api/v1/executor', headers }, onResponse);
  request.on('error', (error) => fail(`${call.type}: ${error.message}`));
  request.end(JSON.stringify({ ...ids, ...call }));
}

function fail(why) {
  process.stderr.write(`custom executor: ${why}\n`);
  process.exit(2);
}

function update(task, state) {
  const uuid = Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64');
  lastUuid = uuid;
  post({
    type: 'UPDATE',
    update: { status: { task_id: task.task_id, state, source: 'SOURCE_EXECUTOR', uuid, executor_id: ids.executor_id, timestamp: Date.now() / 1000 } },
  }, (response) => {
    response.resume();
    if (response.statusCode !== 202) fail(`UPDATE ${state} answered ${response.statusCode}`);
  });
}

function handle(event) {
  switch (event.type) {
    case 'SUBSCRIBED':
      process.stdout.write(`custom executor ${env.MESOS_EXECUTOR_ID} subscribed; sandbox ${env.MESOS_SANDBOX}\n`);
      process.stderr.write('custom executor diagnostics go to stderr\n');
      break;
    case 'LAUNCH':
      update(event.launch.task, 'TASK_RUNNING');
      update(event.launch.task, 'TASK_FINISHED');
      break;
    case 'ACKNOWLEDGED':
      if (event.acknowledged.uuid === lastUuid) {
        process.stdout.write('custom executor done\n');
        process.exit(0);
      }
      break;
    case 'SHUTDOWN':
      process.exit(0);
  }
}

// RecordIO: "<length>\n<JSON event>" after "<length>\n<JSON event>".
post({ type: 'SUBSCRIBE', subscribe: {} }, (response) => {
  if (response.statusCode !== 200) fail(`SUBSCRIBE answered ${response.statusCode}`);
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
  response.on('end', () => fail('the agent closed the event stream'));
});
