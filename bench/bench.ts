// Measures the executor against its baseline (bare `docker`, or a bare Node process where Node is
// the floor) in the same run, and prints the numbers side by side with the targets. Run with
// `npm run bench`; the scale comes from the environment (see SCALE), BENCH_MARKDOWN=1 prints the
// table as Markdown for the README.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { LocalAgent, type ExecutorRecord, type ReceivedUpdate } from '../src/agent/local-agent.js';
import { DockerRuntime } from '../src/docker/docker-runtime.js';
import { mesos } from '../src/proto/generated/mesos.js';
import { cpuTicks, pssKiB, rssKiB, sumOverTrees, wakeups } from './proc-stats.js';
import { markdownTable, textTable, type Row } from './report-table.js';

const number = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}=${process.env[name]} is not a positive number`);
  return value;
};
// A quick run: BENCH_TASKS=10 BENCH_SMALL_TASKS=3 BENCH_IDLE_SECONDS=5 BENCH_REPEAT=3 BENCH_OUTPUT_MB=20
const SCALE = {
  tasks: number('BENCH_TASKS', 100),
  smallTasks: number('BENCH_SMALL_TASKS', 20),
  idleSeconds: number('BENCH_IDLE_SECONDS', 30),
  // V8's memory reducer collects start-up garbage about 10 s after a process goes quiet.
  settleSeconds: number('BENCH_SETTLE_SECONDS', 15),
  repeat: number('BENCH_REPEAT', 7),
  outputBytes: number('BENCH_OUTPUT_MB', 100) * 1024 * 1024,
  storms: number('BENCH_STORMS', 1),
};
const MARKDOWN = process.env.BENCH_MARKDOWN === '1';

const IMAGE = 'mesos-executor-test/busybox:latest';
const SOCKET = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock';
// Sleeps without waking, and exits at once on SIGTERM: kill timings measure the kill path, and
// idle figures measure the executor, not its task.
const IDLE = "trap 'exit 0' TERM; sleep 100000 & wait";
// The bare containers carry this label, so that whatever happens they are found and removed.
const BARE_LABEL = `mesos-executor-bench=${process.pid}`;
const NODE = process.execPath;
const CLOCK_TICKS = Number((await execa('getconf', ['CLK_TCK'])).stdout);
const MiB = 1024;

const docker = (...args: string[]) => execa('docker', ['-H', `unix://${SOCKET}`, ...args]);

let serial = 0;
function task(command: string, parameters: ReadonlyArray<{ key: string; value: string }> = []): mesos.v1.TaskInfo {
  serial += 1;
  const id = `bench-${process.pid}-${serial}`;
  return mesos.v1.TaskInfo.fromObject({
    name: id,
    task_id: { value: id },
    agent_id: { value: 'bench' },
    resources: [{ name: 'cpus', type: 0, scalar: { value: 0.5 } }, { name: 'mem', type: 0, scalar: { value: 128 } }],
    command: { shell: true, value: command },
    container: { type: 1, docker: { image: IMAGE, network: 1, parameters } },
  });
}

const workDir = mkdtempSync(join(tmpdir(), 'executor-bench-'));
const agentOptions = { workDir, executorPath: process.env.BENCH_EXECUTOR ?? resolve(import.meta.dirname, '../dist/mesos-docker-executor'), dockerSocket: SOCKET };
// One agent that waits for the bench to send LAUNCH (timings that exclude Node's start), one
// that launches each task as soon as its executor subscribes, as an agent does.
const held = new LocalAgent({ ...agentOptions, holdLaunch: true });
const auto = new LocalAgent(agentOptions);
// The bench's own door to the daemon, to be told of exits as the executor is.
const engine = new DockerRuntime(SOCKET);
await held.start();
await auto.start();

