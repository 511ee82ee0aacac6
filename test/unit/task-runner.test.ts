// The task runner (the interpreter of the task machine) against an in-memory container runtime:
// the Docker calls it makes, in order, the updates it reports and the output it copies, for the
// paths a real daemon makes slow or impossible to produce on demand.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { ContainerContext } from '../../src/docker/container-spec.js';
import type { ContainerEvent, ContainerRuntime, ExitWatch, Inspected, OutputStream, WaitResult } from '../../src/docker/container-runtime.js';
import { DockerError } from '../../src/docker/docker-error.js';
import { mesos } from '../../src/proto/generated/mesos.js';
import { TaskRunner, type Adoption } from '../../src/executor/task-runner.js';
import { stateName } from '../../src/executor/task-states.js';
import type { StatusFields } from '../../src/executor/task-status.js';
import { dockerFrame } from '../helpers/docker-frame.js';

const { TaskState } = mesos.v1;
const { Reason } = mesos.v1.TaskStatus;
const CONTEXT: ContainerContext = {
  containerName: 'mesos-c1',
  sandboxDirectory: mkdtempSync(join(tmpdir(), 'runner-sandbox-')),
  mappedDirectory: '/mnt/mesos/sandbox',
  taskEnvironment: {},
  cgroupsEnableCfs: false,
  labels: { 'org.apache.mesos.framework_id': 'f1', 'org.apache.mesos.executor_id': 't1', 'org.apache.mesos.task_id': 't1' },
};

function task(overrides: Partial<mesos.v1.ITaskInfo> = {}): mesos.v1.ITaskInfo {
  return {
    name: 't1',
    task_id: { value: 't1' },
    agent_id: { value: 'a1' },
    command: { shell: true, value: 'run' },
    container: { type: mesos.v1.ContainerInfo.Type.DOCKER, docker: { image: 'busybox:latest', network: mesos.v1.ContainerInfo.DockerInfo.Network.HOST } },
    ...overrides,
  };
}


interface FakeContainer {
  id: string;
  name: string;
  labels: Record<string, string>;
  status: 'created' | 'running' | 'exited';
  exitCode: number;
  output: PassThrough | undefined;
  exited: Promise<WaitResult>;
  exit: (code: number) => void;
}

// The container's behaviour: what it prints, and how it answers signals.
interface Behaviour {
  readonly output?: string[];
  // Exits by itself with this code right after the start.
  readonly exitAtStart?: number;
  // Exit code per signal; a signal not listed is ignored (SIGKILL always kills, unless `deaf`).
  readonly onSignal?: Record<string, number>;
  // Even SIGKILL shows no exit (a hung daemon).
  readonly deaf?: boolean;
}

class FakeRuntime implements ContainerRuntime {
  readonly timeoutMs: number;
  readonly calls: string[] = [];
  readonly containers = new Map<string, FakeContainer>();
  behaviour: Behaviour = {};

  constructor(timeoutMs = 1000) {
    this.timeoutMs = timeoutMs;
  }

  // A container as an earlier executor left it.
  seed(status: 'created' | 'running', labels: Record<string, string> = CONTEXT.labels): FakeContainer {
    const container = this.make('mesos-c1', labels);
    container.status = status;
    return container;
  }

  private make(name: string, labels: Record<string, string>): FakeContainer {
    let exit: (code: number) => void = () => undefined;
    const exited = new Promise<WaitResult>((resolve) => {
      exit = (code) => resolve({ statusCode: code, error: undefined });
    });
    const container: FakeContainer = { id: `id-${name}`, name, labels, status: 'created', exitCode: 0, output: undefined, exited, exit: () => undefined };
    container.exit = (code) => {
      if (container.status === 'exited') return;
      container.status = 'exited';
      container.exitCode = code;
      container.output?.end();
      exit(code);
    };
    this.containers.set(container.id, container);
    return container;
  }

  private find(idOrName: string): FakeContainer {
    const container = [...this.containers.values()].find((c) => c.id === idOrName || c.name === idOrName);
    if (!container) throw new DockerError(`No such container: ${idOrName}`, { status: 404 });
    return container;
  }

