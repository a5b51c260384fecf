// The eventlistener loop: READY, then for each frame read, decode it, acknowledge it, hand it on.

import { decodeEvent, type SupervisorEvent } from './events.js';
import { ACK_AND_READY, EventParser, READY } from './protocol.js';

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
  /** Resolves once everything written has reached the operating system. */
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
}

/**
 * Speaks the eventlistener protocol until stdin ends. Resolves on EOF (supervisord went away) once every
 * acknowledgement has reached the output; rejects with ProtocolError on a malformed frame, having stopped
 * reading and written nothing more — the caller should exit non-zero so supervisord restarts it and
 * redelivers the unacknowledged event. Rejects with the error if either side fails.
 *
 * Each event is decoded, then acknowledged, then handed to onEvent, all in one synchronous turn: nothing can
 * come between the acknowledgement and the decision, and supervisord's next event is not kept waiting
 * while the listener decides (PRODUCT.md: acknowledge promptly, do the slow work after).
 *
 * Never answers FAIL: supervisord redelivers a rejected event at once, in a tight loop, blocking all later
 * events (reference §4.6), so an event we cannot act on is acknowledged and reported instead.
 */
export function runEventChannel(opts: EventChannelOptions): Promise<void> {
  const { input, output } = opts;
  return new Promise<void>((resolve, reject) => {
    const parser = new EventParser();
    let settled = false;

    const report = (err: unknown, event: SupervisorEvent): void => {
      if (opts.onError !== undefined) {
        opts.onError(err, event);
        return;
      }
      process.emitWarning(`supervisord event ${event.meta.eventname} (serial ${event.meta.serial}) not handled: ${String(err)}`);
    };

    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      // Stop reading: nothing after a protocol violation can be trusted, and we will not answer it.
      input.stop();
      reject(err);
    };

    const data = (chunk: Buffer | string): void => {
      if (settled) return;
      try {
        // A frame that does not decode is a protocol violation like one that does not parse: no
        // acknowledgement, for it or for the frames that came with it, so supervisord redelivers them.
        const events = parser.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk).map(decodeEvent);
        for (const event of events) {
          // RESULT and the next READY in one write: supervisord 4.2.5 accepts `RESULT 2\nOKREADY\n` (§1.1).
          output.write(ACK_AND_READY);
          if (settled) return;
          try {
            opts.onEvent(event);
          } catch (err) {
            report(err, event);
          }
        }
      } catch (err) {
        fail(err);
      }
    };

    const end = (): void => {
      if (settled) return;
      try {
        parser.end();
      } catch (err) {
        fail(err);
        return;
      }
      output.drained().then(() => {
        if (settled) return;
        settled = true;
        resolve();
      }, fail);
    };

    output.open(fail);
    // The listener must say READY before supervisord sends anything (reference §1.1).
    output.write(READY);
    if (settled) return;
    input.start({ data, end, error: fail });
  });
}
