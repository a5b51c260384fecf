// Keeps the listener's old generation near its live size while events flow, so its RSS stays flat.

import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';

/** What the watch reads and does; v8Heap() is the real one. */
export interface HeapProbe {
  /** Bytes in use in V8's old space, garbage included. */
  oldSpaceUsed(): number;
  /** A full, synchronous garbage collection. */
  collect(): void;
}

export interface HeapWatchOptions {
  readonly clock: Clock;
  readonly log: Logger;
  readonly probe: HeapProbe;
  /** Garbage allowed to pile up in the old space before the watch collects it. */
  readonly slackBytes: number;
  /** How soon after an event the watch looks. */
  readonly checkMs: number;
}

/**
 * Every event promotes a few bytes of short-lived objects to V8's old space (measured: ~8 bytes an event,
 * bench/memory.ts). V8 itself collects the old space only once it has grown by 8 MB
 * (MinimumAllocationLimitGrowingStep; `--heap-growing-percent` and `--optimize-for-size` did not change it,
 * measured), and the pages it grew by stay resident. So while events flow, the watch looks at most once per
 * checkMs and runs a full collection once slackBytes have piled up: a pause of 5–10 ms per ~50 000 events
 * instead of RSS that grows by 5 MB or more. An idle listener sets no timer at all.
 */
export class HeapWatch {
  /** Old-space use after the last collection (ours or V8's): the live size, near enough. */
  private baseline: number | null = null;
  private cancel: (() => void) | null = null;

  constructor(private readonly opts: HeapWatchOptions) {}

  /** Something was allocated (an event came): look within checkMs. */
  activity(): void {
    if (this.cancel !== null) return;
    this.cancel = this.opts.clock.timer(this.opts.checkMs, () => {
      this.cancel = null;
      this.check();
    });
  }

  check(): void {
    const { probe } = this.opts;
    const used = probe.oldSpaceUsed();
    if (this.baseline === null || used < this.baseline) {
      this.baseline = used;
      return;
    }
    if (used - this.baseline < this.opts.slackBytes) return;
    const t0 = this.opts.clock.now();
    probe.collect();
    const after = probe.oldSpaceUsed();
    this.baseline = after;
    this.opts.log.debug('heap collected', { old_before: used, old_after: after, ms: this.opts.clock.now() - t0 });
  }

  stop(): void {
    this.cancel?.();
    this.cancel = null;
  }
}
