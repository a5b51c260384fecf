// Paths of the built listener and the demo app, with a clear failure when the build is missing.

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The first directory at or above `start` that holds package.json. Walking up (rather than a fixed '..', '..')
 * keeps this right both from test/support/ and from the compiled build/test/support/ the demo imports.
 */
function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json at or above ${start}`);
  }
}

export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** dist/cli.js, which supervisord runs; integration tests need `npm run build` first (`npm test` does it). */
export function requireBuiltCli(): string {
  const cli = resolve(ROOT, 'dist', 'cli.js');
  if (!existsSync(cli)) {
    throw new Error(`${cli} not found: run \`npm run build\` (npm test builds before testing)`);
  }
  return cli;
}

/**
 * The command supervisord runs as the listener (before `--config FILE`), as argv: by default `node
 * dist/cli.js`; `$SUPERVISOR_HAPROXY_LISTENER` names one executable instead (`npm run test:installed`
 * sets it to a script running the npm-installed package under Debian's Node 18).
 */
export function listenerCommand(): string[] {
  const given = process.env['SUPERVISOR_HAPROXY_LISTENER'];
  if (given !== undefined && given !== '') {
    if (!existsSync(given)) throw new Error(`$SUPERVISOR_HAPROXY_LISTENER: ${given} not found`);
    return [given];
  }
  return [process.execPath, requireBuiltCli()];
}

/**
 * The node binary the listener runs on: `$SUPERVISOR_HAPROXY_LISTENER_NODE` with `$SUPERVISOR_HAPROXY_LISTENER`,
 * else this node; tests compare it with the running listener's /proc/PID/exe.
 */
export function listenerNode(): string {
  return process.env['SUPERVISOR_HAPROXY_LISTENER_NODE'] || process.execPath;
}

export function slowAppPath(): string {
  return resolve(ROOT, 'test', 'support', 'slow-app.mjs');
}
