// Structured logging: one line per fact, key=value, to stderr (stdout is supervisord's protocol channel).

export type LogValue = string | number | boolean | null | undefined;
export type LogFields = Record<string, LogValue>;
export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Writes out any line still gathered, now: called before HAProxy is changed, so the log never lags it. */
  flush(): void;
}

const BARE = /^[A-Za-z0-9_.:/@%+,#=-]+$/;

/** Quote a value only when it needs it, so lines stay greppable: key=value key="two words". */
export function formatValue(value: LogValue): string {
  if (value === null || value === undefined) return '-';
  // Integers through toFixed: String(n) keeps every result in V8's number-to-string cache, which lives in
  // the old generation, so each new serial or pid logged was promoted there (40% of what the listener
  // promoted per event, bench/memory.ts).
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

/** Where log lines go; flush() writes out what a gathering writer still holds. */
export interface LineWriter {
  (line: string): void;
  flush(): void;
}

/** While lines keep coming, at most one write to stderr per this many ms. */
export const LOG_GATHER_MS = 2;

/**
 * Lines to stderr, gathered into few writes. A line after a quiet spell is written at the end of the turn
 * of the event loop it was logged in; while lines keep coming (a burst of events logs one or two each),
 * they are written at most every LOG_GATHER_MS: a write per turn was a write syscall per mapped event, the
 * largest log item in a CPU profile of the protocol benchmark (bench/protocol.ts); gathered, the writes
 * took about 1 µs per event. flush() writes at once (the applier calls it before changing HAProxy);
 * whatever is pending is also written on exit, so only a SIGKILL can lose lines, up to LOG_GATHER_MS of them.
 */
export function stderrLines(
  stream: NodeJS.WritableStream = process.stderr,
  now: () => number = () => performance.now(),
  gatherMs = LOG_GATHER_MS,
): LineWriter {
  let pending: string[] = [];
  let scheduled = false;
  let lastWrite = Number.NEGATIVE_INFINITY;
  const flush = (): void => {
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    lastWrite = now();
    stream.write(text);
  };
  const scheduledFlush = (): void => {
    scheduled = false;
    flush();
  };
  process.on('exit', flush);
  const write = (line: string): void => {
    pending.push(line);
    if (scheduled) return;
    scheduled = true;
    const wait = lastWrite + gatherMs - now();
    if (wait <= 0) setImmediate(scheduledFlush);
    else setTimeout(scheduledFlush, wait);
  };
  return Object.assign(write, { flush });
}

export function createLogger(
  write: ((line: string) => void) & { flush?: () => void } = stderrLines(),
  minLevel: Level = 'info',
  now: () => Date = () => new Date(),
): Logger {
  const emit = (level: Level) => (msg: string, fields?: LogFields) => {
    if (ORDER[level] < ORDER[minLevel]) return;
    write(formatLine(now(), level, msg, fields));
  };
  const flush = (): void => write.flush?.();
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error'), flush };
}

/** A logger that remembers its lines; for unit tests. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger((l) => lines.push(l), 'debug', () => new Date(0));
  return Object.assign(logger, { lines });
}
