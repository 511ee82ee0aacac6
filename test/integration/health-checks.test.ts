// Health checks and general checks through the built executor, the local agent and real
// containers: COMMAND checks run inside the container, HTTP and TCP checks reach the task's own
// loopback for host, bridge and none networks alike.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import type { ExecutorRecord, ReceivedUpdate } from '../../src/agent/local-agent.js';
import { demuxOutput } from '../../src/docker/output-demux.js';
import { stateName } from '../../src/executor/task-states.js';
import { OutputTail } from '../../src/checks/output-tail.js';
import { containerExists, eventually, exitCode, shellTask, startAgent, states, terminal, withDocker } from '../helpers/harness.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;
const { Reason } = mesos.v1.TaskStatus;
const { BRIDGE, NONE } = mesos.v1.ContainerInfo.DockerInfo.Network;
const { TASK_KILLING_STATE } = mesos.v1.FrameworkInfo.Capability.Type;

// The task keeps running until SIGTERM, which it answers at once.
const UNTIL_TERM = "trap 'exit 0' TERM; while true; do sleep 0.1; done";

function fresh(record: ExecutorRecord): ReceivedUpdate[] {
  return record.updates.filter((update) => !update.duplicate);
}

function healthUpdates(record: ExecutorRecord): ReceivedUpdate[] {
  return fresh(record).filter((update) => update.status.state === TaskState.TASK_RUNNING && update.status.reason === Reason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED);
}

// The exit code of a COMMAND check_status, or 'empty' (decoded messages read unset fields as 0).
function checkResult(update: ReceivedUpdate): string {
  const command = update.status.check_status?.command;
  return command && Object.hasOwn(command, 'exit_code') ? String(command.exit_code) : 'empty';
}

function healthOf(update: ReceivedUpdate): boolean | undefined {
  return Object.hasOwn(update.status, 'healthy') ? (update.status.healthy ?? undefined) : undefined;
}

