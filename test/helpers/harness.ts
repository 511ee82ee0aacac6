// Shared set-up for integration tests: a local agent in this process, the built executor
// (dist/executor.js, through its agent-facing entry dist/mesos-docker-executor) spawned by it as a
// real process, and a real Docker engine.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { LocalAgent, type ExecutorRecord, type LocalAgentOptions, type ReceivedUpdate } from '../../src/agent/local-agent.js';
import { DockerRuntime } from '../../src/docker/docker-runtime.js';
import type { CreateRequest } from '../../src/docker/create-request.js';
import { DockerError } from '../../src/docker/docker-error.js';
import { mesos } from '../../src/proto/generated/mesos.js';
import { isTerminalState, stateName } from '../../src/executor/task-states.js';
import { executorStateRoot } from '../../src/agent/launcher.js';
import { executorStatePath } from '../../src/state/state-directory.js';

export const EXECUTOR_PATH = resolve(import.meta.dirname, '../../dist/mesos-docker-executor');
export const BUSYBOX = 'mesos-executor-test/busybox:latest';
export const INKY = 'mesos-executor-test/inky:latest';
export const DOCKER_SOCKET = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock';

export type AgentOverrides = Partial<Omit<LocalAgentOptions, 'workDir' | 'executorPath'>>;

// A started local agent whose executors and containers are cleaned up after the test.
export async function startAgent(t: TestContext, overrides: AgentOverrides = {}): Promise<LocalAgent> {
  const agent = new LocalAgent({
    workDir: mkdtempSync(join(tmpdir(), 'executor-test-')),
    executorPath: EXECUTOR_PATH,
    dockerSocket: DOCKER_SOCKET,
    ...overrides,
  });
  await agent.start();
  const launched: ExecutorRecord[] = [];
  agent.on('launched', (record: ExecutorRecord) => launched.push(record));
  t.after(async () => {
    await agent.stop();
    for (const record of launched) {
      if (record.exitCode === undefined) record.process.kill('SIGKILL');
    }
    const docker = new DockerRuntime(DOCKER_SOCKET);
    try {
      const containers = await docker.list([`org.apache.mesos.framework_id=${agent.frameworkId}`]);
      for (const container of containers) {
        // 409: its executor is removing it already.
        await docker.remove(container.id).catch((error: unknown) => {
          if (!(error instanceof DockerError && error.status === 409)) throw error;
        });
      }
    } finally {
      docker.close();
    }
  });
  return agent;
}

let counter = 0;

// A TaskInfo (as the generated message, with proto2 defaults) running `command` in busybox.
export function shellTask(command: string, extra: Record<string, unknown> = {}): mesos.v1.TaskInfo {
  counter += 1;
  const id = `task-${process.pid}-${counter}-${Date.now()}`;
  return mesos.v1.TaskInfo.fromObject({
    name: id,
    task_id: { value: id },
    agent_id: { value: 'filled-by-agent' },
    resources: [
      { name: 'cpus', type: mesos.v1.Value.Type.SCALAR, scalar: { value: 0.1 }, allocation_info: { role: '*' } },
      { name: 'mem', type: mesos.v1.Value.Type.SCALAR, scalar: { value: 64 }, allocation_info: { role: '*' } },
    ],
    command: { shell: true, value: command },
    container: { type: mesos.v1.ContainerInfo.Type.DOCKER, docker: { image: BUSYBOX, network: mesos.v1.ContainerInfo.DockerInfo.Network.HOST } },
    ...extra,
  });
}

export function states(record: ExecutorRecord): string[] {
  return record.updates.filter((update) => !update.duplicate).map((update) => stateName(update.status.state));
}

export function terminal(agent: LocalAgent, record: ExecutorRecord, timeoutMs = 60_000): Promise<ReceivedUpdate> {
  return agent.waitForUpdate(record.executorId, (update) => isTerminalState(update.status.state), timeoutMs);
}

export function sandboxFile(record: ExecutorRecord, name: string): string {
  return readFileSync(join(record.sandbox, name), 'utf8');
}

// Resolves with the executor's exit code, failing the test if it does not exit in time.
export async function exitCode(record: ExecutorRecord, timeoutMs = 60_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`executor ${record.executorId} did not exit within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([record.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function containerExists(name: string): Promise<boolean> {
  return withDocker(async (docker) => {
    try {
      await docker.inspect(name);
      return true;
    } catch (error) {
      if (error instanceof DockerError && error.notFound) return false;
      throw error;
    }
  });
}

export async function inspectContainer(name: string): Promise<Record<string, any>> {
  return withDocker(async (docker) => JSON.parse((await docker.inspect(name)).raw.toString('utf8')) as Record<string, any>);
}

// Runs `use` with a runtime on the test daemon, closed after.
export async function withDocker<T>(use: (docker: DockerRuntime) => Promise<T>): Promise<T> {
  const docker = new DockerRuntime(DOCKER_SOCKET);
  try {
    return await use(docker);
  } finally {
    docker.close();
  }
}

// Removes a local image (no verb: the executor never removes one); a missing image is fine.
export async function removeImage(image: string): Promise<void> {
  await withDocker(async (docker) => {
    const response = await docker.call('DELETE', `/images/${encodeURIComponent(image)}?force=1`);
    if (response.status !== 200 && response.status !== 404) throw new Error(`DELETE image ${image}: ${response.status} ${response.body.toString()}`);
  });
}

// A create body for a test container of its own: `overrides` on a plain, unprivileged one.
export function createBody(overrides: Partial<Omit<CreateRequest, 'HostConfig'>> & { HostConfig?: Partial<CreateRequest['HostConfig']> }): CreateRequest {
  const { HostConfig, ...rest } = overrides;
  return {
    Image: BUSYBOX, Env: [], Labels: {}, AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false, OpenStdin: false,
    ...rest,
    HostConfig: { Binds: [], NetworkMode: 'none', ...HostConfig },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(100);
  }
}

// Every process's command line, to prove a secret never appears in one.
export function allCommandLines(): string[] {
  const lines: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      lines.push(readFileSync(`/proc/${entry}/cmdline`, 'latin1'));
    } catch {
      // The process ended meanwhile.
    }
  }
  return lines;
}

// The executor's private state directory (checkpoint, lock) for a launched task.
export function stateDirectoryOf(record: ExecutorRecord): string {
  return executorStatePath(executorStateRoot(record.spec.workDir), {
    frameworkId: record.frameworkId,
    executorId: record.executorId,
    sandboxDirectory: record.sandbox,
  });
}
