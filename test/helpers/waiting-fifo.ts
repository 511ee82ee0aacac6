// A FIFO whose writer is blocked until some reader opens it, and a process that keeps swapping
// its name with a regular file's: the race a container runs against a root reader that checks a
// name and then opens it.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, linkSync, openSync, readSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';

// renameat2(2) with RENAME_EXCHANGE, by system call number: the atomic swap a container can do.
export const RENAMEAT2: Partial<Record<string, number>> = { x64: 316, arm64: 276 };

export interface WaitingFifo {
  // Stops the swapping, then opens the FIFO as a reader: true when the writer was still waiting
  // for one (its line arrives), false when an earlier reader had already released it.
  readonly writerStillWaiting: () => Promise<boolean>;
}

// `name` in `directory` becomes a FIFO with a blocked writer; with `swapWith`, that name and the
// regular file `swapWith` keep exchanging places until writerStillWaiting is called.
export function waitingFifo(directory: string, name: string, swapWith?: string): WaitingFifo {
  const fifo = join(directory, name);
  execFileSync('mkfifo', [fifo]);
  // The writer opens the FIFO by a second name of its own, never swapped; it waits there for a
  // reader of the same FIFO, under whichever name that reader opened it.
  const writerEnd = `${fifo}.writer`;
  linkSync(fifo, writerEnd);
  const writer = spawn('sh', ['-c', 'echo waiting-writer > "$1"', 'sh', writerEnd], { stdio: 'ignore' });
  const writerExited = once(writer, 'exit');
  const swapper = swapWith === undefined
    ? undefined
    : spawn('perl', ['-e', `chdir $ARGV[0] or die; for (;;) { syscall(${RENAMEAT2[process.arch]}, -100, $ARGV[1], -100, $ARGV[2], 2) == 0 or die "$!" }`, directory, name, swapWith], { stdio: 'ignore' });
  const swapperExited = swapper && once(swapper, 'exit');
  return {
    async writerStillWaiting() {
      if (swapper) {
        swapper.kill('SIGKILL');
        await swapperExited;
      }
      const fd = openSync(writerEnd, constants.O_RDONLY | constants.O_NONBLOCK);
      try {
        await writerExited;
        const buffer = Buffer.alloc(64);
        let read = 0;
        try {
          read = readSync(fd, buffer, 0, buffer.length, null);
        } catch {
          // EAGAIN: nothing written.
        }
        return buffer.subarray(0, read).toString() === 'waiting-writer\n';
      } finally {
        closeSync(fd);
      }
    },
  };
}
