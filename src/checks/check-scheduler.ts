// Runs one check on timers (upstream CheckerProcess): the first attempt after the delay, each
// next one an interval after the previous attempt completed, each attempt bounded by the timeout.
// Between attempts nothing runs but a timer. stop() cancels the timer and the attempt in flight,
// and settles once that attempt's process is gone.
import type { ProbeResult } from './probe-result.js';
import { errorMessage, log } from '../log.js';

export interface SchedulerOptions {
  readonly delayMs: number;
  readonly intervalMs: number;
  // 0 means no timeout.
  readonly timeoutMs: number;
  // One attempt; it must end (killing and reaping anything it started) once `signal` aborts.
  readonly probe: (signal: AbortSignal) => Promise<ProbeResult>;
  readonly onResult: (result: ProbeResult) => void;
}

// setTimeout fires at once beyond this; longer waits are chained.
const MAX_TIMER_MS = 2 ** 31 - 1;

export class CheckScheduler {
  private readonly options: SchedulerOptions;
  private timer: NodeJS.Timeout | undefined;
  private attempt: { controller: AbortController; done: Promise<void> } | undefined;
  private stopped = false;
  private stopping: Promise<void> | undefined;

  constructor(options: SchedulerOptions) {
    this.options = options;
  }

  start(): void {
    if (this.stopped || this.timer || this.attempt) return;
    this.arm(this.options.delayMs);
  }

  // Idempotent: every call returns the same promise.
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const attempt = this.attempt;
    attempt?.controller.abort(new Error('checks stopped'));
    this.stopping = attempt ? attempt.done : Promise.resolve();
    return this.stopping;
  }

  private arm(ms: number): void {
    if (this.stopped || !Number.isFinite(ms)) return;
    const wait = Math.min(ms, MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (ms > wait) this.arm(ms - wait);
      else this.run();
    }, wait);
    this.timer.unref();
  }

  private run(): void {
    if (this.stopped) return;
    const controller = new AbortController();
    const { timeoutMs } = this.options;
    let timedOut = false;
    const timeout = timeoutMs > 0 && Number.isFinite(timeoutMs)
      ? setTimeout(() => {
        timedOut = true;
        controller.abort(new Error(`timed out after ${timeoutMs} ms`));
      }, Math.min(timeoutMs, MAX_TIMER_MS))
      : undefined;
    const done = (async () => {
      let result: ProbeResult;
      try {
        result = await this.options.probe(controller.signal);
      } catch (error) {
        result = { kind: 'error', message: errorMessage(error) };
      } finally {
        clearTimeout(timeout);
      }
      if (timedOut) result = { kind: 'timeout', afterMs: timeoutMs };
      this.attempt = undefined;
      if (this.stopped) return;
      try {
        this.options.onResult(result);
      } catch (error) {
        log.error(`A check result could not be handled: ${errorMessage(error)}`);
      }
      this.arm(this.options.intervalMs);
    })();
    this.attempt = { controller, done };
  }
}
