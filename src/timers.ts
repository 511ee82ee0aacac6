// Node fires a timer longer than 2^31 - 1 ms (about 24.8 days) after 1 ms instead. Durations from
// a TaskInfo or the agent can be longer (a 30-day max_completion_time), so long waits re-arm.

export const MAX_TIMER_MS = 2 ** 31 - 1;

// A setTimeout for any duration; cancel() is idempotent.
export class LongTimeout {
  private timer: NodeJS.Timeout | undefined;
  private readonly unref: boolean;

  constructor(callback: () => void, ms: number, options: { unref?: boolean } = {}) {
    this.unref = options.unref ?? false;
    this.arm(callback, Math.max(0, ms));
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(callback: () => void, ms: number): void {
    const wait = Math.min(ms, MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      if (ms > wait) this.arm(callback, ms - wait);
      else callback();
    }, wait);
    if (this.unref) this.timer.unref();
  }
}

// For bounds where anything beyond 24.8 days means "practically never".
export function timerMs(ms: number): number {
  return Math.min(Math.max(0, ms), MAX_TIMER_MS);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, timerMs(ms)));
}

// Whether `promise` settles within `ms`; the timer does not outlive the answer.
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timerMs(ms));
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
