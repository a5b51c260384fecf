// The demo's command line (--quick, --keep) and the two presets: a full run, and a shorter one for CI.

import type { AppSettings } from './stack.js';

export interface DemoSettings {
  readonly quick: boolean;
  /** Keep the temp dir (configs and logs) instead of removing it. */
  readonly keep: boolean;
  readonly instances: number;
  /** Concurrent keep-alive clients of the load. */
  readonly clients: number;
  readonly app: AppSettings;
  /** HAProxy health checks, as on each `server` line. */
  readonly check: string;
  /** A request slower than this counts as slow, and a warm-up request slower than this fails. */
  readonly slowMs: number;
  /** Pause after a server is back UP before the next restart, and around each phase. */
  readonly settleMs: number;
  /** A load request with no answer by then counts as failed. */
  readonly requestTimeoutMs: number;
}

export const USAGE = `usage: npm run demo [-- --quick] [-- --keep]
  --quick   shorter settings (for CI); also DEMO_QUICK=1
  --keep    keep the temp dir with every config and log
`;

const FULL = {
  instances: 3,
  clients: 8,
  // Opens its port 1.5 s after start (a Zope boot): long enough for health checks (fall 2 × 500 ms) to notice.
  app: { listenDelayMs: 1500, coldMs: 1500, warmAfter: 3 },
  check: 'inter 500ms rise 2 fall 2',
  slowMs: 1000,
  settleMs: 1000,
  requestTimeoutMs: 15_000,
} as const;

const QUICK = { ...FULL, clients: 4, app: { ...FULL.app, coldMs: 1200, warmAfter: 2 }, settleMs: 500 } as const;

export type Parsed = { readonly kind: 'run'; readonly settings: DemoSettings } | { readonly kind: 'help' } | { readonly kind: 'error'; readonly message: string };

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): Parsed {
  let quick = env['DEMO_QUICK'] === '1';
  let keep = false;
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg === '--keep') keep = true;
    else if (arg === '--help' || arg === '-h') return { kind: 'help' };
    else return { kind: 'error', message: `unknown argument ${arg}` };
  }
  return { kind: 'run', settings: { ...(quick ? QUICK : FULL), quick, keep } };
}
