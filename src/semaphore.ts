// A FIFO counting semaphore: at most `limit` holders at once, the others waiting in arrival order.
//
// Used where a shared resource must not be hit by everyone at once: HAProxy serves at most `stats maxconn`
// (default 10) CLI connections across its stats sockets and leaves the rest hanging; `[warmup] concurrency`
// keeps cold instances from all warming (and loading the ZEO server) together.

export class Semaphore {
  private held = 0;
  private readonly queue: { grant: () => void; onAbort: () => void }[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be an integer ≥ 1, got ${limit}`);
  }

  /** Slots in use. */
  get active(): number {
    return this.held;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Whether a caller asking now would have to wait. */
  get full(): boolean {
    return this.held >= this.limit;
  }

  /**
   * Resolves with a release function once a slot is free; releasing twice is harmless. With a signal, a
   * caller still waiting when it aborts leaves the queue and the promise rejects with the signal's reason.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const grant = () => {
        this.held += 1;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.release();
        });
      };
      if (!this.full) {
        grant();
        return;
      }
      const entry = {
        grant: () => {
          signal?.removeEventListener('abort', entry.onAbort);
          grant();
        },
        onAbort: () => {
          this.queue.splice(this.queue.indexOf(entry), 1);
          reject(signal?.reason);
        },
      };
      signal?.addEventListener('abort', entry.onAbort, { once: true });
      this.queue.push(entry);
    });
  }

  /** Runs fn holding a slot, and frees the slot however fn ends. */
  async use<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private release(): void {
    this.held -= 1;
    this.queue.shift()?.grant();
  }
}
