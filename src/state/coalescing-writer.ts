// Keeps one file up to date with the latest state without holding up the caller: a write begins
// on the next turn of the event loop and takes the state as it is then, so that every change
// made in the same turn, or while a write is under way, lands in one write.
export class CoalescingWriter {
  private readonly write: () => Promise<void>;
  private readonly onError: (error: unknown) => void;
  private running: Promise<void> | undefined;
  private dirty = false;
  private closed = false;

  // `write` takes the state when it is called; its failure goes to `onError` (the next change
  // writes again).
  constructor(write: () => Promise<void>, onError: (error: unknown) => void) {
    this.write = write;
    this.onError = onError;
  }

  // The state changed: write it soon. Ignored once closed.
  request(): void {
    if (this.closed) return;
    this.dirty = true;
    this.running ??= this.drain();
  }

  // Settles once every write asked for before the call has finished (or failed).
  flushed(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  // Finishes what was asked for; later requests write nothing.
  async close(): Promise<void> {
    await this.flushed();
    this.closed = true;
  }

  private async drain(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.dirty) {
      this.dirty = false;
      try {
        await this.write();
      } catch (error) {
        this.onError(error);
      }
    }
    this.running = undefined;
  }
}
