// Measures the executor against bare `docker` doing the same work, in the same run, and prints
// the numbers side by side with the targets. Run with `npm run bench`.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { LocalAgent, type ExecutorRecord } from '../src/agent/local-agent.js';
import { mesos } from '../src/proto/generated/mesos.js';

const run = promisify(execFile);
const IMAGE = 'mesos-executor-test/busybox:latest';
const SOCKET = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock';
const REPEAT = Number(process.env.BENCH_REPEAT ?? 7);
const OUTPUT_BYTES = 100 * 1024 * 1024;
// Exits on SIGTERM within 50 ms, so kill timings measure the kill path, not the task.
const IDLE = "trap 'exit 0' TERM; while true; do sleep 0.05; done";

const docker = (...args: string[]): Promise<{ stdout: string }> => run('docker', ['-H', `unix://${SOCKET}`, ...args], { maxBuffer: 64 * 1024 * 1024 });

let serial = 0;
function task(command: string): mesos.v1.TaskInfo {
  serial += 1;
  const id = `bench-${process.pid}-${serial}`;
  return mesos.v1.TaskInfo.fromObject({
    name: id,
    task_id: { value: id },
    agent_id: { value: 'bench' },
    resources: [{ name: 'cpus', type: 0, scalar: { value: 0.5 } }, { name: 'mem', type: 0, scalar: { value: 128 } }],
    command: { shell: true, value: command },
    container: { type: 1, docker: { image: IMAGE, network: 1 } },
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const agent = new LocalAgent({
  workDir: mkdtempSync(join(tmpdir(), 'executor-bench-')),
  executorPath: resolve(import.meta.dirname, '../dist/mesos-docker-executor'),
  dockerSocket: SOCKET,
  holdLaunch: true,
});
await agent.start();

// Starts an executor and waits until it has subscribed, so LAUNCH timings exclude Node's start.
async function subscribed(info: mesos.v1.TaskInfo): Promise<ExecutorRecord> {
  const record = agent.launch(info);
  const deadline = Date.now() + 20_000;
  while (record.state !== 'running') {
    if (Date.now() > deadline) throw new Error('executor did not subscribe');
    await sleep(5);
  }
  return record;
}

function launch(record: ExecutorRecord): void {
  agent.sendEvent(record.executorId, { type: 2, launch: { task: record.task } });
}

async function finish(record: ExecutorRecord): Promise<void> {
  agent.kill(record.executorId, 0);
  await record.exited;
}

async function ourLaunch(): Promise<number> {
  const record = await subscribed(task(IDLE));
  const started = performance.now();
  launch(record);
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === 1);
  const elapsed = performance.now() - started;
  await finish(record);
  return elapsed;
}

async function bareLaunch(): Promise<number> {
  const name = `bench-bare-${process.pid}-${++serial}`;
  const started = performance.now();
  await docker('create', '--net', 'host', '--name', name, IMAGE, '/bin/sh', '-c', IDLE);
  await docker('start', name);
  const elapsed = performance.now() - started;
  await docker('rm', '-f', name);
  return elapsed;
}

async function ourExitToUpdate(): Promise<number> {
  const record = await subscribed(task('sleep 0.3'));
  let receivedAt = 0;
  const received = agent.waitForUpdate(record.executorId, (update) => {
    if (update.status.state !== 2) return false;
    receivedAt = Date.now();
    return true;
  });
  launch(record);
  const last = await received;
  await record.exited;
  const inspect = JSON.parse(Buffer.from(last.status.data!).toString('utf8')) as Array<{ State: { FinishedAt: string } }>;
  return receivedAt - Date.parse(inspect[0]!.State.FinishedAt);
}

async function bareExitToWait(): Promise<number> {
  const name = `bench-bare-${process.pid}-${++serial}`;
  await docker('create', '--net', 'host', '--name', name, IMAGE, 'sleep', '0.3');
  await docker('start', name);
  // Started: `docker wait` now blocks until the exit (on a created container it returns at once).
  const returnedAt = await docker('wait', name).then(() => Date.now());
  const finishedAt = (await docker('inspect', '-f', '{{.State.FinishedAt}}', name)).stdout.trim();
  await docker('rm', '-f', name);
  return returnedAt - Date.parse(finishedAt);
}

async function ourKill(): Promise<number> {
  const record = await subscribed(task(IDLE));
  launch(record);
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === 1);
  const started = performance.now();
  agent.kill(record.executorId, 10_000);
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === 4);
  const elapsed = performance.now() - started;
  await record.exited;
  return elapsed;
}

async function bareStop(): Promise<number> {
  const name = `bench-bare-${process.pid}-${++serial}`;
  await docker('run', '-d', '--net', 'host', '--name', name, IMAGE, '/bin/sh', '-c', IDLE);
  await sleep(300);
  const started = performance.now();
  await docker('stop', '-t', '10', name);
  const elapsed = performance.now() - started;
  await docker('rm', '-f', name);
  return elapsed;
}

