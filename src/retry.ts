// The one way this executor tries again: an attempt repeated after a delay that a policy picks
// from the attempt's number and its error, until it succeeds, the policy says stop (undefined:
// the last error is thrown) or the signal aborts (its reason is thrown).
import { sleep } from './timers.js';

export type RetryPolicy = (attempt: number, error: unknown) => number | undefined;

export async function retry<T>(work: (attempt: number) => Promise<T>, policy: RetryPolicy, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await work(attempt);
    } catch (error) {
      const delayMs = policy(attempt, error);
      if (delayMs === undefined || signal?.aborted) throw error;
      await abortableSleep(delayMs, signal);
    }
  }
}

// A sleep that an abort ends early (without throwing: the caller checks the signal).
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (!signal) return sleep(ms);
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
