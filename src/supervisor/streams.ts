// Node streams as the event channel's source and sink: for a stdin that is a file or a terminal, and tests.

import type { FallbackSink } from '../fd-write.js';
import type { ChunkSource, SourceHandlers, TokenSink } from './channel.js';

/** Reads a Readable in flowing mode; a destroyed stream that closes without 'end' is EOF all the same. */
export function streamSource(input: NodeJS.ReadableStream): ChunkSource {
  let handlers: SourceHandlers | null = null;
  const onData = (chunk: Buffer | string): void => handlers?.data(chunk);
  const onEnd = (): void => {
    const h = handlers;
    detach();
    h?.end();
  };
  const onError = (err: unknown): void => {
    const h = handlers;
    detach();
    h?.error(err);
  };
  const detach = (): void => {
    handlers = null;
    input.removeListener('data', onData);
    input.removeListener('end', onEnd);
    input.removeListener('close', onEnd);
    input.removeListener('error', onError);
  };
  return {
    start(h) {
      handlers = h;
      input.on('error', onError);
      input.on('end', onEnd);
      input.on('close', onEnd);
      input.on('data', onData);
    },
    stop() {
      detach();
      input.pause();
    },
  };
}

/**
 * Writes to a Writable, one write per token: the stream keeps them in order, and every token is a few bytes,
 * so waiting for 'drain' would buy nothing but a second queue.
 */
export function streamSink(output: NodeJS.WritableStream): TokenSink & FallbackSink {
  let pending = 0;
  let failure: { err: unknown } | null = null;
  let fail: (err: unknown) => void = () => {};
  /** Callers of drained() waiting for pending to reach 0. */
  let waiting: (() => void)[] = [];
  return {
    open(onError) {
      fail = (err) => {
        failure ??= { err };
        onError(err);
      };
      // Stays attached for good: stdout can still hit EPIPE after the channel settles (supervisord gone),
      // and an unhandled 'error' would crash the listener while it flushes HAProxy changes.
      output.on('error', fail);
    },
    write(chunk: string | Uint8Array) {
      pending += 1;
      output.write(chunk, (err?: Error | null) => {
        pending -= 1;
        if (err) fail(err);
        if (pending > 0) return;
        const wake = waiting;
        waiting = [];
        for (const w of wake) w();
      });
    },
    async drained() {
      if (pending > 0) await new Promise<void>((resolve) => waiting.push(resolve));
      if (failure !== null) throw failure.err;
    },
  };
}
