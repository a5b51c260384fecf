// `npm run demo` end to end: the built demo in quick mode exits 0, prints its table and conclusion, and leaves nothing behind.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/paths.js';
import { isAlive, runCaptured, type Captured } from '../support/process.js';

const DEMO = resolve(ROOT, 'build', 'demo', 'run.js');
const RUN_TIMEOUT_MS = 120_000;

type Run = Captured;

let run: Run;

function runDemo(args: readonly string[]): Promise<Run> {
  return runCaptured(process.execPath, [DEMO, ...args], { timeoutMs: RUN_TIMEOUT_MS });
}

/** The cells of the table row whose label is `label`: one per phase (health checks alone, with the listener). */
function cells(stdout: string, label: string): string[] | undefined {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^${escaped}\\s+(\\S+(?: s| ms)?)\\s+(\\S+(?: s| ms)?)$`, 'm').exec(stdout);
  return m === null ? undefined : [m[1] as string, m[2] as string];
}

/** The number of a cell (`808`, `3.1 s`, `1.9 ms`, `35%`), NaN when it is not one. */
const num = (cell: string | undefined): number => (cell === undefined ? Number.NaN : Number(cell.replace(/ m?s$|%$/, '')));

beforeAll(async () => {
  if (!existsSync(DEMO)) {
    throw new Error(`${DEMO} not found: run \`npm run build && tsc -p tsconfig.tools.json\` (npm test does both)`);
  }
  run = await runDemo(['--quick']);
}, RUN_TIMEOUT_MS + 10_000);

describe('npm run demo --quick', () => {
  it('exits 0 by itself (not killed at the run timeout)', () => {
    expect(run.signal, run.stderr).toBeNull();
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
  });

  it('prints both phases side by side, with requests per second rather than counts', () => {
    expect(run.stdout).toMatch(/^\s+health checks alone\s+with the listener$/m);
    expect(run.stdout).not.toMatch(/^requests\s+\d+\s+\d+$/m); // a raw count would compare phases of different lengths
    for (const label of ['phase length', 'requests per second', 'failed', 'answered cold', 'slower than 1 s', 'client time on pages over 1 s', 'p50', 'p99', 'max']) {
      const row = cells(run.stdout, label);
      expect(row, `${label}\n${run.stdout}`).toBeDefined();
      for (const cell of row ?? []) expect(num(cell), `${label}: ${cell}`).toBeGreaterThanOrEqual(0);
    }
    for (const cell of cells(run.stdout, 'requests per second') ?? []) expect(num(cell)).toBeGreaterThan(0);
  });

  it('prints, per phase, when each instance was back in service after its restart', () => {
    const table = run.stdout.slice(run.stdout.indexOf('back in service after restart\n'));
    expect(table, run.stdout).toMatch(/^back in service after restart\n/);
    for (const program of ['app1', 'app2', 'app3']) {
      const row = cells(table, `  ${program}`);
      expect(row, `${program}\n${run.stdout}`).toBeDefined();
      for (const cell of row ?? []) expect(cell).toMatch(/^\d+\.\d s$/);
    }
  });

  it('with the listener, no request failed and none was answered cold', () => {
    expect(num(cells(run.stdout, 'failed')?.[1]), run.stdout).toBe(0);
    expect(num(cells(run.stdout, 'answered cold')?.[1]), run.stdout).toBe(0);
  });

  it('concludes under the table with the come-back times and what visitors got, in both phases', () => {
    const conclusion = /^Conclusion: [\s\S]*?\n\n/m.exec(run.stdout)?.[0].replace(/\n/g, ' ');
    expect(conclusion, run.stdout).toBeDefined();
    expect(conclusion).toMatch(/came back into service .*\d\.\d s on average .* against \d+\.\d s .*with health checks alone/);
    expect(conclusion).toMatch(/With health checks alone, \d+ requests? (was|were) answered cold, \d+ took over 1 s/);
    expect(conclusion).toMatch(/with the listener, 0 requests were answered cold, \d+ took over 1 s .*, 0 failed/);
  });

  it('leaves nothing behind: its temp dir is gone and no pid it printed is alive', () => {
    const output = `${run.stdout}\n${run.stderr}`;
    const dir = /temp dir (\S+)/.exec(output)?.[1];
    expect(dir, output).toBeDefined();
    expect(existsSync(dir as string)).toBe(false);
    const pids = [...output.matchAll(/\bpid (\d+)/g)].map((m) => Number(m[1]));
    // haproxy, supervisord, the listener and two pids per instance (before and after each restart, twice).
    expect(pids.length, output).toBeGreaterThanOrEqual(3);
    expect(pids.filter(isAlive)).toEqual([]);
  });
});
