// What the demo prints at the end: the table, what its figures mean, and where the logs are.

import type { DemoSettings } from './settings.js';
import { formatFailures, formatMs, renderTable, type PhaseStats } from './table.js';

export const PHASE_A = 'health checks alone';
export const PHASE_B = 'with the listener';

const seconds = (ms: number): string => `${ms / 1000} s`;

export function explain(a: PhaseStats, b: PhaseStats, s: DemoSettings): string {
  const fall = /fall (\d+)/.exec(s.check)?.[1] ?? '?';
  const rise = /rise (\d+)/.exec(s.check)?.[1] ?? '?';
  const inter = /inter (\S+)/.exec(s.check)?.[1] ?? '?';
  return (
    `Both phases restarted all ${s.instances} instances in turn with \`supervisorctl restart\` under the same ` +
    `steady load (${s.clients} keep-alive clients on /site through HAProxy); a restarted instance opens its port ` +
    `${seconds(s.app.listenDelayMs)} after it starts and takes ${seconds(s.app.coldMs)} per page until it has served ` +
    `${s.app.warmAfter} pages, while /health answers at once. With health checks alone, HAProxy notices an ` +
    `instance is gone only after ${fall} failed checks (inter ${inter}); requests sent to it meanwhile are refused ` +
    `and retried on another server (retry-on, option redispatch), which keeps failures rare in this setup. The start ` +
    `side is what hurts: HAProxy sends visitors to the instance again as soon as /health passes ${rise} times, ` +
    `while it is still cold — ${a.slow} requests took over ${seconds(s.slowMs)} (max ${formatMs(a.max)}), ` +
    `${a.failed} failed. With the ` +
    `listener, a server goes to maint the moment supervisord reports the restart, and comes back only after a ` +
    `warm-up request to /site has answered within ${seconds(s.slowMs)}: ${b.slow} slow, ${b.failed} failed ` +
    `(max ${formatMs(b.max)}). p50 is the typical page; p99 and max are what the unlucky visitors got.`
  );
}

export function report(a: PhaseStats, b: PhaseStats, failures: readonly [string, Readonly<Record<string, number>>][], s: DemoSettings): string {
  const lines = [renderTable([a, b], s.slowMs)];
  for (const [phase, f] of failures) if (Object.keys(f).length > 0) lines.push(`failures, ${phase}: ${formatFailures(f)}`);
  if (lines.length > 1) lines.push('');
  lines.push(wrap(explain(a, b, s), 100), '');
  return lines.join('\n');
}

/** Greedy word wrap, so the paragraph reads well in a terminal. */
export function wrap(text: string, width: number): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') out.push(line);
  return out.join('\n');
}