async function ourThroughput(): Promise<number> {
  const record = await subscribed(task(`head -c ${OUTPUT_BYTES} /dev/zero`));
  const started = performance.now();
  launch(record);
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === 2, 300_000);
  const elapsed = performance.now() - started;
  await record.exited;
  const size = statSync(join(record.sandbox, 'stdout')).size;
  if (size !== OUTPUT_BYTES) throw new Error(`sandbox stdout has ${size} bytes, expected ${OUTPUT_BYTES}`);
  return OUTPUT_BYTES / 1e6 / (elapsed / 1000);
}

async function bareThroughput(): Promise<number> {
  const file = join(mkdtempSync(join(tmpdir(), 'bench-bare-')), 'stdout');
  const started = performance.now();
  await new Promise<void>((resolvePromise, reject) => {
    const child = spawn('sh', ['-c', `docker -H unix://${SOCKET} run --rm --net host ${IMAGE} head -c ${OUTPUT_BYTES} /dev/zero > ${file}`], { stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? resolvePromise() : reject(new Error(`docker run exited ${code}`))));
  });
  const elapsed = performance.now() - started;
  if (statSync(file).size !== OUTPUT_BYTES) throw new Error('bare docker run lost output');
  return OUTPUT_BYTES / 1e6 / (elapsed / 1000);
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

function descendants(pid: number): number[] {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return children.flatMap((child) => [child, ...descendants(child)]);
}

async function ourRss(): Promise<{ total: number; processes: number }> {
  const record = await subscribed(task(IDLE));
  launch(record);
  await agent.waitForUpdate(record.executorId, (update) => update.status.state === 1);
  await sleep(3000);
  const pids = [record.process.pid!, ...descendants(record.process.pid!)];
  const total = pids.reduce((sum, pid) => sum + rssMb(pid), 0);
  await finish(record);
  return { total, processes: pids.length };
}

async function bareAttachedCliRss(): Promise<number> {
  const name = `bench-bare-${process.pid}-${++serial}`;
  const child = spawn('docker', ['-H', `unix://${SOCKET}`, 'run', '--rm', '--net', 'host', '--name', name, IMAGE, '/bin/sh', '-c', IDLE], { stdio: 'ignore' });
  await sleep(3000);
  const rss = rssMb(child.pid!);
  await docker('stop', '-t', '0', name);
  return rss;
}

async function sample(label: string, measure: () => Promise<number>, times = REPEAT): Promise<number> {
  const values: number[] = [];
  await measure(); // warm-up
  for (let i = 0; i < times; i++) values.push(await measure());
  process.stderr.write(`  ${label}: ${values.map((v) => v.toFixed(1)).join(', ')}\n`);
  return median(values);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}

process.stderr.write(`benchmark: ${REPEAT} runs each (median), Docker ${(await docker('version', '-f', '{{.Server.Version}}')).stdout.trim()}\n`);
const launchOurs = await sample('executor LAUNCH -> TASK_RUNNING (ms)', ourLaunch);
const launchBare = await sample('bare docker create + start (ms)', bareLaunch);
const exitOurs = await sample('executor container exit -> terminal update received (ms)', ourExitToUpdate);
const exitBare = await sample('bare container exit -> docker wait returns (ms)', bareExitToWait);
const killOurs = await sample('executor KILL -> TASK_KILLED (ms)', ourKill);
const killBare = await sample('bare docker stop (ms)', bareStop);
const throughputOurs = await sample('executor 100 MB output (MB/s)', ourThroughput, 3);
const throughputBare = await sample('bare docker run > file (MB/s)', bareThroughput, 3);
const rss = await ourRss();
const cliRss = await bareAttachedCliRss();
await agent.stop();

const rows: Array<[string, string, string, string, string, boolean]> = [
  ['LAUNCH -> TASK_RUNNING', `${launchOurs.toFixed(0)} ms`, `${launchBare.toFixed(0)} ms (create + start)`, `${(launchOurs / launchBare).toFixed(2)}x`, '<= 1.25x', launchOurs <= 1.25 * launchBare],
  ['container exit -> update', `${exitOurs.toFixed(0)} ms`, `${exitBare.toFixed(0)} ms (docker wait)`, `${(exitOurs / Math.max(exitBare, 1)).toFixed(2)}x`, '<= 50 ms', exitOurs <= 50],
  ['KILL -> TASK_KILLED', `${killOurs.toFixed(0)} ms`, `${killBare.toFixed(0)} ms (docker stop)`, `${(killOurs / killBare).toFixed(2)}x`, '(report)', true],
  ['100 MB output', `${throughputOurs.toFixed(0)} MB/s`, `${throughputBare.toFixed(0)} MB/s (docker run > file)`, `${(throughputOurs / throughputBare).toFixed(2)}x`, '>= 1.0x', throughputOurs >= throughputBare],
  ['RSS per task, idle', `${rss.total.toFixed(1)} MB (${rss.processes} process)`, `${cliRss.toFixed(1)} MB (one attached docker CLI alone)`, '', '<= 45 MB', rss.total <= 45],
];
const header: [string, string, string, string, string, string] = ['metric', 'executor', 'bare docker (same run)', 'ratio', 'target', 'verdict'];
const table = [header, ...rows.map(([a, b, c, d, e, ok]) => [a, b, c, d, e, ok ? 'meets' : 'misses'])];
const widths = header.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
for (const row of table) process.stdout.write(`${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ')}\n`);
