// `npm run demo` end to end: the built demo in quick mode exits 0, prints both rows, and leaves nothing behind.

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

/** The numbers of one table row: requests, failed, slow. */
function row(stdout: string, phase: string): { requests: number; failed: number; slow: number } | undefined {
  const m = new RegExp(`^${phase}\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+\\S+ ms\\s+\\S+ ms\\s+\\S+ ms$`, 'm').exec(stdout);
  return m === null ? undefined : { requests: Number(m[1]), failed: Number(m[2]), slow: Number(m[3]) };
}

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

  it('prints both rows of the table under its header', () => {
    expect(run.stdout).toMatch(/^phase\s+requests\s+failed\s+slow \(>1 s\)\s+p50\s+p99\s+max$/m);
    const a = row(run.stdout, 'health checks alone');
    const b = row(run.stdout, 'with the listener');
    expect(a, run.stdout).toBeDefined();
    expect(b, run.stdout).toBeDefined();
    expect(a?.requests).toBeGreaterThan(0);
    expect(b?.requests).toBeGreaterThan(0);
  });

  it('with the listener, no request failed', () => {
    expect(row(run.stdout, 'with the listener')?.failed, run.stdout).toBe(0);
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