// A free port >= 30000 on this host, for a task on host networking.
async function hostPort(): Promise<number> {
  for (;;) {
    const port = 30_000 + Math.floor(Math.random() * 30_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

// What `ps` shows inside the container, through the Engine API.
async function psInContainer(name: string): Promise<string> {
  return withDocker(async (docker) => {
    const exec = await docker.execCreate(name, { cmd: ['ps', '-o', 'pid,stat,args'] });
    const output = new OutputTail(64 * 1024);
    await demuxOutput(await docker.execStart(exec), output, output);
    return output.text;
  });
}

function httpd(port: number): string {
  return `mkdir -p /tmp/www && echo ok > /tmp/www/index.html && exec httpd -f -p ${port} -h /tmp/www`;
}

describe('health checks and checks', { concurrency: 4 }, () => {
  it('a COMMAND health check goes healthy, then unhealthy, and kills the task with healthy=false', async (t) => {
    const agent = await startAgent(t, { frameworkCapabilities: [TASK_KILLING_STATE] });
    const record = agent.launch(shellTask(`touch /tmp/ok; sleep 2; rm /tmp/ok; ${UNTIL_TERM}`, {
      kill_policy: { grace_period: { nanoseconds: 3_000_000_000 } },
      health_check: {
        type: 'COMMAND',
        command: { value: 'test -f /tmp/ok && test "$CHECK_VAR" = from-the-check', environment: { variables: [{ name: 'CHECK_VAR', value: 'from-the-check' }] } },
        delay_seconds: 0,
        interval_seconds: 0.3,
        timeout_seconds: 5,
        // Until the first success: the check may run before the task has created the file.
        grace_period_seconds: 1,
        consecutive_failures: 2,
      },
    }));

    const last = await terminal(agent, record);
    assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
    assert.deepEqual(healthUpdates(record).map(healthOf), [true, false, false], 'healthy once (the variable reached the check), then two failures');
    assert.equal(healthOf(fresh(record)[1]!), undefined, 'the first TASK_RUNNING says nothing of health');
    assert.match(healthUpdates(record)[1]!.status.message ?? '', /The COMMAND 'test -f \/tmp\/ok .*' health check failed \(1 consecutive\): exited with status 1/);
    assert.equal(last.status.state, TaskState.TASK_KILLED);
    assert.equal(last.status.healthy, false);
    assert.match(last.status.message ?? '', /^Container killed after failing its health check with SIGTERM: .*; the COMMAND 'test -f \/tmp\/ok.*' health check failed 2 consecutive times, last: exited with status 1$/);
    assert.equal(await exitCode(record), 0);
    assert.equal(await containerExists(record.containerName), false);
  });

  it('an HTTP health check reaches httpd on host networking', async (t) => {
    const agent = await startAgent(t);
    const port = await hostPort();
    const record = agent.launch(shellTask(httpd(port), {
      health_check: { type: 'HTTP', http: { port, path: '/index.html' }, delay_seconds: 0, interval_seconds: 0.2, grace_period_seconds: 10, timeout_seconds: 2 },
    }));
    const healthy = await agent.waitForUpdate(record.executorId, (update) => update.status.reason === Reason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED);
    assert.equal(healthy.status.healthy, true);
    assert.equal(healthy.status.state, TaskState.TASK_RUNNING);
    agent.kill(record.executorId, 0);
    await terminal(agent, record);
    assert.deepEqual(healthUpdates(record).map(healthOf), [true], 'one update: health did not change');
  });

  it('an HTTP health check reaches a bridge container inside its namespace, and the update carries its IP', async (t) => {
    const agent = await startAgent(t);
    const task = shellTask(httpd(8080), {
      health_check: { type: 'HTTP', http: { port: 8080, path: '/index.html', scheme: 'http' }, delay_seconds: 0, interval_seconds: 0.2, grace_period_seconds: 10, timeout_seconds: 2 },
    });
    task.container!.docker!.network = BRIDGE;
    const record = agent.launch(task);
    const healthy = await agent.waitForUpdate(record.executorId, (update) => update.status.reason === Reason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED);
    const running = fresh(record).find((update) => update.status.state === TaskState.TASK_RUNNING)!;
    assert.equal(healthy.status.healthy, true);
    const address = healthy.status.container_status?.network_infos?.[0]?.ip_addresses?.[0]?.ip_address;
    assert.match(address ?? '', /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(address, running.status.container_status?.network_infos?.[0]?.ip_addresses?.[0]?.ip_address);
    assert.equal(healthy.status.data?.length ?? 0, 0, 'the inspect data is not repeated');
    agent.kill(record.executorId, 0);
    await terminal(agent, record);
  });

  it('a TCP health check reaches nc in a container without a network', async (t) => {
    const agent = await startAgent(t);
    const task = shellTask('exec nc -ll -p 7000 -e true', {
      health_check: { type: 'TCP', tcp: { port: 7000 }, delay_seconds: 0, interval_seconds: 0.2, grace_period_seconds: 10, timeout_seconds: 2 },
    });
    task.container!.docker!.network = NONE;
    const record = agent.launch(task);
    const healthy = await agent.waitForUpdate(record.executorId, (update) => update.status.reason === Reason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED);
    assert.equal(healthy.status.healthy, true);
    agent.kill(record.executorId, 0);
    await terminal(agent, record);
  });

  it('a TCP health check with nothing listening fails and kills the task', async (t) => {
    const agent = await startAgent(t);
    const task = shellTask(UNTIL_TERM, {
      health_check: { type: 'TCP', tcp: { port: 7001 }, delay_seconds: 0, interval_seconds: 0.1, grace_period_seconds: 0, consecutive_failures: 1 },
    });
    task.container!.docker!.network = BRIDGE;
    const record = agent.launch(task);
    const last = await terminal(agent, record);
    assert.equal(last.status.state, TaskState.TASK_KILLED);
    assert.equal(last.status.healthy, false);
    assert.match(last.status.message ?? '', /the TCP 127\.0\.0\.1:7001 health check failed 1 consecutive time, last: could not connect: .*Connection refused/);
  });

  it('failures within the grace period produce no health update (GracePeriod)', async (t) => {
    const agent = await startAgent(t);
    const record = agent.launch(shellTask('sleep 2', {
      health_check: { type: 'COMMAND', command: { value: 'exit 1' }, delay_seconds: 0, interval_seconds: 0.1, grace_period_seconds: 60, consecutive_failures: 1 },
    }));
    const last = await terminal(agent, record);
    assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    assert.ok(fresh(record).every((update) => !Object.hasOwn(update.status, 'healthy') || update.status.healthy == null), 'no update sets healthy');
    assert.equal(last.status.message, 'Container exited with status 0');
  });

  it('a general check reports each change of its result, and every update carries check_status', async (t) => {
    const agent = await startAgent(t);
    // Each phase lasts 2.5 s: at least two attempts at the 1 s floor between check attempts.
    const record = agent.launch(shellTask(`touch /tmp/ok; sleep 2.5; rm /tmp/ok; sleep 2.5; touch /tmp/slow; ${UNTIL_TERM}`, {
      check: {
        type: 'COMMAND',
        command: { command: { value: 'if [ -f /tmp/slow ]; then sleep 30; fi; test -f /tmp/ok' } },
        // Time for the task to create the file first.
        delay_seconds: 0.5,
        interval_seconds: 0.2,
        timeout_seconds: 1,
      },
    }));
    // The last change: the slow check times out and the status is empty again.
    await agent.waitForUpdate(record.executorId, (update) => update.status.reason === Reason.REASON_TASK_CHECK_STATUS_UPDATED && checkResult(update) === 'empty', 20_000);
    agent.kill(record.executorId, 2000);
    const last = await terminal(agent, record);

    for (const update of fresh(record)) {
      assert.equal(update.status.check_status?.type, mesos.v1.CheckInfo.Type.COMMAND, `${stateName(update.status.state)} carries a COMMAND check_status`);
      assert.ok(update.status.check_status?.command, `${stateName(update.status.state)} has the command result (maybe empty)`);
    }
    assert.equal(checkResult(fresh(record)[0]!), 'empty', 'TASK_STARTING has the empty status');
    const changes = fresh(record).filter((update) => update.status.reason === Reason.REASON_TASK_CHECK_STATUS_UPDATED);
    assert.deepEqual(changes.map(checkResult), ['0', '1', 'empty'], 'a new TASK_RUNNING only when the result changes');
    assert.ok(changes.every((update) => update.status.state === TaskState.TASK_RUNNING));
    assert.equal(last.status.state, TaskState.TASK_KILLED);
    assert.equal(checkResult(last), 'empty', 'the terminal update carries the last check_status');
    assert.equal(Object.hasOwn(last.status, 'healthy') && last.status.healthy != null, false, 'a general check never sets healthy');
  });

  it('a health check that outlives its timeout is unhealthy, and its process is gone from the container', async (t) => {
    const agent = await startAgent(t);
    const record = agent.launch(shellTask(UNTIL_TERM, {
      health_check: { type: 'COMMAND', command: { value: 'sleep 30' }, delay_seconds: 0, interval_seconds: 10, timeout_seconds: 1, grace_period_seconds: 0, consecutive_failures: 3 },
    }));
    const started = Date.now();
    const unhealthy = await agent.waitForUpdate(record.executorId, (update) => update.status.reason === Reason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED);
    assert.ok(Date.now() - started < 10_000);
    assert.equal(unhealthy.status.healthy, false);
    assert.match(unhealthy.status.message ?? '', /The COMMAND 'sleep 30' health check failed \(1 consecutive\): timed out after 1s/);
    const ps = await psInContainer(record.containerName);
    assert.match(ps, /while true/, 'ps sees the task');
    assert.doesNotMatch(ps, /sleep 30/, 'the timed-out check left no process behind');
    // The task's own loop leaves a `sleep 0.1` zombie for an instant before its shell reaps it: a
    // zombie the check left would stay.
    await eventually('no zombie in the container', async () => !/^\s*\d+\s+Z/m.test(await psInContainer(record.containerName)) || undefined, 5_000);
    agent.kill(record.executorId, 0);
    await terminal(agent, record);
  });

  it('no TASK_RUNNING follows TASK_KILLING while the task takes its grace period to stop', async (t) => {
    const agent = await startAgent(t, { frameworkCapabilities: [TASK_KILLING_STATE] });
    const record = agent.launch(shellTask("trap '' TERM; while true; do sleep 0.1; done", {
      health_check: { type: 'COMMAND', command: { value: 'exit 1' }, delay_seconds: 0, interval_seconds: 0.1, grace_period_seconds: 0, consecutive_failures: 1000 },
    }));
    await agent.waitForUpdate(record.executorId, () => healthUpdates(record).length >= 3);
    agent.kill(record.executorId, 1500);
    const last = await terminal(agent, record);
    const order = fresh(record).map((update) => update.status.state);
    const killing = order.indexOf(TaskState.TASK_KILLING);
    assert.ok(killing > 0, `TASK_KILLING was sent: ${order.join(', ')}`);
    assert.deepEqual(order.slice(killing), [TaskState.TASK_KILLING, TaskState.TASK_KILLED], 'nothing but the terminal update after TASK_KILLING');
    assert.match(last.status.message ?? '', /killed on request with SIGKILL after the 1500ms grace period/);
    assert.equal(Object.hasOwn(last.status, 'healthy') && last.status.healthy != null, false, 'not a health-check kill');
  });

  it('a bad check definition fails the launch before any container is created', async (t) => {
    const agent = await startAgent(t);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ health_check: { type: 'HTTP', http: { port: 0 } } }, /^Invalid check definition: health_check\.http\.port is 0: expected a port from 1 to 65535$/],
      [{ health_check: { type: 'COMMAND', command: { shell: true } } }, /^Invalid check definition: health_check\.command\.value is missing/],
      [{ check: { type: 'HTTP', http: { port: 80, path: 'ready' } } }, /^Invalid check definition: check\.http\.path is 'ready': expected a path starting with '\/'$/],
      [{ check: { tcp: { port: 80 } } }, /^Invalid check definition: check\.type is missing: expected COMMAND, HTTP or TCP$/],
    ];
    for (const [extra, message] of cases) {
      const record = agent.launch(shellTask('true', extra));
      const last = await terminal(agent, record);
      assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_FAILED']);
      assert.equal(last.status.state, TaskState.TASK_FAILED);
      assert.equal(last.status.reason, Reason.REASON_TASK_INVALID);
      assert.match(last.status.message ?? '', message);
      assert.equal(await exitCode(record), 0);
      assert.equal(await containerExists(record.containerName), false);
    }
  });
});
