// A task's environment cannot run code in the executor (issue 8, finding 1): NODE_OPTIONS, LD_*
// and a PATH that puts fake node, nsenter, curl, bash, sh, env and sed from the sandbox first,
// through the shim and the built bundle, with checks that make the executor run its helpers.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { SandboxFile } from '../../src/agent/launcher.js';
import { AGENT_ENVIRONMENT, TRUSTED_PATH } from '../../scripts/executor-shim.mjs';
import { eventually, shellTask, startAgent, terminal } from '../helpers/harness.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;
const { Reason } = mesos.v1.TaskStatus;
const { BRIDGE } = mesos.v1.ContainerInfo.DockerInfo.Network;

const FAKED = ['node', 'nsenter', 'curl', 'bash', 'sh', 'env', 'sed', 'tr', 'readlink'];

// The real program a fake hands over to, so that a fake that runs shows as a canary, not a hang.
function realProgram(name: string): string {
  if (name === 'node') return process.execPath;
  const found = TRUSTED_PATH.split(':').map((directory) => `${directory}/${name}`).find((path) => existsSync(path));
  assert.ok(found, `${name} is installed`);
  return found;
}

// NAME=value entries of a process's initial environment.
function environOf(pid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').filter(Boolean);
  return new Map(entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}

test('NODE_OPTIONS, LD_* and a PATH of fake helpers in the task environment run nothing outside the container', async (t) => {
  const canaries = mkdtempSync(join(tmpdir(), 'attack-canaries-'));
  t.after(() => rmSync(canaries, { recursive: true, force: true }));
  const sandboxFiles: Record<string, SandboxFile> = {};
  for (const name of FAKED) {
    sandboxFiles[`bin/${name}`] = { content: `#!/bin/sh\necho "$0 $*" > '${canaries}/${name}'\nexec '${realProgram(name)}' "$@"\n`, executable: true };
  }
  const nodeOptionsCanary = join(canaries, 'node-options');
  const environment = [
    { name: 'NODE_OPTIONS', value: `--import=data:text/javascript,import('node:fs').then(f=>f.writeFileSync('${nodeOptionsCanary}',String(process.getuid())))` },
    { name: 'LD_PRELOAD', value: '/mnt/mesos/sandbox/bin/missing.so' },
    { name: 'LD_LIBRARY_PATH', value: '/mnt/mesos/sandbox/bin' },
    // Relative: the executor's working directory is the sandbox, the container's is /.
    { name: 'PATH', value: `bin:${TRUSTED_PATH}` },
    { name: 'ATTACK_MARKER', value: 'from-the-task' },
  ];

  const agent = await startAgent(t);
  const task = shellTask(
    'mkdir -p /tmp/www && echo ok > /tmp/www/index.html && httpd -p 8080 -h /tmp/www; '
      + 'echo "task sees $ATTACK_MARKER"; while [ ! -f /mnt/mesos/sandbox/done ]; do sleep 0.1; done',
    {
      // Nothing listens on 7001: each attempt runs nsenter and bash, and fails.
      health_check: { type: 'TCP', tcp: { port: 7001 }, delay_seconds: 0, interval_seconds: 0.2, grace_period_seconds: 0, consecutive_failures: 100 },
      // httpd answers on 8080 inside the container: nsenter and curl.
      check: { type: 'HTTP', http: { port: 8080, path: '/index.html' }, delay_seconds: 0.5, interval_seconds: 0.2, timeout_seconds: 2 },
    },
  );
  task.command!.environment = { variables: environment };
  task.container!.docker!.network = BRIDGE;
  const record = agent.launch(task, { sandboxFiles });
  const pid = record.process.pid!;

  const health = await agent.waitForUpdate(record.executorId, (update) => update.status.reason === Reason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED, 30_000);
  assert.equal(health.status.healthy, false);
  assert.match(health.status.message ?? '', /Connection refused/, 'bash reached the closed port inside the container');
  const check = await agent.waitForUpdate(record.executorId, (update) => update.status.reason === Reason.REASON_TASK_CHECK_STATUS_UPDATED && update.status.check_status?.http?.status_code === 200, 30_000);
  assert.equal(check.status.state, TaskState.TASK_RUNNING);
  assert.deepEqual(readdirSync(canaries), [], 'no fake helper and no NODE_OPTIONS payload ran on the host');

  // The shim exec'd node in the same process: its environment is the one Node started with.
  await eventually('the executor to be node', () => readlinkSync(`/proc/${pid}/exe`) === realpathSync(process.execPath));
  const environ = environOf(pid);
  const allowed = new Set(['PATH', ...AGENT_ENVIRONMENT]);
  assert.deepEqual([...environ.keys()].filter((name) => !allowed.has(name)), [], 'only the contract and PATH');
  assert.equal(environ.get('PATH'), TRUSTED_PATH);
  assert.ok([...environ.values()].every((value) => !value.includes('from-the-task') && !value.includes('import(')), 'no task value under any name');

  writeFileSync(join(record.sandbox, 'done'), '');
  const last = await terminal(agent, record);
  assert.equal(last.status.state, TaskState.TASK_FINISHED, last.status.message ?? '');
  assert.match(readFileSync(join(record.sandbox, 'stdout'), 'utf8'), /task sees from-the-task/, 'the task still got its environment');
  assert.deepEqual(readdirSync(canaries), [], 'none ran later either');
});
