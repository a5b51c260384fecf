// The eventlistener loop: READY, then for each frame read, decode it, acknowledge it, hand it on.

import { ProtocolError } from '../errors.js';
import { decodeEvent, type SupervisorEvent } from './events.js';
import { ACK_AND_READY, EventParser, READY, type RawEvent } from './protocol.js';

/** Where supervisord's bytes come from (the listener's stdin): see stdio.ts and streams.ts. */
export interface ChunkSource {
  /** Starts delivering; `data` may be handed a buffer the source reuses once it returns. */
  start(handlers: SourceHandlers): void;
  /** Stops reading for good: nothing more is delivered. */
  stop(): void;
}

export interface SourceHandlers {
  data(chunk: Buffer | string): void;
  /** EOF: supervisord closed our stdin. */
  end(): void;
  error(err: unknown): void;
}

/** Where the protocol tokens go (the listener's stdout): nothing else is ever written to it. */
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
   * An error thrown here is reported via onError; the event stays acknowledged.
   */
  readonly onEvent: (event: SupervisorEvent) => void;
  /** Told about an event onEvent failed on. Without it the error becomes a process warning on stderr. */
  readonly onError?: (err: unknown, event: SupervisorEvent) => void;
  /**
   * Told about a well-framed event whose payload does not decode (a field missing, an unknown state), after it
   * has been acknowledged. Without it the error becomes a process warning on stderr.
   */
  readonly onUndecodable?: (err: unknown, raw: RawEvent) => void;
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

    const warn = (what: string, err: unknown, meta: { readonly eventname?: string | undefined; readonly serial?: unknown }): void =>
      process.emitWarning(`supervisord event ${meta.eventname ?? '?'} (serial ${String(meta.serial)}) ${what}: ${String(err)}`);

    const finish = (outcome: ChannelEnd | { readonly bug: unknown }): void => {
      if (settled) return;
      settled = true;
      input.stop();
      signal?.removeEventListener('abort', onAbort);
      if ('bug' in outcome) reject(outcome.bug);
      else resolve(outcome);
    };
    const onAbort = (): void => finish({ reason: 'stopped' });

    /** Acknowledges one well-framed event, then hands it on decoded or reports why it does not decode. */
    const handle = (raw: RawEvent): void => {
      let event: SupervisorEvent | null = null;
      let undecodable: unknown = null;
      try {
        event = decodeEvent(raw);
      } catch (err) {
        undecodable = err;
      }
      // RESULT and the next READY in one write: supervisord 4.2.5 accepts `RESULT 2\nOKREADY\n`.
      output.write(ACK_AND_READY);
      if (settled) return;
      if (event === null) {
        if (opts.onUndecodable !== undefined) opts.onUndecodable(undecodable, raw);
        else warn('could not be decoded', undecodable, raw.header);
        return;
      }
      try {
        opts.onEvent(event);
      } catch (err) {
        if (opts.onError !== undefined) opts.onError(err, event);
        else warn('not handled', err, event.meta);
      }
    };

    const data = (chunk: Buffer | string): void => {
      if (settled) return;
      let frames: RawEvent[];
      try {
        frames = parser.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
      } catch (err) {
        finish(err instanceof ProtocolError ? { reason: 'malformed', error: err } : { bug: err });
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
        finish(err instanceof ProtocolError ? { reason: 'malformed', error: err } : { bug: err });
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
    // The listener must say READY before supervisord sends anything.
    output.write(READY);
    if (settled) return;
    input.start({ data, end, error: (error) => finish({ reason: 'stdin-failed', error }) });
  });
}
