// The demo's command line: --quick (the shorter preset, for CI) and --keep.

import { rollingSettings, type RollingSettings } from '../test/support/rolling.js';

export interface DemoSettings extends RollingSettings {
  readonly quick: boolean;
  /** Keep the temp dir (configs and logs) instead of removing it. */
  readonly keep: boolean;
}

export const USAGE = `usage: npm run demo [-- --quick] [-- --keep]
  --quick   shorter settings (for CI); also DEMO_QUICK=1
  --keep    keep the temp dir with every config and log
`;

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
  return { kind: 'run', settings: { ...rollingSettings(quick), quick, keep } };
}
