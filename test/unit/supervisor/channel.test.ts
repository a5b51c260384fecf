// The eventlistener loop: READY first, one `RESULT 2\nOKREADY\n` per event, nothing else ever on stdout;
// a broken frame ends it, an event that does not decode is acknowledged and reported.

import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src/errors.js';
import {
  runEventChannel,
  streamSink,
  streamSource,
  type ChannelEnd,
  type EventChannelOptions,
} from '../../../src/supervisor/channel.js';
import type { RawEvent, SupervisorEvent } from '../../../src/supervisor/protocol.js';
import { byteByByte, frame, prng } from '../../support/frames.js';

const ACK = 'RESULT 2\nOKREADY\n';

const STARTING = frame('PROCESS_STATE_STARTING', 'processname:café groupname:café from_state:STOPPED tries:0', { serial: 1, poolserial: 1 });
const RUNNING = frame('PROCESS_STATE_RUNNING', 'processname:app🚀 groupname:app from_state:STARTING pid:5092', { serial: 2, poolserial: 2 });
const REMOVED = frame('PROCESS_GROUP_REMOVED', 'groupname:app\n', { serial: 3, poolserial: 3 });
const SUPERVISOR_RUNNING = frame('SUPERVISOR_STATE_CHANGE_RUNNING', '', { serial: 4, poolserial: 4 });

/** A stdout stand-in that records each write() call as it happens, synchronously. */
class RecordingOutput extends Writable {
  readonly writes: string[] = [];
  constructor(private readonly failWith: Error | null = null) {
    super();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.writes.push(chunk.toString('utf8'));
    done(this.failWith);
  }
  text(): string {
    return this.writes.join('');
  }
}

/** Runs the channel over a PassThrough and a RecordingOutput; errors and undecodable events are recorded unless `extra` says otherwise. */
function start(onEvent: EventChannelOptions['onEvent'] = () => {}, extra: Partial<EventChannelOptions> = {}) {
  const input = new PassThrough();
  const output = new RecordingOutput();
  const events: SupervisorEvent[] = [];
  const errors: Array<[unknown, SupervisorEvent]> = [];
  const undecodable: Array<[unknown, RawEvent]> = [];
  const done = runEventChannel({
    input: streamSource(input),
    output: streamSink(output),
    onEvent: (event) => {
      events.push(event);
      onEvent(event);
    },
    onError: (err, event) => errors.push([err, event]),
    onUndecodable: (err, raw) => undecodable.push([err, raw]),
    ...extra,
  });
  return { input, output, events, errors, undecodable, done };
}

