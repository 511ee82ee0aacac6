// The executor itself in a container (--docker_mesos_image, spec 3.16.4): the core lifecycle
// cases, byte-exact output, a health check through the task's namespaces, an agent restart the
// container outlives, and an executor container killed and started again that adopts its task.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { executorStateRoot } from '../../src/agent/launcher.js';
import type { ExecutorRecord, LocalAgent } from '../../src/agent/local-agent.js';
import { mesos } from '../../src/proto/generated/mesos.js';
import {
  allCommandLines, containerExists, eventually, exitCode, inspectContainer, sandboxFile, shellTask, startAgent, states, terminal, type AgentOverrides,
} from '../helpers/harness.js';
import { ensureExecutorImage } from '../helpers/executor-images.js';

const { TaskState } = mesos.v1;
const { TASK_KILLING_STATE } = mesos.v1.FrameworkInfo.Capability.Type;
const Reason = mesos.v1.TaskStatus.Reason;
const TOKEN = `in-container-token-${process.pid}-${Date.now()}`;

async function containerAgent(t: TestContext, overrides: AgentOverrides = {}): Promise<LocalAgent> {
  const image = await ensureExecutorImage();
  return startAgent(t, { dockerMesosImage: image, frameworkCapabilities: [TASK_KILLING_STATE], ...overrides });
}

function executorContainer(record: ExecutorRecord): string {
  return `mesos-${record.containerId}.executor`;
}

