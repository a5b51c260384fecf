// Counts the listener's log lines by level, and keeps the first few warnings or errors as evidence.

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

export interface LogCounts {
  readonly lines: number;
  readonly warn: number;
  readonly error: number;
  /** The first warn/error lines, for the report. */
  readonly samples: readonly string[];
}

export async function scanLog(path: string, keep = 3): Promise<LogCounts> {
  let lines = 0;
  let warn = 0;
  let error = 0;
  const samples: string[] = [];
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of rl) {
    lines++;
    const bad = line.includes(' level=warn ') ? 'warn' : line.includes(' level=error ') ? 'error' : null;
    if (bad === 'warn') warn++;
    if (bad === 'error') error++;
    if (bad !== null && samples.length < keep) samples.push(line.length > 240 ? `${line.slice(0, 240)}…` : line);
  }
  return { lines, warn, error, samples };
}
