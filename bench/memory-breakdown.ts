// Where an idle executor's memory goes, and how long it takes to start: N executors each holding
// one RUNNING busybox `sleep 1000` through the local agent, beside N idle Node processes (the
// floor). Prints PSS/RSS per process from /proc/<pid>/smaps_rollup after a settle, the first
// executor's private memory during the settle and by mapping, and (with --probe) V8's own view
// from inside it. Run after `npm run build`:
//   node --import tsx bench/memory-breakdown.ts [--tasks=N] [--starts=N] [--settle=MS] [--probe] [--executor=PATH]
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalAgent, type ExecutorRecord } from '../src/agent/local-agent.js';
import { DockerRuntime } from '../src/docker/docker-runtime.js';
import { mesos } from '../src/proto/generated/mesos.js';
import { shimScript } from '../scripts/executor-shim.mjs';

const IMAGE = 'mesos-executor-test/busybox:latest';
const SOCKET = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock';
// How long the executors idle before they are measured. V8's memory reducer runs its first full
// garbage collection about ten seconds after start; measured before it, an executor still holds
// some 3 MiB of start-up garbage.
const SETTLE_MS = 15_000;
const SAMPLE_MS = 5000;
// A start that never subscribes (a broken build) fails the run instead of hanging it.
const SUBSCRIBE_TIMEOUT_MS = 30_000;
const KIB = 1024;

const { values: options } = parseArgs({
  options: {
    tasks: { type: 'string', default: '1' },
    starts: { type: 'string', default: '9' },
    settle: { type: 'string', default: String(SETTLE_MS) },
    probe: { type: 'boolean', default: false },
    executor: { type: 'string', default: resolve(import.meta.dirname, '../dist/mesos-docker-executor') },
  },
});
const TASKS = Number(options.tasks);
const STARTS = Number(options.starts);
const SETTLE = Number(options.settle);
const work = mkdtempSync(join(tmpdir(), 'memory-breakdown-'));

// The fields of /proc/<pid>/smaps_rollup, in KiB.
function rollup(pid: number): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const match of readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').matchAll(/^(\w+):\s+(\d+) kB/gm)) {
    fields[match[1]!] = Number(match[2]);
  }
  return fields;
}

// Private memory (clean + dirty, KiB) of each mapping of /proc/<pid>/smaps, grouped by what it is.
function privateByMapping(pid: number): Map<string, number> {
  const groups = new Map<string, number>();
  let group = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      const name = header[1]!;
      group = name === '' ? 'anonymous (V8 heap, malloc arenas, thread stacks)'
        : name === '[heap]' ? '[heap] (malloc main arena)'
          : name.startsWith('[') ? name
            : name.endsWith('/node') ? 'node binary (relocated data)'
              : 'shared libraries (relocated data)';
      continue;
    }
    const size = /^Private_(?:Clean|Dirty):\s+(\d+) kB/.exec(line);
    if (size) groups.set(group, (groups.get(group) ?? 0) + Number(size[1]));
  }
  return groups;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no SUBSCRIBE within ${SUBSCRIBE_TIMEOUT_MS} ms`)), SUBSCRIBE_TIMEOUT_MS);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

const mib = (kib: number): string => `${(kib / KIB).toFixed(1)} MiB`;

// The node process behind a pid that may still be the shim (sh, env) exec'ing it.
async function nodePid(pid: number): Promise<number> {
  for (let i = 0; i < 200; i++) {
    if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'node') return pid;
    await sleep(10);
  }
  throw new Error(`process ${pid} never became node`);
}

// A shim whose node is a wrapper that preloads a probe: on SIGUSR2 it writes V8's statistics
// (after a full GC) and a heap snapshot beside itself. Only for --probe: the preload costs a little.
function probeShim(): string {
  const probe = join(work, 'probe.cjs');
  writeFileSync(probe, `
