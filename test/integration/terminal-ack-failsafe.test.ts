// The fail-safe: a terminal update that the agent never acknowledges does not keep the executor
// alive forever (60 s, as the reference executors do). Alone in its file so it runs beside the rest.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerExists, exitCode, sandboxFile, shellTask, startAgent, terminal } from '../helpers/harness.js';

test('without an acknowledgement of the terminal update the executor exits after 60 s', async (t) => {
  const agent = await startAgent(t, { autoAcknowledge: false });
  const record = agent.launch(shellTask('echo short-lived'));
  const last = await terminal(agent, record);
  const sent = Date.now();
  assert.equal(last.status.state, 2);

  const code = await exitCode(record, 90_000);
  const waited = Date.now() - sent;
  assert.equal(code, 1);
  assert.ok(waited >= 59_000 && waited < 75_000, `exited ${waited} ms after the terminal update`);
  assert.match(sandboxFile(record, 'stderr'), /Did not receive ACK for the terminal status update/);
  assert.equal(await containerExists(record.containerName), false);
});
