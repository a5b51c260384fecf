// Never an empty backend while one of its instances runs: which warming processes go ready early (pure).

import type { ServerRef } from '../haproxy/types.js';

/** One mapped process, as this rule sees it. */
export interface Candidate {
  readonly key: string;
  readonly servers: readonly ServerRef[];
  /** Ready because it is warm (or needs no warm-up): it keeps its backends served. */
  readonly warm: boolean;
  /** Ready early already: it keeps its backends served until one of them has a warm server again. */
  readonly stopgap: boolean;
  /** Warming, its port answers, and its rule has `never_empty`: it may go ready early. */
  readonly eligible: boolean;
  /** When its warm-up started (clock ms): the earliest is the closest to warm. */
  readonly since: number;
}

interface StopgapChange {
  /** Processes to make ready before they are warm, with the backend that would otherwise be empty. */
  readonly start: readonly { readonly key: string; readonly backend: string }[];
  /** Stopgaps to take back to maint: every backend of theirs has a warm server again. */
  readonly end: readonly string[];
}

/**
 * A backend is served when one of its managed processes is warm or a stopgap. For each backend that is not,
 * the eligible process that started warming first becomes a stopgap; a stopgap whose backends all have a
 * warm server again ends. Only the servers the listener manages count: it knows nothing of the others.
 */
export function stopgapChanges(processes: readonly Candidate[]): StopgapChange {
  const backendsOf = (c: Candidate): Set<string> => new Set(c.servers.map((s) => s.backend));
  const warm = new Set<string>();
  const served = new Set<string>();
  for (const c of processes) {
    for (const b of backendsOf(c)) {
      if (c.warm) warm.add(b);
      if (c.warm || c.stopgap) served.add(b);
    }
  }
  const start: { key: string; backend: string }[] = [];
  const chosen = new Set<string>();
  const byAge = processes.filter((c) => c.eligible && !c.stopgap && !c.warm).sort((a, b) => a.since - b.since);
  for (const c of byAge) {
    const empty = [...backendsOf(c)].find((b) => !served.has(b));
    if (empty === undefined) continue;
    start.push({ key: c.key, backend: empty });
    chosen.add(c.key);
    for (const b of backendsOf(c)) served.add(b);
  }
  const end = processes
    .filter((c) => c.stopgap && !chosen.has(c.key) && [...backendsOf(c)].every((b) => warm.has(b)))
    .map((c) => c.key);
  return { start, end };
}