const v8 = require('node:v8');
const fs = require('node:fs');
function privateKiB() {
  const text = fs.readFileSync('/proc/self/smaps_rollup', 'utf8');
  return [...text.matchAll(/^Private_(?:Clean|Dirty):\\s+(\\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
}
process.on('SIGUSR2', () => {
  // Only now: a V8 flag given at start would make Node refuse its code cache, unlike the real run.
  v8.setFlagsFromString('--expose-gc');
  const gc = require('node:vm').runInNewContext('gc');
  const privateBefore = privateKiB();
  gc();
  const privateAfter = privateKiB();
  const out = ${JSON.stringify(work)} + '/' + process.pid;
  fs.writeFileSync(out + '.json', JSON.stringify({
    privateBefore,
    privateAfter,
    builtinModules: process.moduleLoadList.filter((name) => name.startsWith('NativeModule ')).length,
    memoryUsage: process.memoryUsage(),
    heap: v8.getHeapStatistics(),
    spaces: v8.getHeapSpaceStatistics(),
    code: v8.getHeapCodeStatistics(),
  }));
  v8.writeHeapSnapshot(out + '.heapsnapshot');
  fs.writeFileSync(out + '.done', '');
});
`);
  const wrapper = join(work, 'node-with-probe');
  writeFileSync(wrapper, `#!/bin/sh\nexec ${process.execPath} -r ${probe} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const shim = join(resolve(options.executor!, '..'), `memory-probe-shim-${process.pid}`);
  writeFileSync(shim, shimScript({ nodePath: wrapper }));
  chmodSync(shim, 0o755);
  return shim;
}

// Self sizes of a heap snapshot, summed by node type (and by name for code and closures).
function snapshotSummary(path: string): Array<[string, number]> {
  const snapshot = JSON.parse(readFileSync(path, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const sums = new Map<string, number>();
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeAt]!]!;
    const name = snapshot.strings[snapshot.nodes[i + nameAt]!]!;
    const key = type === 'object' ? `object ${name}` : type === 'code' ? `code ${name.replace(/\s.*/, '')}` : type;
    sums.set(key, (sums.get(key) ?? 0) + snapshot.nodes[i + sizeAt]!);
  }
  return [...sums].sort((a, b) => b[1] - a[1]).slice(0, 20);
}

let serial = 0;
function sleepTask(): mesos.v1.TaskInfo {
  serial += 1;
  const id = `memory-${process.pid}-${serial}`;
  return mesos.v1.TaskInfo.fromObject({
    name: id,
    task_id: { value: id },
    agent_id: { value: 'memory' },
    resources: [{ name: 'cpus', type: 0, scalar: { value: 0.1 } }, { name: 'mem', type: 0, scalar: { value: 32 } }],
    command: { shell: true, value: 'exec sleep 1000' },
    container: { type: 1, docker: { image: IMAGE, network: 1 } },
  });
}

const executorPath = options.probe ? probeShim() : options.executor!;
const agent = new LocalAgent({ workDir: work, executorPath, dockerSocket: SOCKET, holdLaunch: true });
await agent.start();
const records: ExecutorRecord[] = [];
const floor: ChildProcess[] = [];

try {
  // Cold start: the agent spawns the executor (shim included) until its SUBSCRIBE call arrives.
  const starts: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const subscribed = withTimeout(new Promise<number>((done) => agent.once('subscribe', () => done(performance.now()))), 'cold start');
    const started = performance.now();
    const record = agent.launch(sleepTask());
    starts.push((await subscribed) - started);
    agent.shutdown(record.executorId);
    await record.exited;
  }
  process.stdout.write(`cold start, spawn to SUBSCRIBE: median ${median(starts).toFixed(1)} ms (${starts.map((v) => v.toFixed(0)).join(', ')})\n`);

  for (let i = 0; i < TASKS; i++) {
    const subscribed = withTimeout(new Promise<void>((done) => agent.once('subscribe', () => done())), `executor ${i + 1}`);
    const record = agent.launch(sleepTask());
    await subscribed;
    agent.sendEvent(record.executorId, { type: mesos.v1.executor.Event.Type.LAUNCH, launch: { task: record.task } });
    records.push(record);
  }
  await Promise.all(records.map((record) => agent.waitForUpdate(record.executorId, (update) => update.status.state === mesos.v1.TaskState.TASK_RUNNING, 120_000)));
  for (let i = 0; i < TASKS; i++) {
    floor.push(spawn(process.execPath, ['-e', 'setInterval(()=>{},1e9)'], { stdio: 'ignore', env: {} }));
  }
  const pids = await Promise.all(records.map((record) => nodePid(record.process.pid!)));
  const during: number[] = [];
  for (let waited = 0; waited < SETTLE; waited += SAMPLE_MS) {
    await sleep(Math.min(SAMPLE_MS, SETTLE - waited));
    const first = rollup(pids[0]!);
    during.push(first.Private_Clean! + first.Private_Dirty!);
  }
  const ours = pids.map(rollup);
  const bare = floor.map((child) => rollup(child.pid!));
  const row = (label: string, values: Array<Record<string, number>>): string => {
    const pss = mean(values.map((v) => v.Pss!));
    const rss = mean(values.map((v) => v.Rss!));
    const priv = mean(values.map((v) => v.Private_Clean! + v.Private_Dirty!));
    return `${label.padEnd(34)} PSS ${mib(pss).padStart(9)}  RSS ${mib(rss).padStart(9)}  private ${mib(priv).padStart(9)}\n`;
  };
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  process.stdout.write(`private memory of the first executor every ${SAMPLE_MS / 1000} s of the settle: ${during.map((kib) => (kib / KIB).toFixed(1)).join(', ')} MiB\n`);
  process.stdout.write(`${TASKS} idle task(s) after ${SETTLE / 1000} s, means per process (load average ${load}):\n`);
  process.stdout.write(row('  executor (one RUNNING task)', ours));
  process.stdout.write(row("  node -e 'setInterval(()=>{},1e9)'", bare));

  process.stdout.write('private memory of the first executor by mapping, beside the floor:\n');
  const mine = privateByMapping(pids[0]!);
  const theirs = privateByMapping(floor[0]!.pid!);
  for (const name of new Set([...mine.keys(), ...theirs.keys()])) {
    process.stdout.write(`  ${name.padEnd(52)} ${mib(mine.get(name) ?? 0).padStart(9)}  floor ${mib(theirs.get(name) ?? 0).padStart(9)}\n`);
  }

  if (options.probe) {
    const pid = pids[0]!;
    process.kill(pid, 'SIGUSR2');
    for (let i = 0; i < 600; i++) {
      try {
        readFileSync(join(work, `${pid}.done`));
        break;
      } catch {
        await sleep(50);
      }
    }
    const stats = JSON.parse(readFileSync(join(work, `${pid}.json`), 'utf8')) as {
      privateBefore: number;
      privateAfter: number;
      builtinModules: number;
      memoryUsage: NodeJS.MemoryUsage;
      heap: Record<string, number>;
      spaces: Array<{ space_name: string; space_size: number; space_used_size: number }>;
      code: Record<string, number>;
    };
    const k = (bytes: number): string => mib(bytes / KIB);
    process.stdout.write(`a full GC took the executor's private memory from ${mib(stats.privateBefore)} to ${mib(stats.privateAfter)}; ${stats.builtinModules} of Node's built-in modules are loaded\n`);
    process.stdout.write(`V8 after a full GC: heap committed ${k(stats.heap.total_heap_size!)}, used ${k(stats.heap.used_heap_size!)}, malloced ${k(stats.heap.malloced_memory!)}, external ${k(stats.memoryUsage.external)} (array buffers ${k(stats.memoryUsage.arrayBuffers)})\n`);
    for (const space of stats.spaces) {
      process.stdout.write(`  ${space.space_name.padEnd(24)} committed ${k(space.space_size).padStart(9)}  used ${k(space.space_used_size).padStart(9)}\n`);
    }
    process.stdout.write(`  bytecode ${k(stats.code.bytecode_and_metadata_size!)}, machine code ${k(stats.code.code_and_metadata_size!)}, script sources ${k(stats.code.external_script_source_size!)}\n`);
    process.stdout.write('heap snapshot, self size by kind (top 20):\n');
    for (const [key, size] of snapshotSummary(join(work, `${pid}.heapsnapshot`))) {
      process.stdout.write(`  ${key.slice(0, 60).padEnd(60)} ${k(size).padStart(9)}\n`);
    }
  }
} finally {
  for (const child of floor) child.kill();
  for (const record of records) agent.kill(record.executorId, 0);
  await Promise.all(records.map((record) => record.exited));
  await agent.stop();
  const docker = new DockerRuntime(SOCKET);
  for (const container of await docker.list([`org.apache.mesos.framework_id=${agent.frameworkId}`])) {
    await docker.remove(container.id).catch(() => undefined);
  }
  docker.close();
  if (options.probe) {
    const { rmSync } = await import('node:fs');
    rmSync(join(resolve(options.executor!, '..'), `memory-probe-shim-${process.pid}`), { force: true });
  }
}