/** The channel over streams the test drives itself; whatever goes to onError or onUndecodable fails the test. */
function run(input: PassThrough, output: Writable, onEvent: EventChannelOptions['onEvent'] = () => {}): Promise<ChannelEnd> {
  const unexpected = (err: unknown): never => {
    throw err;
  };
  return runEventChannel({ input: streamSource(input), output: streamSink(output), onEvent, onError: unexpected, onUndecodable: unexpected });
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const malformed = (end: ChannelEnd): Error => {
  if (end.reason !== 'malformed') throw new Error(`expected a malformed end, got ${end.reason}`);
  return end.error;
};
const serials = (events: readonly SupervisorEvent[]): number[] => events.map((e) => e.meta.serial);

describe('runEventChannel', () => {
  it('writes READY before reading anything', async () => {
    const { input, output, done } = start();
    expect(output.writes).toEqual(['READY\n']);
    await tick();
    expect(output.writes).toEqual(['READY\n']);
    input.end();
    await done;
  });

  it('acknowledges each event with exactly one write of RESULT 2\\nOKREADY\\n, in order', async () => {
    const { input, output, events, done } = start();
    for (const [i, f] of [STARTING, RUNNING, REMOVED, SUPERVISOR_RUNNING].entries()) {
      input.write(f);
      await tick();
      expect(output.writes).toEqual(['READY\n', ...Array<string>(i + 1).fill(ACK)]);
    }
    input.end();
    await done;
    expect(serials(events)).toEqual([1, 2, 3, 4]);
    expect(output.text()).toBe(`READY\n${ACK.repeat(4)}`);
  });

  it('hands each event on decoded, synchronously, just after acknowledging it', async () => {
    const acksAtCall: number[] = [];
    const { input, output, events, done } = start(() => acksAtCall.push(output.writes.length - 1));
    input.end(STARTING + RUNNING + REMOVED);
    await done;
    expect(acksAtCall).toEqual([1, 2, 3]);
    expect(events.map((e) => e.kind)).toEqual(['process-state', 'process-state', 'group-removed']);
    expect(events[1]).toMatchObject({ group: 'app', process: 'app🚀', state: 'RUNNING', fromState: 'STARTING', pid: 5092 });
  });

  it('gives the same events for frames split byte by byte, in random chunks, and many in one chunk', async () => {
    const all = Buffer.from(STARTING + RUNNING + REMOVED + SUPERVISOR_RUNNING);
    const bulk = start();
    bulk.input.end(all);
    await bulk.done;
    expect(bulk.events.map((e) => e.meta.eventname)).toEqual([
      'PROCESS_STATE_STARTING',
      'PROCESS_STATE_RUNNING',
      'PROCESS_GROUP_REMOVED',
      'SUPERVISOR_STATE_CHANGE_RUNNING',
    ]);
    const split = start();
    for (const b of byteByByte(all)) split.input.write(b);
    split.input.end();
    await split.done;
    expect(split.events).toEqual(bulk.events);
    expect(split.output.text()).toBe(`READY\n${ACK.repeat(4)}`);
    const random = prng(7);
    for (let run = 0; run < 20; run++) {
      const r = start();
      for (let at = 0; at < all.length; ) {
        const n = 1 + Math.floor(random() * 40);
        r.input.write(all.subarray(at, at + n));
        at += n;
      }
      r.input.end();
      await r.done;
      expect(r.events).toEqual(bulk.events);
    }
  });

  it('resolves on EOF with nothing pending, having written only protocol tokens', async () => {
    const { input, output, done } = start();
    input.end();
    await expect(done).resolves.toEqual({ reason: 'eof' });
    expect(output.text()).toBe('READY\n');
  });

  it('resolves when the input is destroyed without an end', async () => {
    const { input, done } = start();
    input.write(STARTING);
    await tick();
    input.destroy();
    await expect(done).resolves.toEqual({ reason: 'eof' });
  });

  it('plays the protocol with a supervisord that waits for each answer', async () => {
    // supervisord sends the next event only after RESULT and READY (reference §1.1).
    const frames = [STARTING, RUNNING, REMOVED, SUPERVISOR_RUNNING];
    const input = new PassThrough();
    const events: SupervisorEvent[] = [];
    let sent = 0;
    const output = new Writable({
      write(chunk: Buffer, _enc, cb) {
        expect(chunk.toString()).toBe(sent === 0 ? 'READY\n' : ACK);
        const next = frames[sent];
        sent += 1;
        if (next === undefined) input.end();
        else setImmediate(() => input.write(next));
        cb();
      },
    });
    await run(input, output, (e) => events.push(e));
    expect(sent).toBe(frames.length + 1);
    expect(events.map((e) => e.kind)).toEqual(['process-state', 'process-state', 'group-removed', 'other']);
  });

  describe('on malformed input', () => {
    it('ends with the ProtocolError, writes nothing more and stops reading', async () => {
      const { input, output, events, done } = start();
      input.write(STARTING);
      input.write('this is a garbage log line on stdout\n');
      const end = await done;
      expect(end.reason).toBe('malformed');
      expect(malformed(end)).toBeInstanceOf(ProtocolError);
      expect(malformed(end).message).toMatch(/malformed header token "this"/);
      input.write(RUNNING);
      input.end();
      await tick();
      expect(output.text()).toBe(`READY\n${ACK}`);
      expect(events).toHaveLength(1);
      expect(input.isPaused()).toBe(true);
    });

    it('acknowledges none of the frames in the chunk that holds the bad bytes', async () => {
      // They are redelivered once supervisord restarts the listener (at-least-once, reference §4.3).
      const { input, output, events, done } = start();
      input.write(`${STARTING}${RUNNING}len:x\n`);
      expect((await done).reason).toBe('malformed');
      expect(output.text()).toBe('READY\n');
      expect(events).toEqual([]);
    });

    it('rejects when the input ends inside a frame', async () => {
      const { input, output, done } = start();
      input.end(RUNNING.slice(0, -4));
      expect(malformed(await done).message).toMatch(/input ended in the payload of PROCESS_STATE_RUNNING/);
      expect(output.text()).toBe('READY\n');
    });

    it('ends on an absurd len, without acknowledging the frame', async () => {
      const { input, output, done } = start();
      input.write('ver:3.0 server:supervisor serial:1 pool:listener poolserial:1 eventname:PROCESS_STATE_RUNNING len:99999999999\n');
      expect(malformed(await done).message).toMatch(/len 99999999999 exceeds/);
      expect(output.text()).toBe('READY\n');
    });
  });

  describe('when a well-framed event does not decode', () => {
    const NO_NAME = frame('PROCESS_STATE_RUNNING', 'groupname:a from_state:STARTING pid:7', { serial: 5, poolserial: 5 });
    const NAPPING = frame('PROCESS_STATE_NAPPING', 'processname:a groupname:a', { serial: 6, poolserial: 6 });
    const REMOVED_NO_NAME = frame('PROCESS_GROUP_REMOVED', '\n', { serial: 7, poolserial: 7 });

    it('acknowledges it, reports it with its header, and goes on with the next events', async () => {
      const { input, output, events, undecodable, done } = start();
      input.write(STARTING);
      await tick();
      input.write(NO_NAME + NAPPING);
      await tick();
      input.write(REMOVED_NO_NAME + REMOVED);
      input.end();
      expect(await done).toEqual({ reason: 'eof' });
      expect(output.text()).toBe(`READY\n${ACK.repeat(5)}`);
      expect(serials(events)).toEqual([1, 3]);
      expect(undecodable.map(([err, raw]) => [raw.header['eventname'], raw.header['serial'], String(err)])).toEqual([
        ['PROCESS_STATE_RUNNING', '5', expect.stringMatching(/PROCESS_STATE_RUNNING payload lacks processname/)],
        ['PROCESS_STATE_NAPPING', '6', expect.stringMatching(/unknown process state "NAPPING"/)],
        ['PROCESS_GROUP_REMOVED', '7', expect.stringMatching(/PROCESS_GROUP_REMOVED payload lacks groupname/)],
      ]);
    });

    it('reports it after acknowledging it', async () => {
      let acksWhenReported = -1;
      const { input, output, done } = start(() => {}, { onUndecodable: () => (acksWhenReported = output.writes.length - 1) });
      input.end(NO_NAME);
      await done;
      expect(acksWhenReported).toBe(1);
    });

    it('acknowledges it byte by byte and at every split as it does whole', async () => {
      const all = Buffer.from(STARTING + NAPPING + RUNNING);
      for (const cut of [byteByByte(all), [all.subarray(0, STARTING.length + 3), all.subarray(STARTING.length + 3)]]) {
        const r = start();
        for (const b of cut) r.input.write(b);
        r.input.end();
        expect(await r.done).toEqual({ reason: 'eof' });
        expect(r.output.text()).toBe(`READY\n${ACK.repeat(3)}`);
        expect(r.events.map((e) => e.meta.eventname)).toEqual(['PROCESS_STATE_STARTING', 'PROCESS_STATE_RUNNING']);
        expect(r.undecodable.map(([, raw]) => raw.header['eventname'])).toEqual(['PROCESS_STATE_NAPPING']);
      }
    });

    it('rejects, after acknowledging, if onUndecodable itself throws', async () => {
      const { input, output, done } = start(() => {}, {
        onUndecodable: () => {
          throw new Error('reporter broke');
        },
      });
      input.write(NAPPING);
      await expect(done).rejects.toThrow('reporter broke');
      expect(output.text()).toBe(`READY\n${ACK}`);
    });
  });

  describe('when onEvent fails', () => {
    it('keeps the acknowledgement, reports the error with the event, and carries on', async () => {
      const boom = new Error('boom');
      const { input, output, errors, done } = start((event) => {
        if (event.meta.serial === 1) throw boom;
      });
      input.end(STARTING + RUNNING);
      await done;
      expect(output.text()).toBe(`READY\n${ACK}${ACK}`);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.[0]).toBe(boom);
      expect(errors[0]?.[1].meta.eventname).toBe('PROCESS_STATE_STARTING');
    });

    it('rejects, after acknowledging, if onError itself throws', async () => {
      const { input, output, done } = start(
        () => {
          throw new Error('boom');
        },
        {
          onError: () => {
            throw new Error('reporter broke');
          },
        },
      );
      input.write(STARTING);
      await expect(done).rejects.toThrow('reporter broke');
      expect(output.text()).toBe(`READY\n${ACK}`);
    });
  });

  describe('stream failures', () => {
    it('ends with the input error as stdin-failed', async () => {
      const { input, done } = start();
      const eio = new Error('EIO');
      input.destroy(eio);
      expect(await done).toEqual({ reason: 'stdin-failed', error: eio });
    });

    it('ends as stdout-failed when the output fails (supervisord gone: EPIPE)', async () => {
      const input = new PassThrough();
      const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
      const output = new RecordingOutput(epipe);
      const done = run(input, output);
      expect(await done).toEqual({ reason: 'stdout-failed', error: epipe });
      expect(input.isPaused()).toBe(true);
      // Later errors on stdout are still caught rather than crashing the process.
      expect(output.listenerCount('error')).toBeGreaterThan(0);
    });

    it("the output's drained() waits, after EOF, until every acknowledgement has been taken", async () => {
      const input = new PassThrough();
      const callbacks: Array<() => void> = [];
      const output = new Writable({
        write(_chunk, _enc, cb) {
          callbacks.push(() => cb());
        },
      });
      const sink = streamSink(output);
      const done = runEventChannel({ input: streamSource(input), output: sink, onEvent: () => {}, onError: () => {}, onUndecodable: () => {} });
      input.end(STARTING);
      expect(await done).toEqual({ reason: 'eof' });
      let drained = false;
      const flushed = sink.drained().then(() => {
        drained = true;
      });
      await tick();
      expect(drained).toBe(false);
      while (callbacks.length > 0) {
        callbacks.shift()?.();
        await tick();
      }
      await flushed;
      expect(drained).toBe(true);
    });
  });

  describe('when its signal aborts (SIGTERM)', () => {
    it('stops reading at once: nothing after the abort is acknowledged or handed on', async () => {
      const stop = new AbortController();
      const { input, output, events, done } = start(() => {}, { signal: stop.signal });
      input.write(STARTING);
      await tick();
      stop.abort();
      input.write(RUNNING + REMOVED);
      await tick();
      expect(await done).toEqual({ reason: 'stopped' });
      expect(output.text()).toBe(`READY\n${ACK}`);
      expect(serials(events)).toEqual([1]);
      expect(input.isPaused()).toBe(true);
    });

    it('stops in the middle of a chunk when onEvent aborts', async () => {
      const stop = new AbortController();
      const { input, output, events, done } = start(() => stop.abort(), { signal: stop.signal });
      input.write(STARTING + RUNNING + REMOVED);
      expect(await done).toEqual({ reason: 'stopped' });
      expect(output.text()).toBe(`READY\n${ACK}`);
      expect(serials(events)).toEqual([1]);
    });

    it('says nothing at all when aborted before it starts', async () => {
      const stop = new AbortController();
      stop.abort();
      const { output, done } = start(() => {}, { signal: stop.signal });
      expect(await done).toEqual({ reason: 'stopped' });
      expect(output.text()).toBe('');
    });
  });
});
