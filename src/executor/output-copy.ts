// Copies the container's output into the executor's stdout and stderr (the sandbox files) until
// the container has stopped. If the stream breaks first (the daemon went away, or was restarted
// with live-restore), it resumes from the log driver's copy, past the bytes already written:
// nothing lost, nothing repeated. It keeps the tails of both streams for the terminal message
// and the post-mortem.
import type { Writable } from 'node:stream';
import type { OutputStream } from '../docker/container-runtime.js';
import { demuxOutput } from '../docker/output-demux.js';
import { errorMessage, log } from '../log.js';
import { settlesWithin, sleep } from '../timers.js';
import { OutputTail, recordedTo } from './output-tail.js';
import { skipFirstBytes } from './skip-bytes.js';

// How long after its output stream ends a container's exit may take to be seen.
const OUTPUT_EXIT_GRACE_MS = 2000;

export interface Written {
  stdout: number;
  stderr: number;
}

export interface OutputCopyOptions {
  readonly taskId: string;
  readonly stdout: Writable;
  readonly stderr: Writable;
  // The task's signal: once aborted, a broken stream is not resumed.
  readonly signal: AbortSignal;
  // The container's log from its first byte, to resume from; undefined when there is nothing to
  // resume (the task ended). A failure is logged and ends the copy.
  resume(): Promise<OutputStream | undefined>;
}

export class OutputCopy {
  private readonly options: OutputCopyOptions;
  private stream: OutputStream | undefined;
  private copying: Promise<void> | undefined;
  private exitSeen = false;
  private noticeExitNow: () => void = () => undefined;
  private readonly exitNoticed = new Promise<void>((resolve) => {
    this.noticeExitNow = resolve;
  });
  private stdoutTailValue = new OutputTail();
  private stderrTailValue = new OutputTail();

  constructor(options: OutputCopyOptions) {
    this.options = options;
  }

  get stdoutTail(): OutputTail {
    return this.stdoutTailValue;
  }

  get stderrTail(): OutputTail {
    return this.stderrTailValue;
  }

  // Starts copying `first`: a live attach (from where the container is), or a replayed log
  // (from its first byte, skipping what the sandbox files hold already).
  begin(first: OutputStream, written: Written, replay: boolean): void {
    this.copying = this.copy(first, written, replay);
  }

  // The container has exited: the end of its stream is the normal end.
  noticeExit(): void {
    this.exitSeen = true;
    this.noticeExitNow();
  }

  // Waits for the copy to end after the exit, within a bound; then closes the stream.
  async drain(timeoutMs: number): Promise<void> {
    if (this.copying && !(await settlesWithin(this.copying, timeoutMs))) {
      log.error(`The output stream of task ${this.options.taskId} did not end within ${timeoutMs} ms of the container's exit; closing it`);
      this.close();
    }
  }

  close(): void {
    this.stream?.destroy();
  }

  private async copy(first: OutputStream, written: Written, replay: boolean): Promise<void> {
    let stream: OutputStream = first;
    let skip = replay ? { ...written } : { stdout: 0, stderr: 0 };
    for (;;) {
      this.stream = stream;
      const totals = { stdoutBytes: 0, stderrBytes: 0 };
      let broken = false;
      // A replay starts from the container's first byte: its tails start again too.
      if (replay) {
        this.stdoutTailValue = new OutputTail();
        this.stderrTailValue = new OutputTail();
      }
      const stdout = recordedTo(skipFirstBytes(this.options.stdout, skip.stdout), this.stdoutTailValue);
      const stderr = recordedTo(skipFirstBytes(this.options.stderr, skip.stderr), this.stderrTailValue);
      try {
        await demuxOutput(stream, stdout, stderr, totals);
      } catch (error) {
        broken = true;
        if (!this.options.signal.aborted) log.warn(`The output stream of task ${this.options.taskId} broke: ${errorMessage(error)}`);
      }
      written.stdout = replay ? Math.max(skip.stdout, totals.stdoutBytes) : written.stdout + totals.stdoutBytes;
      written.stderr = replay ? Math.max(skip.stderr, totals.stderrBytes) : written.stderr + totals.stderrBytes;
      // Ending with the container is the normal end; the exit is seen within moments of it.
      if (!this.exitSeen) await Promise.race([this.exitNoticed, sleep(OUTPUT_EXIT_GRACE_MS)]);
      if (this.exitSeen && !broken) return;
      if (this.options.signal.aborted) return;
      let next: OutputStream | undefined;
      try {
        next = await this.options.resume();
      } catch (error) {
        log.error(`Cannot resume the output of task ${this.options.taskId}: ${errorMessage(error)}; output written since is missing from the sandbox`);
        return;
      }
      if (!next) return;
      stream = next;
      replay = true;
      skip = { ...written };
    }
  }
}
