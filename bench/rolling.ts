// Benchmark: a rolling restart under steady load, HAProxy health checks alone against the same with the listener.

import { PHASE_A, PHASE_B, rollingSettings, runPhase, startRollingSite, type PhaseOptions, type PhaseResult } from '../test/support/rolling.js';
import { renderComparison } from './compare.js';
import type { Benchmark, BenchContext } from './context.js';
import { count, duration, rate } from './format.js';
import { countAbove, summarize } from './stats.js';
import { formatFailures, paragraphs } from '../test/support/figures.js';

const P999_GOAL_MS = 100;

async function run(ctx: BenchContext): Promise<string> {
  // The demo's own presets (full, or --quick): the same site, load and health checks.
  const s = rollingSettings(ctx.quick);
  const stack = await startRollingSite(ctx.dir, s, ctx.teardown);
  ctx.progress(`${s.instances} instances UP and warm; ${PHASE_A}: rolling restart under load (${s.clients} clients)`);

  const phase: PhaseOptions = {
    clients: s.clients,
    requestTimeoutMs: s.requestTimeoutMs,
    settleMs: s.settleMs,
    restartTimeoutMs: 60_000,
    onRestart: (r) => ctx.progress(`  ${r.program} back UP after ${(r.backAfterMs / 1000).toFixed(1)} s`),
  };
  const a = await runPhase(stack, phase, ctx.teardown);
  await stack.startListener({ timeoutMs: 30_000 });
  ctx.progress(`listener running and quiet; ${PHASE_B}: the same rolling restart`);
  const b = await runPhase(stack, phase, ctx.teardown);
  await stack.stop();

  const stats = (p: PhaseResult) => ({ ...summarize(p.load.latenciesMs), slow: countAbove(p.load.latenciesMs, s.slowMs) });
  const sa = stats(a);
  const sb = stats(b);
  const perSecond = (p: PhaseResult): number => (p.load.requests / p.load.durationMs) * 1000;
  const restarts = (p: PhaseResult): number => p.restarts.reduce((ms, r) => ms + r.backAfterMs, 0) / p.restarts.length;
  const table = renderComparison({
    baselineName: PHASE_A,
    subjectName: PHASE_B,
    figures: [
      { label: 'requests', baseline: a.load.requests, subject: b.load.requests, format: count },
      { label: 'requests/s', baseline: perSecond(a), subject: perSecond(b), format: rate },
      { label: 'failed', baseline: a.load.failed, subject: b.load.failed, format: count },
      { label: `slower than ${s.slowMs / 1000} s`, baseline: sa.slow, subject: sb.slow, format: count },
      { label: 'p50', baseline: sa.p50, subject: sb.p50, format: duration },
      { label: 'p99', baseline: sa.p99, subject: sb.p99, format: duration },
      { label: 'p99.9', baseline: sa.p999, subject: sb.p999, format: duration },
      { label: 'max', baseline: sa.max, subject: sb.max, format: duration },
      { label: 'restart → UP again (mean)', baseline: restarts(a), subject: restarts(b), format: duration },
    ],
  });
  const failures = [
    [PHASE_A, a.load.failures],
    [PHASE_B, b.load.failures],
  ] as const;
  const met = b.load.failed === 0 && sb.p999 < P999_GOAL_MS;
  const why = [b.load.failed === 0 ? null : `${b.load.failed} failed`, sb.p999 < P999_GOAL_MS ? null : `p99.9 ${duration(sb.p999)}`]
    .filter((x) => x !== null)
    .join(', ');
  return (
    paragraphs(
      `${s.instances} slow-app instances behind haproxy (\`${s.check}\`, GET /health), each restarted in turn with ` +
        `\`supervisorctl restart\` while ${s.clients} keep-alive clients request /site through the frontend. A ` +
        `restarted instance opens its port ${s.app.listenDelayMs / 1000} s after it starts and takes ` +
        `${s.app.coldMs / 1000} s per page for its first ${s.app.warmAfter} pages. The listener's warm-up requests ` +
        `/site with a ${s.slowMs / 1000} s timeout. Latencies are per request, as the clients saw them.`,
    ) +
    '\n' +
    table +
    failures
      .filter(([, f]) => Object.keys(f).length > 0)
      .map(([name, f]) => `failures, ${name}: ${formatFailures(f)}\n`)
      .join('') +
    `goal (with the listener: 0 failed, p99.9 under ${P999_GOAL_MS} ms): ${met ? 'met' : `MISSED (${why})`}\n`
  );
}

export const rolling: Benchmark = {
  name: 'rolling',
  title: 'Rolling restart under load',
  run,
};
