// `node dist/agent.js serve` as an operator runs it, for tests: started on a free port in a fresh
// (or given) work directory, its HTTP API called with fetch, and everything it started (executors,
// containers) killed and removed after the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { DockerError } from '../../src/docker/docker-error.js';
import { thisHost } from '../../src/docker/container-owner.js';
import { toMesosJson } from '../../src/protocol/mesos-json.js';
import type { mesos } from '../../src/proto/generated/mesos.js';
import { eventually, withDocker } from './harness.js';

const AGENT = resolve(import.meta.dirname, '../../dist/agent.js');

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly workDir: string;
  readonly base: string;
  readonly port: number;
  output(): string;
  exited: Promise<number | null>;
}

export async function startServe(t: TestContext, options: { workDir?: string; args?: string[]; env?: Record<string, string>; authentication?: boolean } = {}): Promise<ServeProcess> {
  const workDir = options.workDir ?? mkdtempSync(join(tmpdir(), 'serve-test-'));
  const args = options.args ?? ['--port=0'];
  // Tests of other things run without the token serve makes by default (and say so); tests of
  // access give a token or leave --authentication out on purpose with `authentication: true`.
  const optOut = !options.authentication && !args.some((arg) => arg.startsWith('--authentication')) && options.env?.LOCAL_AGENT_AUTHENTICATION_TOKEN === undefined;
  const child = spawn(process.execPath, [AGENT, 'serve', `--work_dir=${workDir}`, ...args, ...(optOut ? ['--authentication=false'] : [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env },
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const port = await eventually(`serve to listen (output: ${output})`, () => {
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}: ${output}`);
    const match = /serving on http:\/\/127\.0\.0\.1:(\d+)\//.exec(output);
    return match ? Number(match[1]) : undefined;
  }, 30_000);
  return { child, workDir, base: `http://127.0.0.1:${port}`, port, output: () => output, exited };
}

// Kills what a serve agent on this work directory started: its executors (by the pids it
// checkpointed, when still the same processes) and the containers of its framework.
export function cleanUpServe(t: TestContext, workDir: string): void {
  t.after(async () => {
    const checkpoint = readServeCheckpoint(workDir);
    if (!checkpoint) return;
    for (const { entry } of checkpoint.tasks) {
      const pid = entry.executor?.pid;
      if (pid !== undefined && thisHost.processStart(pid) === entry.executor?.pidStart) process.kill(pid, 'SIGKILL');
    }
    await withDocker(async (docker) => {
      for (const container of await docker.list([`org.apache.mesos.framework_id=${checkpoint.frameworkId}`])) {
        await docker.remove(container.id).catch((error: unknown) => {
          if (!(error instanceof DockerError && (error.status === 409 || error.notFound))) throw error;
        });
      }
    });
  });
}

export interface CheckpointedEntry {
  readonly entry: { taskId: string; state: string; executor?: { pid?: number; pidStart?: string; containerName: string; sandbox: string } };
}

export function readServeCheckpoint(workDir: string): { frameworkId: string; port: number; tasks: CheckpointedEntry[] } | undefined {
  try {
    return JSON.parse(readFileSync(join(workDir, 'meta', 'serve', 'agent.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

export function taskJson(task: mesos.v1.TaskInfo): string {
  return JSON.stringify(toMesosJson('mesos.v1.TaskInfo', task));
}

export interface StateTask {
  id: string;
  state: string;
  healthy?: boolean;
  message?: string;
  statuses: Array<{ state: string; timestamp: number; source?: string; reason?: string; message?: string }>;
  sandbox: string | null;
  container_name: string | null;
  submitted_at: number;
  running_at: number | null;
  ended_at: number | null;
}

// Every task of GET /state, running or ended.
export async function stateTasks(base: string, headers: Record<string, string> = {}): Promise<StateTask[]> {
  const response = await fetch(`${base}/state`, { headers });
  if (response.status !== 200) throw new Error(`GET /state: ${response.status} ${await response.text()}`);
  const state = (await response.json()) as { frameworks: Array<{ executors: Array<{ tasks: StateTask[] }>; completed_executors: Array<{ completed_tasks: StateTask[] }> }> };
  return state.frameworks.flatMap((framework) => [
    ...framework.executors.flatMap((executor) => executor.tasks),
    ...framework.completed_executors.flatMap((executor) => executor.completed_tasks),
  ]);
}

export async function waitForState(base: string, taskId: string, state: string, timeoutMs = 60_000, headers: Record<string, string> = {}): Promise<StateTask> {
  return eventually(`task ${taskId} to be ${state}`, async () => (await stateTasks(base, headers)).find((task) => task.id === taskId && task.state === state), timeoutMs);
}

export async function submit(base: string, task: mesos.v1.TaskInfo, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/api/v1/tasks`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: taskJson(task) });
}
