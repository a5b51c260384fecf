// Text written to a Node stream (stdout, stderr), and a way to wait until the operating system has all of it.

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
 * The stream's failures (the reader gone: EPIPE) go to onError, once attached for good: an 'error' without a
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
