// A small FIFO counting semaphore: bounds how many stats-socket connections one client holds at once.

/**
 * HAProxy serves at most `stats maxconn` (default 10) CLI connections across all its stats sockets and
 * leaves the rest hanging, so each client keeps well under that. Waiters are served in arrival order.
 */
export class Semaphore {
  private held = 0;
  private readonly queue: (() => void)[] = [];

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

  /** Resolves with a release function once a slot is free; releasing twice is harmless. */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = () => {
        this.held += 1;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.release();
        });
      };
      if (this.held < this.limit) grant();
      else this.queue.push(grant);
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
    const next = this.queue.shift();
    next?.();
  }
}
