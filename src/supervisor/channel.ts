// The only module that touches stdin/stdout: reads supervisord's events, writes READY and the results.

import { ProtocolError } from '../errors.js';
import { ACK_AND_READY, EventParser, READY, type RawEvent } from './protocol.js';

export interface EventChannelOptions {
  /** supervisord → listener (the listener's stdin). */
  readonly input: NodeJS.ReadableStream;
  /** listener → supervisord (the listener's stdout): nothing but protocol tokens is ever written here. */
  readonly output: NodeJS.WritableStream;
  /**
   * Called synchronously for each event, before it is acknowledged: decide now, do slow work afterwards.
   * Throwing a ProtocolError stops the channel without acknowledging; any other error is reported via
   * onError and the event is acknowledged anyway.
   */
  readonly onEvent: (raw: RawEvent) => void;
  /**
   * Told about an event onEvent failed on (after it was acknowledged). Without it the error becomes a
   * process warning on stderr.
   */
  readonly onError?: (err: unknown, raw: RawEvent) => void;
}

/**
 * Speaks the eventlistener protocol until stdin ends. Resolves on EOF (supervisord went away) once every
 * acknowledgement has been handed to the output; rejects with ProtocolError on a malformed frame, having
 * stopped reading and written nothing more — the caller should exit non-zero so supervisord restarts it and
 * redelivers the unacknowledged event. Rejects with the stream's error if either stream fails.
 *
 * Never answers FAIL: supervisord redelivers a rejected event at once, in a tight loop, blocking all later
 * events (reference §4.6), so an event we cannot act on is acknowledged and reported instead.
 */
export function runEventChannel(opts: EventChannelOptions): Promise<void> {
  const { input, output } = opts;
  return new Promise<void>((resolve, reject) => {
    const parser = new EventParser();
    let settled = false;
    let ended = false;
    let unflushed = 0;

    // One writer, one write per token: the stream keeps them in order, and every event is a few hundred
    // bytes at most, so waiting for 'drain' would buy nothing but a second queue.
    const write = (text: string): void => {
      unflushed += 1;
      output.write(text, (err?: Error | null) => {
        unflushed -= 1;
        if (err) fail(err);
        else if (ended && unflushed === 0) succeed();
      });
    };

    const report = (err: unknown, raw: RawEvent): void => {
      if (opts.onError !== undefined) {
        opts.onError(err, raw);
        return;
      }
      const name = raw.header['eventname'] ?? '?';
      process.emitWarning(`supervisord event ${name} (serial ${raw.header['serial'] ?? '?'}) not handled: ${String(err)}`);
    };

    const onData = (chunk: Buffer | string): void => {
      if (settled) return;
      let events: RawEvent[];
      try {
        events = parser.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
      } catch (err) {
        fail(err);
        return;
      }
      for (const raw of events) {
        let failure: { err: unknown } | null = null;
        try {
          opts.onEvent(raw);
        } catch (err) {
          if (err instanceof ProtocolError) {
            fail(err);
            return;
          }
          failure = { err };
        }
        // RESULT and the next READY in one write: supervisord 4.2.5 accepts `RESULT 2\nOKREADY\n` (§1.1).
        write(ACK_AND_READY);
        if (failure !== null) {
          try {
            report(failure.err, raw);
          } catch (err) {
            fail(err);
            return;
          }
        }
      }
    };

    const onEnd = (): void => {
      if (settled || ended) return;
      ended = true;
      try {
        parser.end();
      } catch (err) {
        fail(err);
        return;
      }
      if (unflushed === 0) succeed();
    };

    const onError = (err: unknown): void => fail(err);

    const detach = (): void => {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.removeListener('close', onEnd);
      input.removeListener('error', onError);
      // The output 'error' listener stays: stdout can still hit EPIPE after we settle (supervisord gone),
      // and an unhandled 'error' would crash the listener while it flushes HAProxy changes.
    };

    function fail(err: unknown): void {
      if (settled) return;
      settled = true;
      detach();
      // Stop reading: nothing after a protocol violation can be trusted, and we will not answer it.
      input.pause();
      reject(err);
    }

    function succeed(): void {
      if (settled) return;
      settled = true;
      detach();
      resolve();
    }

    output.on('error', onError);
    input.on('error', onError);
    input.on('end', onEnd);
    // A destroyed stdin closes without 'end'; for us that is EOF all the same.
    input.on('close', onEnd);
    // The listener must say READY before supervisord sends anything (reference §1.1).
    write(READY);
    input.on('data', onData);
  });
}
