// The heap watch: looks only after events, collects once the old space has grown by the slack, never idles busy.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import { HeapWatch, type HeapProbe } from '../../../src/heap/watch.js';
import { v8Heap } from '../../../src/heap/v8.js';
import { memoryLogger } from '../../../src/log.js';

const MB = 1_000_000;

/** An old space that grows by what the test says and drops to `live` on a collection. */
function fakeHeap(live: number) {
  const heap = { used: live, live, reads: 0, collections: 0 };
  const probe: HeapProbe = {
    oldSpaceUsed: () => {
      heap.reads += 1;
      return heap.used;
    },
    collect: () => {
      heap.collections += 1;
      heap.used = heap.live;
    },
  };
  return { heap, probe };
}

function setup(live = 5 * MB) {
  const { heap, probe } = fakeHeap(live);
  const log = memoryLogger();
  const watch = new HeapWatch({ clock: systemClock, log, probe, slackBytes: MB, checkMs: 1000 });
  return { heap, watch, log };
}

describe('HeapWatch', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads nothing and sets no timer while no event comes', async () => {
    const { heap } = setup();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(heap.reads).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('looks once per checkMs however many events come, and not again once they stop', async () => {
    const { heap, watch } = setup();
    for (let i = 0; i < 500; i++) watch.activity();
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(heap.reads).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(heap.reads).toBe(1);
  });

  it('collects once the old space has grown by the slack since the last look at its floor', async () => {
    const { heap, watch, log } = setup();
    watch.activity();
    await vi.advanceTimersByTimeAsync(1000);
    heap.used += 0.9 * MB;
    watch.activity();
    await vi.advanceTimersByTimeAsync(1000);
    expect(heap.collections).toBe(0);
    heap.used += 0.2 * MB;
    watch.activity();
    await vi.advanceTimersByTimeAsync(1000);
    expect(heap.collections).toBe(1);
    expect(heap.used).toBe(5 * MB);
    expect(log.lines.join('')).toMatch(/level=debug msg="heap collected" old_before=6100000 old_after=5000000 ms=0/);
  });

  it('takes a collection V8 made itself as the new floor', async () => {
    const { heap, watch } = setup(5 * MB);
    heap.used = 9 * MB;
    watch.activity();
    await vi.advanceTimersByTimeAsync(1000);
    heap.used = 5.5 * MB; // V8 collected on its own
    watch.activity();
    await vi.advanceTimersByTimeAsync(1000);
    heap.used = 6.4 * MB;
    watch.activity();
    await vi.advanceTimersByTimeAsync(1000);
    expect(heap.collections).toBe(0);
    heap.used = 6.6 * MB;
    watch.activity();
    await vi.advanceTimersByTimeAsync(1000);
    expect(heap.collections).toBe(1);
  });

  it('stop() cancels a pending look', async () => {
    const { heap, watch } = setup();
    watch.activity();
    watch.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(heap.reads).toBe(0);
  });
});

describe('v8Heap', () => {
  it('is null without --expose-gc (as in this test run), so the listener runs without the watch', () => {
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe('undefined');
    expect(v8Heap()).toBeNull();
  });
});
