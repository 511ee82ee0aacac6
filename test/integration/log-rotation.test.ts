// Rotating sandbox logs through the local agent (the LogrotateContainerLogger's role): a real
// container's stdout rotated into stdout, stdout.1 .. stdout.N with the kept tail byte-exact,
// the count respected and the oldest dropped; per-task overrides from the task's environment (which
// still reaches the container); a bad override failing the task before launch; and the logger
// outliving the agent process, so that output written after the agent is gone still lands.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { ContainerLaunchError } from '../../src/agent/local-agent.js';
import type { LogrotateSettings } from '../../src/agent/logrotate-settings.js';
import { toMesosJson } from '../../src/protocol/mesos-json.js';
import { mesos } from '../../src/proto/generated/mesos.js';
import { DockerError } from '../../src/docker/docker-error.js';
import { containerExists, eventually, exitCode, sandboxFile, shellTask, startAgent, terminal, withDocker } from '../helpers/harness.js';

const { TaskState } = mesos.v1;
const AGENT = resolve(import.meta.dirname, '../../dist/agent.js');
const LOGGER = resolve(import.meta.dirname, '../../dist/logrotate.js');
const KB = 1024;

// What busybox's `seq -w 1 <last>` writes: every number zero-padded to the width of the last.
function seqOutput(last: number): Buffer {
  const width = String(last).length;
  const lines: string[] = [];
  for (let n = 1; n <= last; n++) lines.push(`${String(n).padStart(width, '0')}\n`);
  return Buffer.from(lines.join(''));
}

// The rotated files present, and their content reassembled oldest first.
function rotated(sandbox: string, name: string): { names: string[]; content: Buffer } {
  const names = readdirSync(sandbox).filter((entry) => entry === name || entry.startsWith(`${name}.`));
  const order = names.map((entry) => (entry === name ? 0 : Number(entry.slice(name.length + 1)))).sort((a, b) => b - a);
  const content = Buffer.concat(order.map((index) => readFileSync(join(sandbox, index === 0 ? name : `${name}.${index}`))));
  return { names: names.sort(), content };
}

function settings(stdout: { maxBytes: number; keep: number }, stderr = { maxBytes: 10 * KB * KB, keep: 0 }): LogrotateSettings {
  return { loggerPath: LOGGER, stdout, stderr };
}

test('3 MB of a container\'s stdout rotated at 256KB, rotate 5: six files, the kept tail byte-exact', async (t) => {
  const agent = await startAgent(t, { containerLogger: settings({ maxBytes: 256 * KB, keep: 5 }) });
  const last = 450_000;
  const record = agent.launch(shellTask(`seq -w 1 ${last}; echo done >&2`));
  const update = await terminal(agent, record, 120_000);
  assert.equal(update.status.state, TaskState.TASK_FINISHED, update.status.message ?? '');
  assert.equal(await exitCode(record), 0);

  const expected = seqOutput(last);
  assert.ok(expected.length > 3 * KB * KB);
  const { names, content } = rotated(record.sandbox, 'stdout');
  assert.deepEqual(names, ['stdout', 'stdout.1', 'stdout.2', 'stdout.3', 'stdout.4', 'stdout.5']);
  for (let index = 1; index <= 5; index++) assert.equal(statSync(join(record.sandbox, `stdout.${index}`)).size, 256 * KB);
  // Every file but the current one is full, so the kept bytes are exactly this tail.
  const kept = 5 * 256 * KB + (expected.length % (256 * KB) || 256 * KB);
  assert.equal(content.length, kept);
  assert.ok(content.equals(expected.subarray(expected.length - kept)), 'the kept files reassemble into the tail of the output');
  // The oldest bytes were dropped: the first line is gone.
  assert.ok(!content.subarray(0, 7).equals(Buffer.from('000001\n')));
  // stderr (the executor's lines and the container's) stayed small, and was not rotated.
  assert.match(sandboxFile(record, 'stderr'), /done/);
  assert.ok(!existsSync(join(record.sandbox, 'stderr.1')));
});

