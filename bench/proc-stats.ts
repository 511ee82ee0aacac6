// What /proc says about a process tree: proportional and resident memory, CPU time, wakeups.
// PSS shares each page among the processes mapping it, so a sum over N processes is what N cost
// together; RSS counts shared pages in full.
import { readdirSync, readFileSync } from 'node:fs';

// The process and all its descendants (a health check's helper counts toward its executor).
export function processTree(pid: number): number[] {
  const children: number[] = [];
  for (const thread of readOr(() => readdirSync(`/proc/${pid}/task`), [] as string[])) {
    const text = readOr(() => readFileSync(`/proc/${pid}/task/${thread}/children`, 'utf8'), '');
    children.push(...text.trim().split(/\s+/).filter(Boolean).map(Number));
  }
  return [pid, ...children.flatMap(processTree)];
}

// Pss of one process in KiB (smaps_rollup); 0 once it is gone.
export function pssKiB(pid: number): number {
  const text = readOr(() => readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), '');
  return Number(/^Pss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
}

export function rssKiB(pid: number): number {
  const text = readOr(() => readFileSync(`/proc/${pid}/status`, 'utf8'), '');
  return Number(/^VmRSS:\s+(\d+)/m.exec(text)?.[1] ?? 0);
}

// utime + stime of every thread, in clock ticks (fields 14 and 15 of /proc/<pid>/stat).
export function cpuTicks(pid: number): number {
  const text = readOr(() => readFileSync(`/proc/${pid}/stat`, 'utf8'), '');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
}

// Times any thread of the process was scheduled in (the third field of each thread's schedstat).
export function wakeups(pid: number): number {
  let total = 0;
  for (const thread of readOr(() => readdirSync(`/proc/${pid}/task`), [] as string[])) {
    const text = readOr(() => readFileSync(`/proc/${pid}/task/${thread}/schedstat`, 'utf8'), '');
    total += Number(text.trim().split(' ')[2] ?? 0);
  }
  return total;
}

export function sumOverTrees(roots: readonly number[], measure: (pid: number) => number): number {
  return roots.reduce((sum, root) => sum + processTree(root).reduce((inner, pid) => inner + measure(pid), 0), 0);
}

// A process can end between listing and reading: it then counts as nothing.
function readOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}
