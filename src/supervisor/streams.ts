// Node streams as the event channel's source and sink: for a stdin that is a file or a terminal, and tests.

import { streamLines } from '../lines.js';
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
export function streamSink(output: NodeJS.WritableStream): TokenSink {
  let failure: { err: unknown } | null = null;
  let onError: (err: unknown) => void = () => {};
  // Attached for good: stdout can still hit EPIPE after the channel has ended (supervisord gone), and an
  // unhandled 'error' would crash the listener while it flushes HAProxy changes.
  const lines = streamLines(output, (err) => {
    failure ??= { err };
    onError(err);
  });
  return {
    open(handler) {
      onError = handler;
    },
    write: lines.write,
    async drained() {
      await lines.flushed();
      if (failure !== null) throw failure.err;
    },
  };
}
