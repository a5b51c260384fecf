// The package's version, read at run time from the package.json one level above dist/ (installed or not).

import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  // dist/version.js → ../package.json: npm installs package.json beside dist/ in every layout.
  const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  const version: unknown = (JSON.parse(text) as { version?: unknown }).version;
  if (typeof version !== 'string') throw new Error('package.json has no version');
  return version;
}
