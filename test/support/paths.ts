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

export function slowAppPath(): string {
  return resolve(ROOT, 'demo', 'slow-app.mjs');
}
