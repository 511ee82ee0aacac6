// Kills a process on the host with everything it started. A COMMAND check runs through docker
// exec, whose process the daemon does not kill on our behalf; the executor runs as root on the
// host, so it can. Children go first, each while its parent still runs: the parent reaps them.
// Killed the other way round, they would become orphans of the container's PID 1, which often
// reaps nothing, and stay as zombies.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

// Rounds of killing the deepest processes and letting their parents reap them.
const MAX_ROUNDS = 50;
const ROUND_MS = 10;

interface ProcessEntry {
  readonly pid: number;
  readonly parent: number;
  readonly zombie: boolean;
}

// Kills `pid` and its descendants if it still runs in the PID namespace of the container's
// process `containerPid` (a pid that was reused meanwhile must not be touched). Resolves with
// whether it did.
export async function killProcessTree(pid: number, containerPid: number): Promise<boolean> {
  const namespace = pidNamespace(containerPid);
  const inContainer = (candidate: number): boolean => namespace !== undefined && pidNamespace(candidate) === namespace;
  if (!inContainer(pid)) return false;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const tree = descendants(pid);
    if (tree.length === 0) break;
    // Live processes with no children left, not even unreaped ones.
    const leaves = tree.filter((entry) => !entry.zombie && !tree.some((other) => other.parent === entry.pid));
    for (const leaf of leaves) {
      if (inContainer(leaf.pid)) signal(leaf.pid, 'SIGKILL');
    }
    await new Promise((resolve) => setTimeout(resolve, ROUND_MS));
  }
  // Whatever is left (a parent that does not reap) goes now, with the root and its group.
  for (const entry of descendants(pid)) {
    if (!entry.zombie && inContainer(entry.pid)) signal(entry.pid, 'SIGKILL');
  }
  if (inContainer(pid)) {
    signal(pid, 'SIGKILL');
    signal(-pid, 'SIGKILL');
  }
  return true;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Gone already, or not a group leader.
  }
}

function pidNamespace(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

function descendants(root: number): ProcessEntry[] {
  const byParent = new Map<number, ProcessEntry[]>();
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const name of names) {
    if (!/^[0-9]+$/.test(name)) continue;
    const entry = readEntry(Number(name));
    if (!entry) continue;
    const siblings = byParent.get(entry.parent) ?? [];
    siblings.push(entry);
    byParent.set(entry.parent, siblings);
  }
  const found: ProcessEntry[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of byParent.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

// /proc/<pid>/stat: the state and the parent follow the command name in parentheses (which may
// hold spaces and parentheses itself).
function readEntry(pid: number): ProcessEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, parent: Number(fields[1]), zombie: fields[0] === 'Z' };
  } catch {
    return undefined;
  }
}