  async version() { return { version: 'fake', apiVersion: '1.41' }; }
  async ping() {}
  async loggingDriver() { return 'json-file'; }
  async hasImage(reference: string) { this.calls.push(`hasImage ${reference}`); return true; }
  async pull(reference: string) { this.calls.push(`pull ${reference}`); }
  async create(name: string, body: { Labels?: Record<string, string> }) {
    this.calls.push('create');
    return this.make(name, body.Labels ?? {}).id;
  }
  async attach(id: string): Promise<OutputStream> {
    this.calls.push('attach');
    const container = this.find(id);
    container.output = new PassThrough();
    return container.output;
  }
  async logs(id: string): Promise<OutputStream> {
    this.calls.push('logs');
    const container = this.find(id);
    container.output = new PassThrough();
    if (container.status === 'exited') container.output.end();
    return container.output;
  }
  async wait(id: string): Promise<ExitWatch> {
    this.calls.push('wait');
    return { result: this.find(id).exited };
  }
  async start(id: string) {
    this.calls.push('start');
    const container = this.find(id);
    container.status = 'running';
    for (const line of this.behaviour.output ?? []) container.output?.write(dockerFrame(line.startsWith('err:') ? 2 : 1, line.replace(/^err:/, '')));
    if (this.behaviour.exitAtStart !== undefined) setImmediate(() => container.exit(this.behaviour.exitAtStart!));
  }
  async kill(id: string, signal: string) {
    this.calls.push(`kill ${signal}`);
    const container = this.find(id);
    if (container.status !== 'running') throw new DockerError('is not running', { status: 409 });
    if (this.behaviour.deaf) return;
    const code = signal === 'SIGKILL' ? 137 : this.behaviour.onSignal?.[signal];
    if (code !== undefined) setImmediate(() => container.exit(code));
  }
  async inspect(idOrName: string): Promise<Inspected> {
    const container = this.find(idOrName);
    const parsed = {
      Id: container.id,
      State: {
        Status: container.status,
        Running: container.status === 'running',
        Pid: 4242,
        ExitCode: container.exitCode,
        StartedAt: container.status === 'created' ? '0001-01-01T00:00:00Z' : new Date(0).toISOString(),
      },
      Config: { Labels: container.labels },
      HostConfig: { NetworkMode: 'host' },
    };
    return { raw: Buffer.from(JSON.stringify(parsed)), parsed };
  }
  async events(): Promise<ContainerEvent[]> { return []; }
  // Live events: none unless a test emits one; the stream ends when its signal aborts.
  readonly eventListeners = new Set<(event: ContainerEvent) => void>();
  async followEvents(_id: string, _actions: readonly string[], _since: number, onEvent: (event: ContainerEvent) => void, signal?: AbortSignal): Promise<void> {
    this.eventListeners.add(onEvent);
    await new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    this.eventListeners.delete(onEvent);
  }
  async remove(id: string) {
    this.calls.push('remove');
    this.containers.delete(this.find(id).id);
  }
  async list() { return []; }
  async execCreate(): Promise<string> { throw new Error('no exec here'); }
  async execStart(): Promise<OutputStream> { throw new Error('no exec here'); }
  async execInspect() { return { running: false, exitCode: 0, pid: 0 }; }
  close() {}
}

function sink(): Writable & { text: () => string } {
  const chunks: Buffer[] = [];
  const writable = new Writable({ write(chunk: Buffer, _encoding, callback) { chunks.push(chunk); callback(); } });
  return Object.assign(writable, { text: () => Buffer.concat(chunks).toString() });
}

function runner(runtime: FakeRuntime, options: { task?: mesos.v1.ITaskInfo; adopt?: Adoption; taskKillingCapable?: boolean; killConfirmMs?: number } = {}) {
  const reports: StatusFields[] = [];
  const stdout = sink();
  const stderr = sink();
  const taskRunner = new TaskRunner({
    task: options.task ?? task(),
    docker: runtime,
    context: CONTEXT,
    taskKillingCapable: options.taskKillingCapable ?? true,
    dockerConfig: undefined,
    stdout,
    stderr,
    ...(options.adopt ? { adopt: options.adopt } : {}),
    ...(options.killConfirmMs !== undefined ? { killConfirmMs: options.killConfirmMs } : {}),
    report: (fields) => reports.push(fields),
  });
  return { taskRunner, reports, stdout, stderr, states: () => reports.map((fields) => stateName(fields.state)) };
}

