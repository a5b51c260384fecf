// Reads a config file from disk and hands its text to the pure parser.

import { readFileSync } from 'node:fs';
import { ConfigError, errorText } from '../errors.js';
import { parseConfig } from './parse.js';
import type { Config } from './types.js';

/** The Config in the file at `path`; a missing or unreadable file is a ConfigError carrying the OS error. */
export function loadConfig(path: string, env: Record<string, string | undefined>): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = errorText(err);
    throw new ConfigError(path, null, null, `cannot read the file: ${reason}`);
  }
  return parseConfig(text, path, env);
}
