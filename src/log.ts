// Output lines: key=value logging to stderr (stdout is supervisord's protocol channel), flushed before exit.

type LogValue = string | number | boolean | null | undefined;
export type LogFields = Record<string, LogValue>;
export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export interface LineWriter {
  /** Queues `text` after everything written before it; never throws. */
  write(text: string): void;
  /** Resolves once every write so far has reached the operating system, or failed. */
  flushed(): Promise<void>;
}

/**
 * Writes to a pipe are asynchronous in Node on POSIX: libuv writes at once when the pipe has room and queues
 * otherwise, and process.exit() drops what is queued. So each write is counted until its callback, and a
 * process about to exit waits for flushed() first.
 *
 * The stream's failures (the reader gone: EPIPE) go to onError, attached for good: an 'error' without a
 * listener would crash the process.
 */
export function streamLines(stream: NodeJS.WritableStream, onError: (err: unknown) => void = () => {}): LineWriter {
  let pending = 0;
  let waiting: (() => void)[] = [];
  const done = (): void => {
    pending -= 1;
    if (pending > 0) return;
    const wake = waiting;
    waiting = [];
    for (const w of wake) w();
  };
  stream.on('error', onError);
  return {
    write(text) {
      pending += 1;
      stream.write(text, done);
    },
    flushed() {
      return pending === 0 ? Promise.resolve() : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** stderr's lines. A stderr that fails (supervisord gone: EPIPE) loses them: logging must never take the listener down. */
export function stderrLines(): LineWriter {
  return streamLines(process.stderr);
}

const BARE = /^[A-Za-z0-9_.:/@%+,#=-]+$/;

/** Quote a value only when it needs it, so lines stay greppable: key=value key="two words". */
function formatValue(value: LogValue): string {
  if (value === null || value === undefined) return '-';
  const s = String(value);
  return s !== '' && BARE.test(s) ? s : JSON.stringify(s);
}

export function formatLine(time: Date, level: Level, msg: string, fields: LogFields = {}): string {
  let line = `ts=${time.toISOString()} level=${level} msg=${formatValue(msg)}`;
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined) line += ` ${k}=${formatValue(v)}`;
  }
  return `${line}\n`;
}

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(write: (line: string) => void, minLevel: Level, now: () => Date = () => new Date()): Logger {
  const emit = (level: Level) => (msg: string, fields?: LogFields) => {
    if (ORDER[level] < ORDER[minLevel]) return;
    write(formatLine(now(), level, msg, fields));
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
