// The built dist/agent.js as an operator runs it: `run --json_updates` prints one Mesos-JSON
// TaskStatus per line on stdout (the URIs fetched first, progress and human lines on stderr),
// and `fetch` runs the fetcher alone. Credentials in a URI appear in no output.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { decodeJsonValue } from '../../src/protocol/codec.js';
import { parseJsonTolerant } from '../../src/protocol/mesos-json.js';
import { toMesosJson } from '../../src/protocol/mesos-json.js';
import { mesos } from '../../src/proto/generated/mesos.js';
import { stateName } from '../../src/executor/task-states.js';
import { shellTask } from '../helpers/harness.js';
import { serveFiles } from '../helpers/file-server.js';

const AGENT = resolve(import.meta.dirname, '../../dist/agent.js');
const PASSWORD = 'cli-Pa55word';

function runAgent(args: string[], timeoutMs = 90_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [AGENT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`agent.js ${args[0]} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

function taskFile(command: string, uris: mesos.v1.CommandInfo.IURI[]): string {
  const task = shellTask(command);
  task.command!.uris = uris.map((uri) => mesos.v1.CommandInfo.URI.fromObject(uri));
  const path = join(mkdtempSync(join(tmpdir(), 'cli-task-')), 'task.json');
  writeFileSync(path, JSON.stringify(toMesosJson('mesos.v1.TaskInfo', task)));
  return path;
}

function statuses(stdout: string): mesos.v1.TaskStatus[] {
  const lines = stdout.split('\n');
  assert.equal(lines.pop(), '', 'stdout ends with a newline');
  return lines.map((line) => decodeJsonValue('mesos.v1.TaskStatus', parseJsonTolerant(line)));
}

test('run --json_updates prints each update as one Mesos-JSON line; the fetch is reported on stderr, redacted', async (t) => {
  const server = await serveFiles(t, { '/hello.txt': { body: 'fetched hello\n', credentials: `ops:${PASSWORD}` } });
  const uri = `http://ops:${PASSWORD}@127.0.0.1:${server.port}/hello.txt`;
  const workDir = mkdtempSync(join(tmpdir(), 'cli-agent-'));
  const result = await runAgent(['run', taskFile('cat "$MESOS_SANDBOX/hello.txt"', [{ value: uri }]), '--json_updates', `--work_dir=${workDir}`]);
  assert.equal(result.code, 0, result.stderr);
  const updates = statuses(result.stdout);
  assert.deepEqual(updates.map((status) => stateName(status.state)), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  for (const status of updates) assert.equal(status.uuid.length, 16);
  assert.match(result.stderr, new RegExp(`fetched http://\\*\\*\\*@127\\.0\\.0\\.1:${server.port}/hello\\.txt to hello\\.txt \\(14 bytes\\)`));
  assert.match(result.stderr, /--- sandbox stdout ---\nfetched hello\n/);
  assert.ok(!result.stdout.includes(PASSWORD) && !result.stderr.includes(PASSWORD));
});

test('run --json_updates with a failing fetch prints the agent\'s TASK_FAILED line and exits 1', async (t) => {
  const server = await serveFiles(t, {});
  const workDir = mkdtempSync(join(tmpdir(), 'cli-agent-'));
  const result = await runAgent(['run', taskFile('true', [{ value: `http://u:${PASSWORD}@127.0.0.1:${server.port}/nope.tgz` }]), '--json_updates', `--work_dir=${workDir}`]);
  assert.equal(result.code, 1);
  const [status, ...rest] = statuses(result.stdout);
  assert.equal(rest.length, 0);
  assert.equal(status!.state, mesos.v1.TaskState.TASK_FAILED);
  assert.equal(status!.source, mesos.v1.TaskStatus.Source.SOURCE_AGENT);
  assert.equal(status!.reason, mesos.v1.TaskStatus.Reason.REASON_CONTAINER_LAUNCH_FAILED);
  assert.match(status!.message, /^Failed to launch container: Failed to fetch all URIs for container '[0-9a-f-]+': Failed to fetch 'http:\/\/\*\*\*@127\.0\.0\.1:\d+\/nope\.tgz': the server answered HTTP 404 Not Found$/);
  assert.match(result.stderr, /no executor started/);
  assert.ok(!result.stdout.includes(PASSWORD) && !result.stderr.includes(PASSWORD));
});

test('fetch puts URIs into a directory without an agent, and fails with a redacted message', async (t) => {
  const server = await serveFiles(t, { '/tool': '#!/bin/sh\n' });
  const sandbox = mkdtempSync(join(tmpdir(), 'cli-fetch-'));
  const ok = await runAgent(['fetch', `${server.origin}/tool`, `--sandbox=${sandbox}`, '--executable', '--output_file=bin/tool']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, `fetched ${server.origin}/tool to bin/tool (10 bytes, executable)\n`);
  assert.equal(readFileSync(join(sandbox, 'bin/tool'), 'utf8'), '#!/bin/sh\n');
  assert.equal(statSync(join(sandbox, 'bin/tool')).mode & 0o777, 0o755);

  const failed = await runAgent(['fetch', `http://me:${PASSWORD}@127.0.0.1:${server.port}/absent`, `--sandbox=${sandbox}`]);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /fetch: Failed to fetch 'http:\/\/\*\*\*@127\.0\.0\.1:\d+\/absent': the server answered HTTP 404 Not Found\n/);
  assert.ok(!failed.stderr.includes(PASSWORD) && !failed.stdout.includes(PASSWORD));

  const refused = await runAgent(['fetch', `${server.origin}/tool`, `--sandbox=${sandbox}`, '--output_file=../escape']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /output_file '\.\.\/escape' has a '\.\.' component: expected a path inside the sandbox/);

  const help = await runAgent(['fetch', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--fetcher_max_size=<string>/);
  const runHelp = await runAgent(['--help']);
  assert.match(runHelp.stdout, /--json_updates=<bool>/);
});