function sleep(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function sample(label: string, measure: () => Promise<number>, times = SCALE.repeat): Promise<number> {
  const values: number[] = [];
  await measure(); // warm-up
  for (let i = 0; i < times; i++) values.push(await measure());
  progress(`${label}: ${values.map((v) => v.toFixed(1)).join(', ')}`);
  return median(values);
}

function progress(line: string): void {
  process.stderr.write(`  ${line}\n`);
}

// Resolves once every record has reported an update matching `predicate`.
function allReported(agent: LocalAgent, records: readonly ExecutorRecord[], predicate: (update: ReceivedUpdate) => boolean, timeoutMs: number): Promise<void> {
  const waiting = new Set(records.filter((record) => !record.updates.some(predicate)).map((record) => record.executorId));
  if (waiting.size === 0) return Promise.resolve();
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      agent.off('update', listener);
      reject(new Error(`${waiting.size} of ${records.length} tasks did not report within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (update: ReceivedUpdate): void => {
      if (!predicate(update) || !waiting.delete(update.executorId) || waiting.size > 0) return;
      clearTimeout(timer);
      agent.off('update', listener);
      resolvePromise();
    };
    agent.on('update', listener);
  });
}

const isRunning = (update: ReceivedUpdate): boolean => update.status.state === mesos.v1.TaskState.TASK_RUNNING;

// Kills every task (no grace) and waits for its executor to exit.
async function finishAll(agent: LocalAgent, records: readonly ExecutorRecord[]): Promise<void> {
  for (const record of records) {
    if (record.exitCode !== undefined) continue;
    if (!agent.kill(record.executorId, 0)) record.process.kill('SIGTERM');
  }
  await Promise.all(records.map((record) => record.exited));
}

// Starts an executor through the held agent and waits until it has subscribed; the elapsed time
// is the executor's cold start (the shim, Node, the bundle, the SUBSCRIBE call).
async function subscribed(info: mesos.v1.TaskInfo): Promise<{ record: ExecutorRecord; ms: number }> {
  const started = performance.now();
  const record = held.launch(info);
  const deadline = Date.now() + 20_000;
  while (record.state !== 'running') {
    if (Date.now() > deadline) throw new Error('executor did not subscribe');
    await sleep(1);
  }
  return { record, ms: performance.now() - started };
}

function launch(record: ExecutorRecord): void {
  held.sendEvent(record.executorId, { type: mesos.v1.executor.Event.Type.LAUNCH, launch: { task: record.task } });
}

async function ourColdStart(): Promise<number> {
  const { record, ms } = await subscribed(task(IDLE));
  held.shutdown(record.executorId);
  await record.exited;
  return ms;
}

async function nodeColdStart(): Promise<number> {
  const started = performance.now();
  await execa(NODE, ['-e', '0']);
  return performance.now() - started;
}

async function ourLaunch(): Promise<number> {
  const { record } = await subscribed(task(IDLE));
  const started = performance.now();
  launch(record);
  await held.waitForUpdate(record.executorId, isRunning);
  const elapsed = performance.now() - started;
  await finishAll(held, [record]);
  return elapsed;
}

async function bareLaunch(): Promise<number> {
  const name = `bench-bare-${process.pid}-${++serial}`;
  const started = performance.now();
  await docker('create', '--net', 'host', '--label', BARE_LABEL, '--name', name, IMAGE, '/bin/sh', '-c', IDLE);
  await docker('start', name);
  const elapsed = performance.now() - started;
  await docker('rm', '-f', name);
  return elapsed;
}

interface ExitLatency {
  // From the daemon telling a waiter (an Engine API wait in this process returning) to the
  // notice: what is added once the daemon has said the container exited.
  readonly fromWait: number;
  // From the daemon's `die` event: it is logged before the daemon's clean-up, which it finishes
  // before it answers any wait.
  readonly fromDie: number;
}

// The daemon's `die` event of the container, in epoch milliseconds (the daemon's clock, this machine's).
async function dieTime(container: string, sinceMs: number): Promise<number> {
  const { stdout } = await docker('events', '--since', String(Math.floor(sinceMs / 1000) - 1), '--until', String(Math.ceil(Date.now() / 1000) + 1),
    '--filter', `container=${container}`, '--filter', 'event=die', '--format', '{{.TimeNano}}');
  const nanos = stdout.split('\n').filter(Boolean)[0];
  if (!nanos) throw new Error(`no die event for ${container}`);
  return Number(BigInt(nanos) / 1000n) / 1000;
}

const epochNow = (): number => performance.timeOrigin + performance.now();

// When the daemon answers a wait for the running container's exit (registered before it ends).
async function daemonExitNotice(container: string): Promise<Promise<number>> {
  const watch = await engine.wait(container, 'not-running');
  return watch.result.then(epochNow);
}

async function ourExitToUpdate(): Promise<ExitLatency> {
  const { record } = await subscribed(task('sleep 0.5'));
  let receivedAt = 0;
  const received = held.waitForUpdate(record.executorId, (update) => {
    if (update.status.state !== mesos.v1.TaskState.TASK_FINISHED) return false;
    receivedAt = epochNow();
    return true;
  });
  const launchedAt = Date.now();
  launch(record);
  await held.waitForUpdate(record.executorId, isRunning);
  const notice = await daemonExitNotice(record.containerName);
  await received;
  const noticedAt = await notice;
  await record.exited;
  return { fromWait: receivedAt - noticedAt, fromDie: receivedAt - (await dieTime(record.containerName, launchedAt)) };
}

// The stock executor learns of the exit from a docker CLI: `docker wait` returning.
async function bareExitToWait(): Promise<ExitLatency> {
  const name = `bench-bare-${process.pid}-${++serial}`;
  const createdAt = Date.now();
  await docker('create', '--net', 'host', '--label', BARE_LABEL, '--name', name, IMAGE, 'sleep', '0.5');
  await docker('start', name);
  const notice = await daemonExitNotice(name);
  const returnedAt = await docker('wait', name).then(epochNow);
  const noticedAt = await notice;
  const diedAt = await dieTime(name, createdAt);
  await docker('rm', '-f', name);
  return { fromWait: returnedAt - noticedAt, fromDie: returnedAt - diedAt };
}

async function ourKill(): Promise<number> {
  const { record } = await subscribed(task(IDLE));
  launch(record);
  await held.waitForUpdate(record.executorId, isRunning);
  const started = performance.now();
  held.kill(record.executorId, 10_000);
  await held.waitForUpdate(record.executorId, (update) => update.status.state === mesos.v1.TaskState.TASK_KILLED);
  const elapsed = performance.now() - started;
  await record.exited;
  return elapsed;
}

async function bareStop(): Promise<number> {
  const name = `bench-bare-${process.pid}-${++serial}`;
  await docker('run', '-d', '--net', 'host', '--label', BARE_LABEL, '--name', name, IMAGE, '/bin/sh', '-c', IDLE);
  await sleep(300);
  const started = performance.now();
  await docker('stop', '-t', '10', name);
  const elapsed = performance.now() - started;
  await docker('rm', '-f', name);
  return elapsed;
}

// LAUNCH to the terminal update of a task writing the bytes, in MB/s.
// Docker's `local` log driver keeps the bytes as they are (so a resumed stream is exact), without
// json-file's escaping; one file, never rotated, so that the log still starts at the first byte.
const LOCAL_LOG = [
  { key: 'log-driver', value: 'local' },
  { key: 'log-opt', value: 'max-file=1' },
  { key: 'log-opt', value: 'compress=false' },
  { key: 'log-opt', value: 'max-size=1024g' },
];

async function ourThroughput(parameters: ReadonlyArray<{ key: string; value: string }> = []): Promise<number> {
  const { record } = await subscribed(task(`head -c ${SCALE.outputBytes} /dev/zero`, parameters));
  const started = performance.now();
  launch(record);
  await held.waitForUpdate(record.executorId, (update) => update.status.state === mesos.v1.TaskState.TASK_FINISHED, 300_000);
  const elapsed = performance.now() - started;
  await record.exited;
  const size = statSync(join(record.sandbox, 'stdout')).size;
  if (size !== SCALE.outputBytes) throw new Error(`sandbox stdout has ${size} bytes, expected ${SCALE.outputBytes}`);
  return SCALE.outputBytes / 1e6 / (elapsed / 1000);
}

async function bareThroughput(): Promise<number> {
  const directory = mkdtempSync(join(tmpdir(), 'bench-bare-'));
  const file = join(directory, 'stdout');
  const started = performance.now();
  // The CLI attached, writing straight into the file as `docker run > file` does.
  const fd = openSync(file, 'w');
  try {
    const child = spawn('docker', ['-H', `unix://${SOCKET}`, 'run', '--rm', '--net', 'host', '--label', BARE_LABEL, IMAGE, 'head', '-c', String(SCALE.outputBytes), '/dev/zero'], { stdio: ['ignore', fd, 'inherit'] });
    const [code] = await once(child, 'exit') as [number | null];
    if (code !== 0) throw new Error(`docker run exited with ${code}`);
  } finally {
    closeSync(fd);
  }
  const elapsed = performance.now() - started;
  const size = statSync(file).size;
  rmSync(directory, { recursive: true, force: true });
  if (size !== SCALE.outputBytes) throw new Error(`bare docker run wrote ${size} bytes, expected ${SCALE.outputBytes}`);
  return SCALE.outputBytes / 1e6 / (elapsed / 1000);
}

interface CpuWindow {
  // Percent of one core per process, mean over the window.
  readonly cpuPercent: number;
  readonly wakeupsPerSecond: number;
}

interface IdleFigures {
  // Wall time from the first launch to the last TASK_RUNNING (or the last `docker run -d`).
  readonly launchMs: number;
  readonly pssKiBPerTask: number;
  readonly rssKiBPerTask: number;
  // Right after the settling time (the tail of start-up: V8 collects its start-up garbage once
  // the process goes quiet), then the one after it (steady idle); undefined when not measured.
  readonly startupTail: CpuWindow | undefined;
  readonly steady: CpuWindow | undefined;
}

async function cpuWindow(pids: readonly number[]): Promise<CpuWindow> {
  const ticksBefore = sumOverTrees(pids, cpuTicks);
  const wakeupsBefore = sumOverTrees(pids, wakeups);
  const started = performance.now();
  await sleep(SCALE.idleSeconds * 1000);
  const seconds = (performance.now() - started) / 1000;
  const ticks = sumOverTrees(pids, cpuTicks) - ticksBefore;
  return {
    cpuPercent: (100 * ticks) / CLOCK_TICKS / seconds / pids.length,
    wakeupsPerSecond: (sumOverTrees(pids, wakeups) - wakeupsBefore) / seconds / pids.length,
  };
}

// The processes' memory once settled, and optionally their CPU time over two idle windows.
async function idleFigures(pids: readonly number[], launchMs: number, measureCpu: boolean): Promise<IdleFigures> {
  await sleep(SCALE.settleSeconds * 1000);
  const pss = sumOverTrees(pids, pssKiB);
  const rss = sumOverTrees(pids, rssKiB);
  const startupTail = measureCpu ? await cpuWindow(pids) : undefined;
  const steady = measureCpu ? await cpuWindow(pids) : undefined;
  return { launchMs, pssKiBPerTask: pss / pids.length, rssKiBPerTask: rss / pids.length, startupTail, steady };
}

// `count` idle tasks launched at once through the local agent, measured, then killed.
async function ourIdleTasks(count: number, measureCpu: boolean): Promise<IdleFigures> {
  const tasks = Array.from({ length: count }, () => task(IDLE));
  const started = performance.now();
  const records = tasks.map((info) => auto.launch(info));
  try {
    await allReported(auto, records, isRunning, 60_000 + 2000 * count);
    const launchMs = performance.now() - started;
    return await idleFigures(records.map((record) => record.process.pid!), launchMs, measureCpu);
  } finally {
    await finishAll(auto, records);
  }
}

// The baseline: `count` bare idle Node processes (the same binary the shim runs).
async function idleNodes(count: number, measureCpu: boolean): Promise<IdleFigures> {
  const children: ChildProcess[] = [];
  const started = performance.now();
  try {
    for (let i = 0; i < count; i++) children.push(spawn(NODE, ['-e', 'setInterval(() => {}, 1e9)'], { stdio: 'ignore' }));
    await Promise.all(children.map((child) => once(child, 'spawn')));
    return await idleFigures(children.map((child) => child.pid!), performance.now() - started, measureCpu);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map((child) => (child.exitCode === null && child.signalCode === null ? once(child, 'exit') : undefined)));
  }
}

// `count` parallel `docker run -d` of the same image and command: done when every one has returned
// (the CLI returns once its container runs).
async function bareStorm(count: number): Promise<number> {
  const names = Array.from({ length: count }, () => `bench-bare-${process.pid}-${++serial}`);
  const started = performance.now();
  try {
    await Promise.all(names.map((name) => docker('run', '-d', '--net', 'host', '--label', BARE_LABEL, '--name', name, IMAGE, '/bin/sh', '-c', IDLE)));
    return performance.now() - started;
  } finally {
    await removeBare();
  }
}

async function removeBare(): Promise<void> {
  const ids = (await docker('ps', '-aq', '--filter', `label=${BARE_LABEL}`)).stdout.split('\n').filter(Boolean);
  for (let i = 0; i < ids.length; i += 50) await docker('rm', '-f', ...ids.slice(i, i + 50));
}

const ms = (value: number): string => `${value.toFixed(0)} ms`;
const mib = (kib: number): string => `${(kib / MiB).toFixed(1)} MiB`;
const seconds = (value: number): string => `${(value / 1000).toFixed(1)} s`;
const percent = (value: number | undefined): string => `${(value ?? 0).toFixed(3)} %`;

const settle = `${SCALE.settleSeconds} s after the last TASK_RUNNING`;

async function coldStart(): Promise<Row[]> {
  const ours = await sample('executor spawn -> SUBSCRIBE (ms)', ourColdStart);
  const node = await sample('node -e 0, spawn -> exit (ms)', nodeColdStart);
  return [{
    figure: 'cold start: spawn to SUBSCRIBE', executor: ms(ours), baseline: `${ms(node)} (node -e 0)`, target: '<= 85 ms', met: ours <= 85,
    how: `from the local agent's spawn of the shim to the executor being subscribed, median of ${SCALE.repeat}; baseline: \`node -e 0\` from spawn to exit`,
  }];
}

async function memory(): Promise<Row[]> {
  const { smallTasks } = SCALE;
  const one = await ourIdleTasks(1, false);
  const oneNode = await idleNodes(1, false);
  const small = await ourIdleTasks(smallTasks, false);
  const smallNode = await idleNodes(smallTasks, false);
  return [
    {
      figure: `per-task PSS, ${smallTasks} tasks idle`, executor: mib(small.pssKiBPerTask), baseline: `${mib(smallNode.pssKiBPerTask)} (${smallTasks} idle node)`, target: '<= 11 MiB', met: small.pssKiBPerTask <= 11 * MiB,
      how: `sum of Pss (/proc/<pid>/smaps_rollup) over each executor's process tree (the shim execs node: the node pid), ${settle}, divided by the tasks; baseline: as many \`node -e 'setInterval(()=>{},1e9)'\` at once. Bare docker keeps no process per task (0 MiB): the idle node is the floor a Node executor cannot go below`,
    },
    {
      figure: 'per-task RSS, one task idle', executor: mib(one.rssKiBPerTask), baseline: `${mib(oneNode.rssKiBPerTask)} (one idle node)`, target: '<= 42 MiB', met: one.rssKiBPerTask <= 42 * MiB,
      how: `VmRSS (/proc/<pid>/status) of the executor's process tree with one task running alone, ${settle}; baseline: one idle node`,
    },
  ];
}

// The launch storm; its tasks then stay idle for the large PSS figure and the CPU window.
async function storm(): Promise<Row[]> {
  const { tasks } = SCALE;
  const storms: IdleFigures[] = [];
  const bareStorms: number[] = [];
  for (let i = 0; i < SCALE.storms; i++) {
    storms.push(await ourIdleTasks(tasks, i === 0));
    bareStorms.push(await bareStorm(tasks));
    progress(`storm ${i + 1}: executor ${seconds(storms[i]!.launchMs)}, bare docker run -d ${seconds(bareStorms[i]!)}`);
  }
  const large = storms[0]!;
  const largeNode = await idleNodes(tasks, true);
  const ours = median(storms.map((figures) => figures.launchMs));
  const bare = median(bareStorms);
  const cpu = (window: CpuWindow | undefined): string => `${percent(window?.cpuPercent)}, ${window?.wakeupsPerSecond.toFixed(2)} wakeups/s`;
  progress(`idle CPU, first window: executor ${cpu(large.startupTail)}; idle node ${cpu(largeNode.startupTail)}`);
  progress(`idle CPU, second window: executor ${cpu(large.steady)}; idle node ${cpu(largeNode.steady)}`);
  return [
    {
      figure: `per-task PSS, ${tasks} tasks idle`, executor: mib(large.pssKiBPerTask), baseline: `${mib(largeNode.pssKiBPerTask)} (${tasks} idle node)`, target: '<= 9 MiB', met: large.pssKiBPerTask <= 9 * MiB,
      how: `as at ${SCALE.smallTasks} tasks, with the ${tasks} tasks of the launch storm`,
    },
    {
      figure: `${tasks} tasks launched at once`, executor: seconds(ours), baseline: `${seconds(bare)} (${tasks} parallel docker run -d)`, target: '<= 1.3x', met: ours <= 1.3 * bare,
      how: `${tasks} tasks launched together through the local agent (executor spawned, SUBSCRIBE, LAUNCH), until every one has reported TASK_RUNNING; baseline: ${tasks} \`docker run -d\` of the same image and command at once, until every one has returned (its container runs); ratio ${(ours / bare).toFixed(2)}x, median of ${SCALE.storms}`,
    },
    {
      figure: 'idle CPU per executor', executor: percent(large.steady?.cpuPercent), baseline: `${percent(largeNode.steady?.cpuPercent)} (idle node)`, target: '<= 0.05 %', met: (large.steady?.cpuPercent ?? 0) <= 0.05,
      how: `utime + stime (/proc/<pid>/stat) of the ${tasks} idle executors over ${SCALE.idleSeconds} s, as a percentage of one core, per executor, in the window that starts ${SCALE.settleSeconds + SCALE.idleSeconds} s after the last TASK_RUNNING (${cpu(large.steady)} each, wakeups from /proc/<pid>/task/*/schedstat); the ${SCALE.idleSeconds} s before it, which hold the end of start-up (V8 collecting its start-up garbage once the process goes quiet): ${cpu(large.startupTail)}; baseline: ${tasks} idle node processes over the same windows, ${cpu(largeNode.steady)} (before: ${cpu(largeNode.startupTail)})`,
    },
  ];
}

async function exit(): Promise<Row[]> {
  const exitsOurs: ExitLatency[] = [];
  const exitsBare: ExitLatency[] = [];
  await sample('executor exit notice -> terminal update received (ms)', async () => {
    const latency = await ourExitToUpdate();
    exitsOurs.push(latency);
    return latency.fromWait;
  });
  await sample('bare exit notice -> docker wait returns (ms)', async () => {
    const latency = await bareExitToWait();
    exitsBare.push(latency);
    return latency.fromWait;
  });
  // The warm-up is left out, as in sample().
  const ours = median(exitsOurs.slice(1).map((latency) => latency.fromWait));
  const bare = median(exitsBare.slice(1).map((latency) => latency.fromWait));
  const dieOurs = median(exitsOurs.slice(1).map((latency) => latency.fromDie));
  const dieBare = median(exitsBare.slice(1).map((latency) => latency.fromDie));
  return [{
    figure: 'container exit to terminal update', executor: ms(ours), baseline: `${ms(bare)} (docker wait)`, target: '<= 10 ms', met: ours <= 10,
    how: `the daemon's exit notice (an Engine API wait for the container, in the bench process, returning) to the TASK_FINISHED arriving at the local agent in the same process, median of ${SCALE.repeat}; baseline: the same notice to \`docker wait\` returning, as the stock executor learns of an exit from a docker CLI. From the daemon's \`die\` event instead (logged before the daemon's own clean-up, which it finishes before answering any wait): ${ms(dieOurs)} vs ${ms(dieBare)}`,
  }];
}

async function output(): Promise<Row[]> {
  const outputMb = SCALE.outputBytes / 1024 / 1024;
  const ours = await sample(`executor ${outputMb} MiB output (MB/s)`, () => ourThroughput(), 3);
  const bare = await sample('bare docker run > file (MB/s)', bareThroughput, 3);
  const local = await sample(`executor ${outputMb} MiB output, local log driver (MB/s)`, () => ourThroughput(LOCAL_LOG), 3);
  return [{
    figure: `${outputMb} MiB of output`, executor: `${ours.toFixed(0)} MB/s`, baseline: `${bare.toFixed(0)} MB/s (docker run > file)`, target: '>= 1.3x faster', met: ours >= 1.3 * bare,
    how: `\`head -c\` of /dev/zero in the container, LAUNCH to TASK_FINISHED with every byte in the sandbox stdout, median of 3; baseline: attached \`docker run --rm\` with stdout to a file, start to exit; ratio ${(ours / bare).toFixed(2)}x. The executor with its default --container_log_driver=daemon (the daemon's json-file here); the bare run is bound by the daemon's copy into its json-file log (each NUL escaped as \\u0000)`,
  }, {
    figure: `${outputMb} MiB of output, local log driver`, executor: `${local.toFixed(0)} MB/s`, baseline: `${bare.toFixed(0)} MB/s (docker run > file)`, target: '', met: undefined,
    how: `as above, the task asking for Docker's \`local\` log driver (one file, never rotated, uncompressed: ${LOCAL_LOG.map((parameter) => `${parameter.key}=${parameter.value}`).join(', ')}), which keeps the log readable from the first byte for a resumed stream; ratio ${(local / bare).toFixed(2)}x`,
  }];
}

async function launchAndKill(): Promise<Row[]> {
  const launchOurs = await sample('executor LAUNCH -> TASK_RUNNING (ms)', ourLaunch);
  const launchBare = await sample('bare docker create + start (ms)', bareLaunch);
  const killOurs = await sample('executor KILL -> TASK_KILLED (ms)', ourKill);
  const killBare = await sample('bare docker stop (ms)', bareStop);
  return [
    {
      figure: 'LAUNCH to TASK_RUNNING', executor: ms(launchOurs), baseline: `${ms(launchBare)} (docker create + start)`, target: '', met: undefined,
      how: `LAUNCH sent to a subscribed executor until TASK_RUNNING, median of ${SCALE.repeat}; ratio ${(launchOurs / launchBare).toFixed(2)}x`,
    },
    {
      figure: 'KILL to TASK_KILLED', executor: ms(killOurs), baseline: `${ms(killBare)} (docker stop)`, target: '', met: undefined,
      how: `KILL of a running task whose shell exits on SIGTERM, median of ${SCALE.repeat}; ratio ${(killOurs / killBare).toFixed(2)}x`,
    },
  ];
}

const ROW_ORDER = [/PSS, \d+ tasks/, /PSS, \d+ tasks/, /RSS/, /launched at once/, /idle CPU/, /cold start/, /exit to terminal/, /output$/, /output, local/, /LAUNCH/, /KILL/];

// Run in this order; BENCH_ONLY=storm,exit runs only those.
const SECTIONS: Record<string, () => Promise<Row[]>> = { memory, storm, cold: coldStart, exit, output, single: launchAndKill };

async function main(): Promise<Row[]> {
  const only = process.env.BENCH_ONLY?.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = only?.filter((name) => !(name in SECTIONS));
  if (unknown?.length) throw new Error(`BENCH_ONLY names ${unknown.join(', ')}: expected some of ${Object.keys(SECTIONS).join(', ')}`);
  const server = (await docker('version', '-f', '{{.Server.Version}}')).stdout.trim();
  process.stderr.write(`benchmark: ${availableParallelism()} cores, Docker ${server}, Node ${process.version} (${NODE}); ${JSON.stringify(SCALE)}\n`);
  const rows: Row[] = [];
  for (const [name, section] of Object.entries(SECTIONS)) {
    if (only && !only.includes(name)) continue;
    progress(name);
    rows.push(...(await section()));
  }
  // In the order of the performance table, whatever order the sections ran in.
  const rank = (row: Row): number => ROW_ORDER.findIndex((pattern) => pattern.test(row.figure));
  return rows.sort((a, b) => rank(a) - rank(b));
}

try {
  const rows = await main();
  process.stdout.write(MARKDOWN ? markdownTable(rows) : textTable(rows));
} finally {
  await removeBare().catch(() => undefined);
  await held.stop();
  await auto.stop();
  engine.close();
  rmSync(workDir, { recursive: true, force: true });
}
