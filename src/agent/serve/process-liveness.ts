// Whether an executor process still lives: same pid, same start time (a reused pid is another
// process), and not a zombie (an executor whose parent agent died is reparented, and where the
// machine's pid 1 does not reap, it stays in the process table after it dies).
import { readFileSync } from 'node:fs';

export function processLives(pid: number, start?: string): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return false;
  return !start || fields[19] === start;
}
