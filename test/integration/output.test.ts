// The container's output reaches the sandbox byte for byte, stdout and stderr apart, at volume.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exitCode, shellTask, startAgent, states, terminal } from '../helpers/harness.js';

// The bytes `seq 1 n` prints, hashed: any lost, repeated or reordered line changes the digest.
function seqDigest(n: number): { sha256: string; bytes: number } {
  const hash = createHash('sha256');
  let bytes = 0;
  const batch: string[] = [];
  for (let i = 1; i <= n; i++) {
    batch.push(String(i));
    if (batch.length === 100_000 || i === n) {
      const text = `${batch.join('\n')}\n`;
      hash.update(text);
      bytes += text.length;
      batch.length = 0;
    }
  }
  return { sha256: hash.digest('hex'), bytes };
}

test('100 MB of stdout and interleaved stderr arrive byte-exact, nothing truncated at exit', { timeout: 240_000 }, async (t) => {
  const lines = 13_000_000;
  const agent = await startAgent(t);
  const record = agent.launch(shellTask(`seq 1 ${lines} & seq 1 200000 >&2; wait; printf 'no newline at the end'`));
  await terminal(agent, record, 200_000);
  assert.equal(await exitCode(record, 30_000), 0);
  assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);

  const expected = seqDigest(lines);
  const tailBytes = Buffer.byteLength('no newline at the end');
  const stdoutPath = join(record.sandbox, 'stdout');
  assert.ok(expected.bytes > 100_000_000);
  assert.equal(statSync(stdoutPath).size, expected.bytes + tailBytes);

  // Hash the sandbox stdout without its final unterminated piece.
  const hash = createHash('sha256');
  let seen = 0;
  let tail = '';
  for await (const chunk of createReadStream(stdoutPath) as AsyncIterable<Buffer>) {
    const take = Math.min(chunk.length, expected.bytes - seen);
    if (take > 0) hash.update(chunk.subarray(0, take));
    tail += chunk.subarray(Math.max(take, 0)).toString('latin1');
    seen += chunk.length;
  }
  assert.equal(hash.digest('hex'), expected.sha256, 'stdout is exactly seq 1..n');
  assert.equal(tail, 'no newline at the end');

  const stderrPath = join(record.sandbox, 'stderr');
  const stderr = seqDigest(200_000);
  // The executor's own log lines share the stderr file; the container's lines must all be there in order.
  const stderrText = readFileSync(stderrPath, 'utf8');
  const containerLines = stderrText.split('\n').filter((line) => /^[0-9]+$/.test(line));
  assert.equal(containerLines.length, 200_000);
  assert.equal(createHash('sha256').update(`${containerLines.join('\n')}\n`).digest('hex'), stderr.sha256);
});
