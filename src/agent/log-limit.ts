// A budget of log lines per time window, so a misconfigured or hostile agent client cannot flood stderr (pure).

import type { Clock } from '../clock.js';

export class LogLimit {
  private windowStart = Number.NEGATIVE_INFINITY;
  private used = 0;
  private suppressed = 0;

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    private readonly perWindow: number,
    private readonly windowMs: number,
  ) {}

  /**
   * null when the line must be dropped; otherwise how many were dropped since the last one allowed, so the
   * line that gets through can say so.
   */
  take(): number | null {
    const now = this.clock.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used >= this.perWindow) {
      this.suppressed += 1;
      return null;
    }
    this.used += 1;
    const dropped = this.suppressed;
    this.suppressed = 0;
    return dropped;
  }
}
