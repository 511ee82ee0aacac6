// The fail-safe: a terminal update that the agent never acknowledges does not keep the executor
// alive forever (60 s by default, as the reference executors do; shortened here by
// --terminal_ack_timeout). Alone in its file so it runs beside the rest.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerExists, exitCode, sandboxFile, shellTask, startAgent, terminal } from '../helpers/harness.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;

const ACK_TIMEOUT_MS = 3000;

test('without an acknowledgement of the terminal update the executor exits after --terminal_ack_timeout', async (t) => {
  const agent = await startAgent(t, { autoAcknowledge: false, executorFlags: [`--terminal_ack_timeout=${ACK_TIMEOUT_MS}ms`] });
  const record = agent.launch(shellTask('echo short-lived'));
  const last = await terminal(agent, record);
  const sent = Date.now();
  assert.equal(last.status.state, TaskState.TASK_FINISHED);

  const code = await exitCode(record, 30_000);
  const waited = Date.now() - sent;
  assert.equal(code, 1);
  // The timer starts when the executor sends the update, a little before the agent sees it.
  assert.ok(waited >= ACK_TIMEOUT_MS - 500 && waited < ACK_TIMEOUT_MS + 15_000, `exited ${waited} ms after the terminal update`);
  assert.match(sandboxFile(record, 'stderr'), /Did not receive ACK for the terminal status update/);
  assert.equal(await containerExists(record.containerName), false);
});
