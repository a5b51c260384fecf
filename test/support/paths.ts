// Paths of the built listener and the demo app, with a clear failure when the build is missing.

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

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