describe('the executor in a container', { concurrency: 3 }, () => {
  it('runs a task to TASK_FINISHED in a container mapped as spec 3.16.4 says, then is reaped', async (t) => {
    const agent = await containerAgent(t, { authToken: TOKEN });
    agent.autoAcknowledge = false;
    const record = agent.launch(shellTask('echo hello; sleep 2'));
    await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
    const taskLabels = (await inspectContainer(record.containerName)).Config.Labels;
    const last = await terminal(agent, record);
    const inspect = await inspectContainer(executorContainer(record));
    const host = inspect.HostConfig;
    assert.equal(host.PidMode, 'host');
    assert.equal(host.NetworkMode, 'host');
    assert.ok(host.CapAdd.some((cap: string) => /SYS_ADMIN$/.test(cap)) && host.CapAdd.some((cap: string) => /SYS_PTRACE$/.test(cap)));
    assert.notEqual(host.Privileged, true);
    const stateRoot = executorStateRoot(record.spec.workDir);
    for (const bind of ['/var/run/docker.sock:/var/run/docker.sock:ro', `${record.sandbox}:${record.sandbox}`, `${stateRoot}:${stateRoot}`]) {
      assert.ok(host.Binds.includes(bind), `binds ${bind}`);
    }
    assert.equal(inspect.Config.Labels['org.apache.mesos.container_id'], record.containerId);
    assert.equal(inspect.Config.Labels['org.apache.mesos.container_kind'], 'executor');
    assert.ok(inspect.Config.Cmd.includes(`--container=mesos-${record.containerId}`));
    assert.ok(inspect.Config.Cmd.includes(`--sandbox_directory=${record.sandbox}`));
    assert.ok(inspect.Config.Env.includes(`MESOS_EXECUTOR_AUTHENTICATION_TOKEN=${TOKEN}`));
    assert.ok(![inspect.Path, ...inspect.Args].join(' ').includes(TOKEN));
    assert.ok(!allCommandLines().some((line) => line.includes(TOKEN)), 'no token on any command line');

    // The task container names its owner as the orphan sweep needs: the executor's container, and
    // the host's PID namespace (pid=host), where its pid is the host's.
    assert.equal(taskLabels['org.apache.mesos.executor_container_id'], inspect.Id);
    assert.equal(taskLabels['org.apache.mesos.executor_pid_namespace'], readlinkSync('/proc/self/ns/pid'));
    assert.equal(taskLabels['org.apache.mesos.executor_pid'], String(inspect.State.Pid));

    for (const update of record.updates) agent.acknowledge(record.executorId, update.status);
    assert.equal(last.status.state, TaskState.TASK_FINISHED);
    assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    assert.equal(await exitCode(record), 0);
    assert.equal(sandboxFile(record, 'stdout'), 'hello\n');
    assert.equal(await containerExists(record.containerName), false);
    assert.equal(await containerExists(executorContainer(record)), false, 'the executor container is reaped');
  });

  it('reports a failing task and the executor container exits 0', async (t) => {
    const agent = await containerAgent(t);
    const record = agent.launch(shellTask('echo oops >&2; exit 3'));
    const last = await terminal(agent, record);
    assert.equal(last.status.state, TaskState.TASK_FAILED);
    assert.match(last.status.message ?? '', /^Container exited with status 3\b/);
    assert.equal(await exitCode(record), 0);
    assert.match(sandboxFile(record, 'stderr'), /^oops$/m);
  });

  it('kills a task on KILL', async (t) => {
    const agent = await containerAgent(t);
    const record = agent.launch(shellTask("trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.1; done"));
    await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
    await eventually('the task to be ready', () => sandboxFile(record, 'stdout').includes('ready') || undefined);
    agent.kill(record.executorId, 5000);
    const last = await terminal(agent, record);
    assert.equal(last.status.state, TaskState.TASK_KILLED);
    assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
    assert.equal(await exitCode(record), 0);
    assert.equal(sandboxFile(record, 'stdout'), 'ready\ngot TERM\n');
    assert.equal(await containerExists(record.containerName), false);
  });

  it('copies the task\'s output byte for byte, through two containers', async (t) => {
    const agent = await containerAgent(t);
    // Random bytes (invalid UTF-8 included) with no final newline, and lines on stderr between.
    const blob = Buffer.concat([randomBytes(300_000), Buffer.from([0xff, 0xfe, 0x00, 0xc3])]);
    const record = agent.launch(shellTask('cat "$MESOS_SANDBOX/blob"; echo to-stderr >&2'), { sandboxFiles: { blob } });
    const last = await terminal(agent, record);
    assert.equal(last.status.state, TaskState.TASK_FINISHED);
    assert.equal(await exitCode(record), 0);
    const stdout = readFileSync(join(record.sandbox, 'stdout'));
    assert.equal(stdout.length, blob.length);
    assert.ok(stdout.equals(blob), 'the sandbox stdout is the task\'s stdout, exactly');
    assert.match(sandboxFile(record, 'stderr'), /^to-stderr$/m);
  });

  it('runs a COMMAND health check in the task and a TCP one in its network namespace', async (t) => {
    const agent = await containerAgent(t);
    const command = agent.launch(shellTask('touch /tmp/ok; exec sleep 600', {
      health_check: { type: 'COMMAND', command: { value: 'test -f /tmp/ok' }, delay_seconds: 0, interval_seconds: 0.3, grace_period_seconds: 10, timeout_seconds: 5 },
    }));
    const tcpTask = shellTask('exec nc -ll -p 7000 -e true', {
      health_check: { type: 'TCP', tcp: { port: 7000 }, delay_seconds: 0, interval_seconds: 0.3, grace_period_seconds: 10, timeout_seconds: 5 },
    });
    // No network of its own to share: the check must enter the task's namespace (nsenter, pid=host).
    tcpTask.container!.docker!.network = mesos.v1.ContainerInfo.DockerInfo.Network.NONE;
    const tcp = agent.launch(tcpTask);
    for (const record of [command, tcp]) {
      const healthy = await agent.waitForUpdate(record.executorId, (update) => update.status.reason === Reason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED);
      assert.equal(healthy.status.healthy, true, `${record.executorId} is healthy`);
      agent.kill(record.executorId, 0);
      assert.equal((await terminal(agent, record)).status.state, TaskState.TASK_KILLED);
      assert.equal(await exitCode(record), 0);
    }
  });

  it('outlives an agent restart: the executor container runs on while the agent is down and resubscribes', async (t) => {
    const agent = await containerAgent(t, { checkpoint: true, subscriptionBackoffMaxMs: 300, recoveryTimeoutMs: 60_000 });
    const record = agent.launch(shellTask('sleep 3; echo done'));
    await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
    await agent.stop();
    // The executor has noticed the agent is gone (and, checkpointing, waits to subscribe again).
    await eventually('the executor to notice the agent is gone', () => sandboxFile(record, 'stderr').includes('Disconnected from agent') || undefined, 20_000);
    assert.equal((await inspectContainer(executorContainer(record))).State.Running, true, 'the executor container runs while the agent is down');
    assert.equal(record.exitCode, undefined);
    await agent.start();
    const last = await terminal(agent, record);
    assert.equal(last.status.state, TaskState.TASK_FINISHED);
    assert.ok(record.subscribeCalls.length >= 2, 'resubscribed after the restart');
    assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    assert.equal(await exitCode(record), 0);
    assert.equal(sandboxFile(record, 'stdout'), 'done\n');
  });

  it('adopts its task when the executor container is killed and started again', async (t) => {
    const agent = await containerAgent(t, { checkpoint: true, subscriptionBackoffMaxMs: 200 });
    const record = agent.launch(shellTask("trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo \"line $i\"; sleep 0.05; done"));
    await agent.waitForUpdate(record.executorId, (update) => update.status.state === TaskState.TASK_RUNNING);
    await eventually('some output', () => sandboxFile(record, 'stdout').split('\n').length > 10 || undefined);
    record.process.kill('SIGKILL');
    await exitCode(record);
    assert.equal(await containerExists(executorContainer(record)), false, 'the dead executor container is reaped');
    assert.equal(await containerExists(record.containerName), true, 'the task container outlives its executor');
    const subscriptions = record.subscribeCalls.length;
    agent.relaunch(record.executorId);
    await eventually('the new executor to subscribe', () => record.subscribeCalls.length > subscriptions || undefined);
    agent.kill(record.executorId, 5000);
    const last = await terminal(agent, record);
    assert.equal(last.status.state, TaskState.TASK_KILLED);
    assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
    assert.equal(await exitCode(record), 0);
    const lines = sandboxFile(record, 'stdout').split('\n').filter(Boolean);
    lines.forEach((line, index) => assert.equal(line, `line ${index + 1}`));
    assert.match(sandboxFile(record, 'stderr'), /Adopting container/);
  });
});
