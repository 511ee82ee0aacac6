// `node dist/agent.js run` gives its executor a token of its own: a task on the host network
// reaches the agent's port, and must not be able to speak for the executor.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { toMesosJson } from '../../src/protocol/mesos-json.js';
import { eventually, shellTask } from '../helpers/harness.js';

const AGENT = resolve(import.meta.dirname, '../../dist/agent.js');

// The environment an executor process started with, by its executor id.
function executorEnvironment(executorId: string): Record<string, string> | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('executor.js')) continue;
      const env = Object.fromEntries(readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').filter(Boolean).map((pair) => {
        const at = pair.indexOf('=');
        return [pair.slice(0, at), pair.slice(at + 1)];
      }));
      if (env.MESOS_EXECUTOR_ID === executorId) return env;
    } catch {
      // A process that ended meanwhile.
    }
  }
  return undefined;
}

test('the executor run starts has its own token, and the executor API refuses a call without it', { timeout: 120_000 }, async (t) => {
  const task = shellTask("trap 'exit 0' TERM; while true; do sleep 0.1; done");
  const path = join(mkdtempSync(join(tmpdir(), 'cli-token-')), 'task.json');
  writeFileSync(path, JSON.stringify(toMesosJson('mesos.v1.TaskInfo', task)));
  const child = spawn(process.execPath, [AGENT, 'run', path, `--work_dir=${mkdtempSync(join(tmpdir(), 'cli-token-work-'))}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolveExit) => child.on('close', (code) => resolveExit(code)));
  t.after(() => child.kill('SIGKILL'));

  const port = await eventually('the agent to listen', () => /listening on 127\.0\.0\.1:(\d+)/.exec(output)?.[1], 30_000);
  await eventually('the task to run', () => output.includes('TASK_RUNNING') || undefined, 60_000);
  const env = await eventually('the executor process', () => executorEnvironment(task.task_id.value), 10_000);
  const token = env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN ?? '';
  assert.match(token, /^[0-9a-f]{64}$/, 'the executor was given a token');

  const subscribe = (authorization?: string) => fetch(`http://127.0.0.1:${port}/api/v1/executor`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...(authorization ? { Authorization: authorization } : {}) },
    body: JSON.stringify({ type: 'SUBSCRIBE', framework_id: { value: env.MESOS_FRAMEWORK_ID }, executor_id: { value: task.task_id.value }, subscribe: {} }),
  });
  assert.equal((await subscribe()).status, 401, 'no token');
  assert.equal((await subscribe(`Bearer ${'0'.repeat(64)}`)).status, 401, 'another token');

  child.kill('SIGINT');
  await exited;
  assert.match(output, /TASK_KILLED/, 'the real executor was not displaced: it killed its task');
});
