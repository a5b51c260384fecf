// The eventlistener's I/O: READY, then each frame read from stdin decoded, acknowledged on stdout, handed on.

import { ProtocolError } from '../errors.js';
import { streamLines } from '../log.js';
import { ACK_AND_READY, decodeEvent, EventParser, READY, type RawEvent, type SupervisorEvent } from './protocol.js';

/** Where supervisord's bytes come from: stdin, or a stream in tests. */
export interface ChunkSource {
  start(handlers: SourceHandlers): void;
  /** Stops reading for good: nothing more is delivered. */
  stop(): void;
}

interface SourceHandlers {
  data(chunk: Buffer): void;
  /** EOF: supervisord closed our stdin. */
  end(): void;
  error(err: unknown): void;
}

/** Where the protocol tokens go: stdout, or a stream in tests. Nothing else is ever written to it. */
export interface TokenSink {
  /** Called once, before any write: where failures of the output go, now or later. */
  open(onError: (err: unknown) => void): void;
  /** Hands `text` on after everything written before it. */
  write(text: string): void;
  /** Resolves once everything written has reached the operating system; rejects if the output failed. */
  drained(): Promise<void>;
}

export interface EventChannelOptions {
  readonly input: ChunkSource;
  readonly output: TokenSink;
  /**
   * Called synchronously for each event, just after it is acknowledged: decide now, do slow work later.
   * An error thrown here goes to onError; the event stays acknowledged.
   */
  readonly onEvent: (event: SupervisorEvent) => void;
  readonly onError: (err: unknown, event: SupervisorEvent) => void;
  /** Told, after it is acknowledged, about a well-framed event that does not decode (a field missing, an unknown state). */
  readonly onUndecodable: (err: unknown, raw: RawEvent) => void;
  /** Aborting it (SIGTERM) stops reading at once: no event is acknowledged or handed on after that. */
  readonly signal?: AbortSignal;
}

/** Why the channel ended; the caller chooses its exit message and code from it. */
export type ChannelEnd =
  /** EOF on stdin: supervisord closed it. */
  | { readonly reason: 'eof' }
  /** The signal was aborted. */
  | { readonly reason: 'stopped' }
  /** A broken frame (a header that is not a header, an absurd len, input ending inside a frame). */
  | { readonly reason: 'malformed'; readonly error: ProtocolError }
  /** Writing stdout failed: EPIPE when supervisord is gone. */
  | { readonly reason: 'stdout-failed'; readonly error: unknown }
  /** Reading stdin failed. */
  | { readonly reason: 'stdin-failed'; readonly error: unknown };

/**
 * Speaks the eventlistener protocol until stdin ends, the signal aborts, a frame is broken or stdio fails, and
 * resolves with why. It stops reading at once and writes nothing more; acknowledgements already written may
 * still be queued: wait for output.drained() before exiting. Rejects only on a bug (onError or onUndecodable
 * throwing).
 *
 * After a broken frame nothing can be trusted: the frames that came in the same chunk are not acknowledged, so
 * the caller should exit non-zero and supervisord restarts it and redelivers them. A well-framed event whose
 * payload does not decode is acknowledged and reported instead: left unacknowledged, supervisord would hand
 * the same event to every restarted listener, forever.
 *
 * Each event is decoded, then acknowledged, then handed to onEvent, all in one synchronous turn: nothing can
 * come between the acknowledgement and the decision, and supervisord's next event is not kept waiting while
 * the listener decides.
 *
 * Never answers FAIL: supervisord redelivers a rejected event at once, in a tight loop, blocking all later
 * events, so an event we cannot act on is acknowledged and reported instead.
 */
export function runEventChannel(opts: EventChannelOptions): Promise<ChannelEnd> {
  const { input, output, signal } = opts;
  return new Promise<ChannelEnd>((resolve, reject) => {
    const parser = new EventParser();
    let settled = false;

    const finish = (outcome: ChannelEnd | { readonly bug: unknown }): void => {
      if (settled) return;
      settled = true;
      input.stop();
      signal?.removeEventListener('abort', onAbort);
      if ('bug' in outcome) reject(outcome.bug);
      else resolve(outcome);
    };
    const onAbort = (): void => finish({ reason: 'stopped' });
    const broken = (err: unknown): void =>
      finish(err instanceof ProtocolError ? { reason: 'malformed', error: err } : { bug: err });

    /** Acknowledges one well-framed event, then hands it on decoded or reports why it does not decode. */
    const handle = (raw: RawEvent): void => {
      let event: SupervisorEvent;
      try {
        event = decodeEvent(raw);
      } catch (err) {
        output.write(ACK_AND_READY);
        if (!settled) opts.onUndecodable(err, raw);
        return;
      }
      output.write(ACK_AND_READY);
      if (settled) return;
      try {
        opts.onEvent(event);
      } catch (err) {
        opts.onError(err, event);
      }
    };

    const data = (chunk: Buffer): void => {
      if (settled) return;
      let frames: RawEvent[];
      try {
        frames = parser.push(chunk);
      } catch (err) {
        broken(err);
        return;
      }
      try {
        for (const raw of frames) {
          if (settled) return;
          handle(raw);
        }
      } catch (err) {
        finish({ bug: err });
      }
    };

    const end = (): void => {
      if (settled) return;
      try {
        parser.end();
      } catch (err) {
        broken(err);
        return;
      }
      finish({ reason: 'eof' });
    };

    if (signal?.aborted === true) {
      resolve({ reason: 'stopped' });
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    output.open((error) => finish({ reason: 'stdout-failed', error }));
    output.write(READY);
    if (settled) return;
    input.start({ data, end, error: (error) => finish({ reason: 'stdin-failed', error }) });
  });
}

/** stdin, whatever supervisord (a pipe) or an operator (a file, a terminal) made it. */
export function stdinSource(): ChunkSource {
  return streamSource(process.stdin);
}

/** stdout, for protocol tokens only; wait for drained() before exiting, or the last acknowledgement may be lost. */
export function stdoutSink(): TokenSink {
  return streamSink(process.stdout);
}

/** Reads a Readable in flowing mode; a destroyed stream that closes without 'end' is EOF all the same. */
export function streamSource(input: NodeJS.ReadableStream): ChunkSource {
  let handlers: SourceHandlers | null = null;
  const onData = (chunk: Buffer): void => handlers?.data(chunk);
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

/** Writes to a Writable, one write per token, counted so that drained() can wait for them. */
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
