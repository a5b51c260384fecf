// Runs the built CLI (dist/cli.js) as an operator would, capturing its output and exit code.

import { requireBuiltCli } from './paths.js';
import { runCaptured, type Captured } from './process.js';

export function runCli(args: readonly string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<Captured> {
  return runCaptured(process.execPath, [requireBuiltCli(), ...args], {
    timeoutMs: opts.timeoutMs ?? 120_000,
    ...(opts.env === undefined ? {} : { env: opts.env }),
  });
}
