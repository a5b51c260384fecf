// `[warmup] concurrency`: at most N warm-ups at once, the others wait their turn in the order they came.

type Release = () => void;

export class WarmupSlots {
  private running = 0;
  private readonly waiting: { grant: (release: Release) => void; signal: AbortSignal }[] = [];

  /** limit null: no limit, every warm-up starts at once. */
  constructor(private readonly limit: number | null) {}

  /** Whether a warm-up asking now would have to wait. */
  get full(): boolean {
    return this.limit !== null && this.running >= this.limit;
  }

  /**
   * Resolves with the function that gives the slot back, once one is free; rejects with the signal's reason
   * when aborted first (a newer event cancelled the warm-up while it waited), without taking a slot.
   */
  acquire(signal: AbortSignal): Promise<Release> {
    signal.throwIfAborted();
    if (!this.full) return Promise.resolve(this.take());
    return new Promise<Release>((resolve, reject) => {
      const entry = {
        signal,
        grant: (release: Release) => {
          signal.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      const onAbort = (): void => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private take(): Release {
    this.running += 1;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.running -= 1;
      const next = this.waiting.shift();
      if (next !== undefined) next.grant(this.take());
    };
  }
}