test('per-task overrides from the task\'s environment, which the container still sees', async (t) => {
  const agent = await startAgent(t, { containerLogger: settings({ maxBytes: 10 * KB * KB, keep: 0 }) });
  const last = 60_000; // 360,000 bytes: five files of 64KB and a sixth in progress
  const task = shellTask(`seq -w 1 ${last}; env | grep ^CONTAINER_LOGGER_ | sort >&2`, {
    command: {
      shell: true,
      value: `seq -w 1 ${last}; env | grep ^CONTAINER_LOGGER_ | sort >&2`,
      environment: {
        variables: [
          { name: 'CONTAINER_LOGGER_MAX_STDOUT_SIZE', value: '64KB' },
          { name: 'CONTAINER_LOGGER_LOGROTATE_STDOUT_OPTIONS', value: 'rotate 2' },
        ],
      },
    },
  });
  const record = agent.launch(task);
  const update = await terminal(agent, record, 120_000);
  assert.equal(update.status.state, TaskState.TASK_FINISHED, update.status.message ?? '');
  await exitCode(record);
  const expected = seqOutput(last);
  const { names, content } = rotated(record.sandbox, 'stdout');
  assert.deepEqual(names, ['stdout', 'stdout.1', 'stdout.2']);
  const kept = 2 * 64 * KB + (expected.length % (64 * KB));
  assert.ok(content.equals(expected.subarray(expected.length - kept)));
  assert.match(sandboxFile(record, 'stderr'), /CONTAINER_LOGGER_LOGROTATE_STDOUT_OPTIONS=rotate 2\nCONTAINER_LOGGER_MAX_STDOUT_SIZE=64KB\n/);
});

test('a bad override fails the task before launch, naming the variable', async (t) => {
  const agent = await startAgent(t, { containerLogger: settings({ maxBytes: 256 * KB, keep: 1 }) });
  const task = shellTask('echo never', {
    command: { shell: true, value: 'echo never', environment: { variables: [{ name: 'CONTAINER_LOGGER_LOGROTATE_STDERR_OPTIONS', value: 'rotate 3\ncompress' }] } },
  });
  let launched = false;
  agent.once('launched', () => {
    launched = true;
  });
  const error = await agent.launchTask(task).then(() => undefined, (caught: unknown) => caught);
  assert.ok(error instanceof ContainerLaunchError, `expected a ContainerLaunchError, got ${String(error)}`);
  const status = error.launch.updates[0]!.status;
  assert.equal(status.state, TaskState.TASK_FAILED);
  assert.equal(status.source, mesos.v1.TaskStatus.Source.SOURCE_AGENT);
  assert.equal(status.reason, mesos.v1.TaskStatus.Reason.REASON_CONTAINER_LAUNCH_FAILED);
  assert.equal(status.message, "Failed to launch container: Invalid CONTAINER_LOGGER_LOGROTATE_STDERR_OPTIONS in the task's environment: unsupported logrotate option 'compress' (only 'rotate N' is supported)");
  assert.equal(launched, false);
  assert.equal(await containerExists(error.launch.containerName), false);
});

test('attack: links and a FIFO the container plants at the rotated names change no host file', async (t) => {
  const hostDir = mkdtempSync(join(tmpdir(), 'rotate-host-'));
  const hostFile = join(hostDir, 'another-tenant.log');
  writeFileSync(hostFile, 'not the container\'s\n');
  const agent = await startAgent(t, { containerLogger: settings({ maxBytes: 8 * KB, keep: 3 }) });
  const last = 20_000;
  const plant = [
    `ln -sf ${hostFile} "$MESOS_SANDBOX/stdout.1"`,
    `ln -sf ${hostFile} "$MESOS_SANDBOX/stdout.2"`,
    'mkfifo "$MESOS_SANDBOX/stdout.3"',
    `ln -sf ${hostFile} "$MESOS_SANDBOX/stdout"`,
  ].join(' && ');
  const record = agent.launch(shellTask(`${plant} && seq -w 1 ${last}`));
  const update = await terminal(agent, record, 120_000);
  assert.equal(update.status.state, TaskState.TASK_FINISHED, `${update.status.message ?? ''}\n${sandboxFile(record, 'stderr')}`);
  await exitCode(record);
  assert.equal(readFileSync(hostFile, 'utf8'), 'not the container\'s\n', 'the host file is neither written nor truncated');
  assert.deepEqual(readdirSync(hostDir), ['another-tenant.log'], 'nor removed or renamed');
  const { names, content } = rotated(record.sandbox, 'stdout');
  assert.deepEqual(names, ['stdout', 'stdout.1', 'stdout.2', 'stdout.3']);
  for (const name of names) assert.ok(lstatSync(join(record.sandbox, name)).isFile(), `${name} is a regular file of the logger's`);
  const expected = seqOutput(last);
  assert.ok(content.equals(expected.subarray(expected.length - content.length)));
  assert.equal(content.length, 3 * 8 * KB + (expected.length % (8 * KB)));
});

