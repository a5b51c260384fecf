// Runs the built CLI (dist/cli.js) as an operator would, capturing its output and exit code.

import { listenerCommand } from './paths.js';
import { runCaptured, type Captured } from './process.js';

/** `node dist/cli.js ARGS`, or the installed package when $SUPERVISOR_HAPROXY_LISTENER names it. */
export function runCli(args: readonly string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<Captured> {
  const [command, ...rest] = listenerCommand() as [string, ...string[]];
  return runCaptured(command, [...rest, ...args], {
    timeoutMs: opts.timeoutMs ?? 120_000,
    ...(opts.env === undefined ? {} : { env: opts.env }),
  });
}
