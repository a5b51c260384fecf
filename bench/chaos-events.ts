// The chaos benchmark's event stream: a pure function of a seed, so both sides of the comparison get the same one.

import { prng } from '../test/support/frames.js';

export type ChaosAction = 'restart' | 'kill-instance' | 'stop-start' | 'kill-listener' | 'reload-haproxy';

export interface ChaosEvent {
  readonly action: ChaosAction;
  /** Index of the instance it concerns (restart, kill-instance, stop-start); 0 otherwise. */
  readonly instance: number;
  /** stop-start: how long the instance stays stopped. */
  readonly downMs: number;
  /** Pause after the action has completed, before the next one. */
  readonly gapMs: number;
}

export interface ChaosPlan {
  /** How many instances there are to pick from. */
  readonly instances: number;
  /** Events are drawn until their gaps and stops add up to this. */
  readonly durationMs: number;
  readonly minGapMs: number;
  readonly maxGapMs: number;
}

/** Relative weights: instance faults are the daily case, listener and HAProxy faults the rarer one. */
const WEIGHTS: readonly (readonly [ChaosAction, number])[] = [
  ['restart', 3],
  ['kill-instance', 2],
  ['stop-start', 2],
  ['kill-listener', 1],
  ['reload-haproxy', 2],
];

/** The events of one run; the same seed and plan always give the same list. */
export function chaosEvents(seed: number, plan: ChaosPlan): ChaosEvent[] {
  const random = prng(seed);
  const between = (lo: number, hi: number): number => Math.round(lo + random() * (hi - lo));
  const total = WEIGHTS.reduce((sum, [, w]) => sum + w, 0);
  const events: ChaosEvent[] = [];
  for (let planned = 0; planned < plan.durationMs; ) {
    let pick = random() * total;
    const found = WEIGHTS.find(([, w]) => (pick -= w) < 0);
    const action = (found ?? WEIGHTS[0])![0];
    const instance = Math.floor(random() * plan.instances);
    const downMs = action === 'stop-start' ? between(500, 2000) : 0;
    const gapMs = between(plan.minGapMs, plan.maxGapMs);
    events.push({ action, instance, downMs, gapMs });
    planned += gapMs + downMs;
  }
  return events;
}
