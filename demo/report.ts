// What the demo prints at the end: the table, the trade-off it measured, and how the figures were taken.

import type { DemoSettings } from './settings.js';
import { formatFailures, wrap } from '../test/support/figures.js';
import { PHASE_A, PHASE_B } from '../test/support/rolling.js';
import { formatLimit, formatMs, formatSeconds, mean, renderTable, type PhaseStats } from './table.js';


const seconds = (ms: number): string => `${ms / 1000} s`;
const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** What visitors got in one phase: cold answers, slow ones, failures. */
function visitors(p: PhaseStats, slowMs: number): string {
  return (
    `${plural(p.cold, 'request was', 'requests were')} answered cold, ${p.slow} took over ${formatLimit(slowMs)} ` +
    `(max ${formatMs(p.max)}), ${p.failed} failed`
  );
}

/** The measured trade-off in plain words: only what the figures of `a` (health checks) and `b` (listener) say. */
export function conclude(a: PhaseStats, b: PhaseStats, slowMs: number): string {
  const backA = a.back.map((r) => r.ms);
  const backB = b.back.map((r) => r.ms);
  const meanA = mean(backA);
  const meanB = mean(backB);
  const later = meanB > meanA;
  const times = `${formatSeconds(meanB)} on average (slowest ${formatSeconds(Math.max(...backB))}) against ` +
    `${formatSeconds(meanA)} (slowest ${formatSeconds(Math.max(...backA))}) with ${PHASE_A}`;
  const parts = [
    later
      ? `${capital(PHASE_B)}, an instance came back into service later after its restart: ${times}, because it ` +
        `is put back only once its warm-up has passed.`
      : `${capital(PHASE_B)}, an instance came back into service after ${times}.`,
    `With ${PHASE_A}, ${visitors(a, slowMs)}; ${PHASE_B}, ${visitors(b, slowMs)}.`,
  ];
  if (later && b.cold === 0 && b.failed === 0 && (a.cold > 0 || a.failed > 0)) {
    parts.push(
      `The trade-off measured here: each instance was out of service ${formatSeconds(meanB - meanA)} longer on ` +
        `average, and no visitor got a cold instance or a failed request.`,
    );
  }
  return `Conclusion: ${parts.join(' ')}`;
}

/** How the figures were taken, and what each row counts. */
export function explain(s: DemoSettings): string {
  const rise = /rise (\d+)/.exec(s.check)?.[1] ?? '?';
  const inter = /inter (\S+)/.exec(s.check)?.[1] ?? '?';
  return (
    `How it was measured: both phases restart all ${s.instances} instances one after another with ` +
    `\`supervisorctl restart\`, the next once HAProxy shows the previous one UP again, under the same load: ` +
    `${s.clients} keep-alive clients requesting /site through HAProxy, each sending its next request when the previous ` +
    `one is answered. A restarted instance opens its port ${seconds(s.app.listenDelayMs)} after it starts; its first ` +
    `${s.app.warmAfter} pages take ${seconds(s.app.coldMs)} each and are marked cold; /health answers at once. The ` +
    `phases last different times because the instances come back at different times, so the table gives requests ` +
    `per second (every request, failed ones too, over the phase length). It is not the site's capacity: a client ` +
    `sends nothing while it waits, so the client time spent on pages over ${formatLimit(s.slowMs)} lowers it, and so ` +
    `does whatever else the machine is doing. Failed, answered cold and slower than ${formatLimit(s.slowMs)} are ` +
    `counts over the whole phase, which holds the same ${s.instances} restarts in both. ` +
    `Back in service is the time from \`supervisorctl restart\` until HAProxy shows the server UP again: with ${PHASE_A}, ` +
    `once /health has passed ${rise} checks (inter ${inter}); ${PHASE_B}, once its warm-up request to /site has ` +
    `answered within ${formatLimit(s.slowMs)} and it has set the server ready. p50 is the typical page; p99 and max ` +
    `are what the unlucky visitors got.`
  );
}

export function report(a: PhaseStats, b: PhaseStats, failures: readonly [string, Readonly<Record<string, number>>][], s: DemoSettings): string {
  const lines = [renderTable([a, b], s.slowMs)];
  for (const [phase, f] of failures) if (Object.keys(f).length > 0) lines.push(`failures, ${phase}: ${formatFailures(f)}`);
  if (lines.length > 1) lines.push('');
  lines.push(wrap(conclude(a, b, s.slowMs), 100), '', wrap(explain(s), 100), '');
  return lines.join('\n');
}

const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