async function until(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('task runner with a fake runtime', () => {
  it('a task that runs and exits 0: the calls in order, its output copied, STARTING, RUNNING, FINISHED', async () => {
    const runtime = new FakeRuntime();
    runtime.behaviour = { output: ['hello\n', 'err:oops\n'], exitAtStart: 0 };
    const { taskRunner, states, stdout, stderr, reports } = runner(runtime);
    await taskRunner.done;
    assert.deepEqual(runtime.calls, ['hasImage busybox:latest', 'create', 'attach', 'wait', 'start', 'remove']);
    assert.deepEqual(states(), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    assert.equal(reports.at(-1)!.message, 'Container exited with status 0');
    assert.equal(stdout.text(), 'hello\n');
    assert.equal(stderr.text(), 'oops\n');
    assert.equal(runtime.containers.size, 0, 'the container is gone');
  });

  it('a KILL: the stop signal, the exit, TASK_KILLING then TASK_KILLED', async () => {
    const runtime = new FakeRuntime();
    runtime.behaviour = { onSignal: { SIGTERM: 143 } };
    const { taskRunner, states, reports } = runner(runtime);
    await until('RUNNING', () => states().includes('TASK_RUNNING'));
    taskRunner.kill(5000, 'framework');
    await taskRunner.done;
    assert.deepEqual(states(), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
    assert.ok(runtime.calls.includes('kill SIGTERM') && !runtime.calls.includes('kill SIGKILL'));
    assert.equal(reports.at(-1)!.reason, undefined);
  });

  it('a container deaf to its stop signal gets SIGKILL at the end of the grace', async () => {
    const runtime = new FakeRuntime();
    const { taskRunner, states } = runner(runtime);
    await until('RUNNING', () => states().includes('TASK_RUNNING'));
    taskRunner.kill(30, 'framework');
    await taskRunner.done;
    assert.deepEqual(runtime.calls.filter((call) => call.startsWith('kill')), ['kill SIGTERM', 'kill SIGKILL']);
    assert.equal(states().at(-1), 'TASK_KILLED');
  });

  it('a daemon that never shows the exit after SIGKILL: TASK_FAILED saying so, the container removed', async () => {
    const runtime = new FakeRuntime();
    runtime.behaviour = { deaf: true };
    const { taskRunner, states, reports } = runner(runtime, { killConfirmMs: 50 });
    await until('RUNNING', () => states().includes('TASK_RUNNING'));
    taskRunner.kill(0, 'framework');
    await taskRunner.done;
    assert.equal(states().at(-1), 'TASK_FAILED');
    assert.match(reports.at(-1)!.message ?? '', /did not confirm that the container stopped within 50ms of SIGKILL/);
    assert.equal(runtime.calls.at(-1), 'remove');
  });

  it('a KILL while the image is looked up: TASK_KILLED during launch, nothing created', async () => {
    const runtime = new FakeRuntime();
    const { taskRunner, reports } = runner(runtime);
    taskRunner.kill(1000, 'framework');
    await taskRunner.done;
    assert.equal(reports.at(-1)!.state, TaskState.TASK_KILLED);
    assert.equal(reports.at(-1)!.reason, Reason.REASON_TASK_KILLED_DURING_LAUNCH);
    assert.ok(!runtime.calls.includes('create'));
  });

  it('an invalid task fails before any Docker call', async () => {
    const runtime = new FakeRuntime();
    const { taskRunner, reports } = runner(runtime, { task: task({ container: { type: mesos.v1.ContainerInfo.Type.DOCKER, docker: { image: 'Not A Valid Image' } } }) });
    await taskRunner.done;
    assert.equal(reports.at(-1)!.reason, Reason.REASON_TASK_INVALID);
    assert.deepEqual(runtime.calls, []);
  });

  it('adoption of a running container: its log is followed, RUNNING not repeated, a KILL ends it', async () => {
    const runtime = new FakeRuntime();
    runtime.behaviour = { onSignal: { SIGTERM: 0 } };
    runtime.seed('running');
    const { taskRunner, states } = runner(runtime, { adopt: { lastState: TaskState.TASK_RUNNING, written: { stdout: 0, stderr: 0 }, terminalReported: false } });
    await until('the log followed', () => runtime.calls.includes('wait'));
    taskRunner.kill(5000, 'framework');
    await taskRunner.done;
    assert.deepEqual(runtime.calls.slice(0, 2), ['logs', 'wait']);
    assert.deepEqual(states(), ['TASK_KILLING', 'TASK_KILLED']);
  });

  it('adoption of a container created but never started: it is started, and the task runs', async () => {
    const runtime = new FakeRuntime();
    runtime.behaviour = { output: ['ran\n'], exitAtStart: 0 };
    runtime.seed('created');
    const { taskRunner, states, stdout } = runner(runtime, { adopt: { lastState: TaskState.TASK_STARTING, written: { stdout: 0, stderr: 0 }, terminalReported: false } });
    await taskRunner.done;
    assert.deepEqual(runtime.calls, ['attach', 'wait', 'start', 'remove']);
    assert.deepEqual(states(), ['TASK_RUNNING', 'TASK_FINISHED']);
    assert.equal(stdout.text(), 'ran\n');
  });

  it('adoption of a container with another task\'s labels: TASK_FAILED, the container untouched', async () => {
    const runtime = new FakeRuntime();
    runtime.seed('running', { ...CONTEXT.labels, 'org.apache.mesos.task_id': 'someone-else' });
    const { taskRunner, reports } = runner(runtime, { adopt: { lastState: TaskState.TASK_RUNNING, written: { stdout: 0, stderr: 0 }, terminalReported: false } });
    await taskRunner.done;
    assert.match(reports.at(-1)!.message ?? '', /not this task's/);
    assert.deepEqual(runtime.calls, [], 'not followed, signalled or removed');
    assert.equal(runtime.containers.size, 1);
  });
});
