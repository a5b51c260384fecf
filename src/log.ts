// Structured logging: one line per fact, key=value, to stderr (stdout is supervisord's protocol channel).

import { streamLines, type LineWriter } from './lines.js';

export type LogValue = string | number | boolean | null | undefined;
export type LogFields = Record<string, LogValue>;
export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const BARE = /^[A-Za-z0-9_.:/@%+,#=-]+$/;

/** Quote a value only when it needs it, so lines stay greppable: key=value key="two words". */
export function formatValue(value: LogValue): string {
  if (value === null || value === undefined) return '-';
  // Integers through toFixed: String(n) keeps every result in V8's number-to-string cache, so each new
  // serial or pid logged would be kept in the old generation.
  const s = typeof value === 'number' && Number.isSafeInteger(value) ? value.toFixed(0) : String(value);
  if (s !== '' && BARE.test(s)) return s;
  return JSON.stringify(s);
}

export function formatLine(time: Date, level: Level, msg: string, fields: LogFields = {}): string {
  let line = `ts=${time.toISOString()} level=${level} msg=${formatValue(msg)}`;
  // for…in, not Object.entries: no array per field, on a path that runs twice per event.
  for (const k in fields) {
    const v = fields[k];
    if (v === undefined) continue;
    line += ` ${k}=${formatValue(v)}`;
  }
  return line + '\n';
}

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * Lines to stderr, through process.stderr. A stderr that fails (supervisord gone: EPIPE) loses the line:
 * logging must never take the listener down.
 */
export function stderrLines(stream: NodeJS.WritableStream = process.stderr): LineWriter {
  return streamLines(stream);
}

export function createLogger(
  write: (line: string) => void = stderrLines().write,
  minLevel: Level = 'info',
  now: () => Date = () => new Date(),
): Logger {
  const emit = (level: Level) => (msg: string, fields?: LogFields) => {
    if (ORDER[level] < ORDER[minLevel]) return;
    write(formatLine(now(), level, msg, fields));
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** A logger that remembers its lines; for unit tests. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger((l) => lines.push(l), 'debug', () => new Date(0));
  return Object.assign(logger, { lines });
}
