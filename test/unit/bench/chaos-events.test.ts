import { describe, expect, it } from 'vitest';
import { chaosEvents } from '../../../bench/chaos-events.js';
import { prng } from '../../support/frames.js';

const plan = { instances: 4, durationMs: 60_000, minGapMs: 500, maxGapMs: 2000 };

describe('chaosEvents', () => {
  it('gives the same stream for the same seed, another for another seed', () => {
    expect(chaosEvents(42, plan)).toEqual(chaosEvents(42, plan));
    expect(chaosEvents(43, plan)).not.toEqual(chaosEvents(42, plan));
  });

  it('draws every kind of fault, on instances in range, filling the planned duration', () => {
    const events = chaosEvents(7, plan);
    expect(new Set(events.map((e) => e.action))).toEqual(new Set(['restart', 'kill-instance', 'stop-start', 'kill-listener', 'reload-haproxy']));
    for (const e of events) {
      expect(e.instance).toBeGreaterThanOrEqual(0);
      expect(e.instance).toBeLessThan(plan.instances);
      expect(e.gapMs).toBeGreaterThanOrEqual(plan.minGapMs);
      expect(e.gapMs).toBeLessThanOrEqual(plan.maxGapMs);
      expect(e.downMs === 0).toBe(e.action !== 'stop-start');
    }
    const planned = events.reduce((ms, e) => ms + e.gapMs + e.downMs, 0);
    expect(planned).toBeGreaterThanOrEqual(plan.durationMs);
  });

  it('the seeded random numbers stay in [0, 1)', () => {
    const r = prng(1);
    for (let i = 0; i < 10_000; i++) {
      const x = r();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });
});
