import { LongTimeout } from '../timers.js';

// Stops a container the way `docker stop -t` would, but with a deadline that a later, shorter
// grace period can pull in (a second KILL, or SHUTDOWN during a long kill policy): the stop
// signal now, SIGKILL when the earliest deadline passes.

export interface Signaller {
  (signal: string): Promise<void>;
}

export class KillEscalation {
  private readonly signal: Signaller;
  readonly stopSignal: string;
  private readonly now: () => number;
  private deadline: number | undefined;
  private timer: LongTimeout | undefined;
  private stopSent = false;
  private killSent = false;

  // stopSignalSent: the stop signal went out already (a kill carried on by a restarted executor).
  constructor(options: { signal: Signaller; stopSignal: string; now?: () => number; stopSignalSent?: boolean }) {
    this.signal = options.signal;
    this.stopSignal = options.stopSignal;
    this.now = options.now ?? Date.now;
    this.stopSent = options.stopSignalSent ?? false;
  }

  get sigkillSent(): boolean {
    return this.killSent;
  }

  get stopSignalSent(): boolean {
    return this.stopSent;
  }

  // Requests a stop within graceMs; only ever moves the SIGKILL deadline earlier.
  request(graceMs: number): void {
    if (this.killSent) return;
    const deadline = this.now() + Math.max(0, graceMs);
    if (this.deadline !== undefined && deadline >= this.deadline) return;
    this.deadline = deadline;
    if (graceMs <= 0) {
      this.forceKill();
      return;
    }
    if (!this.stopSent) {
      this.stopSent = true;
      void this.signal(this.stopSignal);
    }
    this.timer?.cancel();
    this.timer = new LongTimeout(() => this.forceKill(), deadline - this.now());
  }

  cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private forceKill(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.killSent) return;
    this.killSent = true;
    void this.signal('SIGKILL');
  }
}
