import { describe, expect, it } from 'vitest';
import { conclude } from '../../../demo/report.js';
import { renderTable, summarize, type PhaseStats } from '../../../demo/table.js';

const phase = (name: string, over: Partial<PhaseStats>): PhaseStats => ({
  name,
  durationMs: 10_000,
  perSecond: 1000,
  failed: 0,
  cold: 0,
  slow: 0,
  slowShare: 0,
  p50: 2,
  p99: 40,
  max: 400,
  back: [
    { program: 'app1', ms: 3000 },
    { program: 'app2', ms: 3200 },
  ],
  ...over,
});

const oneLine = (s: string): string => s.replace(/\s+/g, ' ');

describe('demo conclusion', () => {
  it('states the later come-back, what visitors got in each phase, and the trade-off when the listener phase was clean', () => {
    const a = phase('health checks alone', { cold: 12, slow: 12, max: 1308 });
    const b = phase('with the listener', { back: [{ program: 'app1', ms: 6000 }, { program: 'app2', ms: 6400 }] });
    expect(oneLine(conclude(a, b, 1000))).toBe(
      'Conclusion: With the listener, an instance came back into service later after its restart: 6.2 s on average ' +
        '(slowest 6.4 s) against 3.1 s (slowest 3.2 s) with health checks alone, because it is put back only once its ' +
        'warm-up has passed. With health checks alone, 12 requests were answered cold, 12 took over 1 s (max 1308 ms), ' +
        '0 failed; with the listener, 0 requests were answered cold, 0 took over 1 s (max 400 ms), 0 failed. The ' +
        'trade-off measured here: each instance was out of service 3.1 s longer on average, and no visitor got a cold ' +
        'instance or a failed request.',
    );
  });

  it('claims no trade-off when the listener phase had a cold answer or a failure', () => {
    const a = phase('health checks alone', { cold: 3, slow: 3 });
    const b = phase('with the listener', { cold: 1, failed: 2, back: [{ program: 'app1', ms: 6000 }] });
    const text = oneLine(conclude(a, b, 1000));
    expect(text).toContain('with the listener, 1 request was answered cold, 0 took over 1 s (max 400 ms), 2 failed.');
    expect(text).not.toContain('trade-off');
  });

  it('says neither "later" nor "because" when the listener phase came back no later', () => {
    const text = oneLine(conclude(phase('health checks alone', { cold: 3 }), phase('with the listener', {}), 1000));
    expect(text).toMatch(/^Conclusion: With the listener, an instance came back into service after 3\.1 s on average/);
    expect(text).not.toMatch(/later|because|trade-off/);
  });
});

describe('demo table', () => {
  it('one column per phase, a rate rather than a count, a come-back row per program ("-" where a phase has none)', () => {
    const a = summarize('health checks alone', { requests: 500, failed: 1, cold: 2, latenciesMs: [1, 2, 1500], failures: {}, durationMs: 5000 }, [{ program: 'app1', ms: 3040 }], { slowMs: 1000, clients: 2 });
    const b = phase('with the listener', { back: [{ program: 'app1', ms: 6000 }, { program: 'app2', ms: 6400 }] });
    expect(renderTable([a, b], 1000).split('\n')).toEqual([
      '                                health checks alone   with the listener',
      'phase length                                  5.0 s              10.0 s',
      'requests per second                             100                1000',
      'failed                                            1                   0',
      'answered cold                                     2                   0',
      'slower than 1 s                                   1                   0',
      'client time on pages over 1 s                   15%                  0%',
      'p50                                          2.0 ms              2.0 ms',
      'p99                                         1500 ms               40 ms',
      'max                                         1500 ms              400 ms',
      'back in service after restart',
      '  app1                                        3.0 s               6.0 s',
      '  app2                                            -               6.4 s',
      '',
    ]);
  });
});