// Processes working in `directory` (the executor and its loggers run in the sandbox).
function processesIn(directory: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) === directory) pids.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return pids;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

test('the logger outlives the agent process: output written after the agent is killed still lands, rotated', async (t) => {
  const workDir = mkdtempSync(join(tmpdir(), 'rotate-agent-'));
  const last = 4000; // 20,000 bytes after the agent is gone: four full 4KB files and a part, the oldest dropped
  // The container waits for the test to say the agent is gone, then writes.
  const command = `echo before; while [ ! -e "$MESOS_SANDBOX/go" ]; do sleep 0.1; done; seq -w 1 ${last}`;
  const taskPath = join(workDir, 'task.json');
  writeFileSync(taskPath, JSON.stringify(toMesosJson('mesos.v1.TaskInfo', shellTask(command))));
  const agentProcess = spawn(process.execPath, [
    AGENT, 'run', taskPath, `--work_dir=${workDir}`, '--checkpoint=true',
    '--container_logger=rotate', '--max_stdout_size=4KB', '--logrotate_stdout_options=rotate 3',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  agentProcess.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  agentProcess.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const agentExit = new Promise((resolvePromise) => agentProcess.on('exit', resolvePromise));
  t.after(() => agentProcess.kill('SIGKILL'));

  const sandbox = await eventually('the agent to print the sandbox', () => /^sandbox (\/.*)$/m.exec(output)?.[1], 60_000);
  const containerName = await eventually('the container name', () => /container (mesos-[0-9a-f-]+)/.exec(output)?.[1]);
  t.after(async () => {
    // The executor waits for its agent for the recovery timeout: end it, and its container.
    for (const pid of processesIn(sandbox)) if (commandLine(pid).includes('executor')) process.kill(pid, 'SIGKILL');
    await withDocker((docker) => docker.remove(containerName).catch((error: unknown) => {
      if (!(error instanceof DockerError && (error.notFound || error.status === 409))) throw error;
    }));
  });
  await eventually('the first line in stdout', () => existsSync(join(sandbox, 'stdout')) && readFileSync(join(sandbox, 'stdout'), 'utf8') === 'before\n', 60_000);
  const loggers = processesIn(sandbox).filter((pid) => commandLine(pid).includes('logrotate.js'));
  assert.equal(loggers.length, 2, 'one logger per stream');

  agentProcess.kill('SIGKILL');
  await agentExit;
  writeFileSync(join(sandbox, 'go'), '');

  const expected = Buffer.concat([Buffer.from('before\n'), seqOutput(last)]);
  const content = await eventually('the output written after the agent died', () => {
    const files = rotated(sandbox, 'stdout');
    return files.content.length === 3 * 4 * KB + (expected.length % (4 * KB)) ? files.content : undefined;
  }, 60_000);
  assert.ok(content.equals(expected.subarray(expected.length - content.length)), 'rotated and byte-exact');
  assert.deepEqual(readdirSync(sandbox).filter((name) => name.startsWith('stdout')).sort(), ['stdout', 'stdout.1', 'stdout.2', 'stdout.3']);

  // The loggers end when the executor (the last writer) does.
  for (const pid of processesIn(sandbox)) if (commandLine(pid).includes('executor')) process.kill(pid, 'SIGKILL');
  await eventually('the loggers to exit at the end of their input', () => loggers.every((pid) => !existsSync(`/proc/${pid}`)), 30_000);
});
