// The stdin/stdout loop: READY first, one `RESULT 2\nOKREADY\n` per event, nothing else ever on stdout.

import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProtocolError } from '../../../src/errors.js';
import { runEventChannel, type EventChannelOptions } from '../../../src/supervisor/channel.js';
import { decodeEvent, type SupervisorEvent } from '../../../src/supervisor/events.js';
import type { RawEvent } from '../../../src/supervisor/protocol.js';
import { byteByByte, frame } from '../../support/frames.js';

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

function start(onEvent: EventChannelOptions['onEvent'] = () => {}, extra: Partial<EventChannelOptions> = {}) {
  const input = new PassThrough();
  const output = new RecordingOutput();
  const raws: RawEvent[] = [];
  const done = runEventChannel({
    input,
    output,
    onEvent: (raw) => {
      raws.push(raw);
      onEvent(raw);
    },
    ...extra,
  });
  return { input, output, raws, done };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.restoreAllMocks();
});

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
    const seen: string[] = [];
    const { input, output, done } = start((raw) => seen.push(raw.header['serial'] ?? '?'));
    for (const [i, f] of [STARTING, RUNNING, REMOVED, SUPERVISOR_RUNNING].entries()) {
      input.write(f);
      await tick();
      expect(output.writes).toEqual(['READY\n', ...Array<string>(i + 1).fill(ACK)]);
    }
    input.end();
    await done;
    expect(seen).toEqual(['1', '2', '3', '4']);
    expect(output.text()).toBe(`READY\n${ACK.repeat(4)}`);
  });

  it('calls onEvent synchronously, before that event is acknowledged', async () => {
    const acksAtCall: number[] = [];
    const { input, output, done } = start(() => acksAtCall.push(output.writes.length - 1));
    input.end(STARTING + RUNNING + REMOVED);
    await done;
    expect(acksAtCall).toEqual([0, 1, 2]);
  });

  it('handles frames split byte by byte, and many frames in one chunk', async () => {
    const all = STARTING + RUNNING + REMOVED + SUPERVISOR_RUNNING;
    const split = start();
    for (const b of byteByByte(Buffer.from(all))) split.input.write(b);
    split.input.end();
    await split.done;
    const bulk = start();
    bulk.input.end(all);
    await bulk.done;
    expect(split.output.text()).toBe(`READY\n${ACK.repeat(4)}`);
    expect(bulk.output.text()).toBe(split.output.text());
    expect(split.raws).toEqual(bulk.raws);
    expect(bulk.raws.map((r) => r.payload)).toEqual([
      'processname:café groupname:café from_state:STOPPED tries:0',
      'processname:app🚀 groupname:app from_state:STARTING pid:5092',
      'groupname:app\n',
      '',
    ]);
  });

  it('takes string chunks from an input with an encoding set', async () => {
    const { input, raws, done } = start();
    input.setEncoding('utf8');
    input.end(STARTING + RUNNING);
    await done;
    expect(raws.map((r) => r.header['eventname'])).toEqual(['PROCESS_STATE_STARTING', 'PROCESS_STATE_RUNNING']);
  });

  it('resolves on EOF with nothing pending, having written only protocol tokens', async () => {
    const { input, output, done } = start();
    input.end();
    await expect(done).resolves.toBeUndefined();
    expect(output.text()).toBe('READY\n');
  });

  it('resolves when the input is destroyed without an end', async () => {
    const { input, done } = start();
    input.write(STARTING);
    await tick();
    input.destroy();
    await expect(done).resolves.toBeUndefined();
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
    await runEventChannel({ input, output, onEvent: (raw) => events.push(decodeEvent(raw)) });
    expect(sent).toBe(frames.length + 1);
    expect(events.map((e) => e.kind)).toEqual(['process-state', 'process-state', 'group-removed', 'other']);
  });

  describe('on malformed input', () => {
    it('rejects with ProtocolError, writes nothing more and stops reading', async () => {
      const { input, output, raws, done } = start();
      input.write(STARTING);
      input.write('this is a garbage log line on stdout\n');
      await expect(done).rejects.toThrow(ProtocolError);
      await expect(done).rejects.toThrow(/malformed header token "this"/);
      input.write(RUNNING);
      input.end();
      await tick();
      expect(output.text()).toBe(`READY\n${ACK}`);
      expect(raws).toHaveLength(1);
    });

    it('acknowledges none of the frames in the chunk that holds the bad bytes', async () => {
      // They are redelivered once supervisord restarts the listener (at-least-once, reference §4.3).
      const { input, output, raws, done } = start();
      input.write(`${STARTING}${RUNNING}len:x\n`);
      await expect(done).rejects.toThrow(ProtocolError);
      expect(output.text()).toBe('READY\n');
      expect(raws).toEqual([]);
    });

    it('rejects when the input ends inside a frame', async () => {
      const { input, output, done } = start();
      input.end(RUNNING.slice(0, -4));
      await expect(done).rejects.toThrow(/input ended in the payload of PROCESS_STATE_RUNNING/);
      expect(output.text()).toBe('READY\n');
    });

    it('rejects without acknowledging when onEvent throws a ProtocolError', async () => {
      const { input, output, done } = start((raw) => void decodeEvent(raw));
      input.write(STARTING);
      input.write(frame('PROCESS_STATE_NAPPING', 'processname:a groupname:a'));
      input.write(RUNNING);
      await expect(done).rejects.toThrow(/unknown process state "NAPPING"/);
      await tick();
      expect(output.text()).toBe(`READY\n${ACK}`);
    });
  });

  describe('when onEvent fails', () => {
    it('still acknowledges a plain Error, reports it with the event, and carries on', async () => {
      const errors: Array<[unknown, RawEvent]> = [];
      const boom = new Error('boom');
      const { input, output, done } = start(
        (raw) => {
          if (raw.header['serial'] === '1') throw boom;
        },
        { onError: (err, raw) => errors.push([err, raw]) },
      );
      input.end(STARTING + RUNNING);
      await done;
      expect(output.text()).toBe(`READY\n${ACK}${ACK}`);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.[0]).toBe(boom);
      expect(errors[0]?.[1].header['eventname']).toBe('PROCESS_STATE_STARTING');
    });

    it('falls back to a process warning (stderr), never stdout, without onError', async () => {
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
      const { input, output, done } = start(() => {
        throw new TypeError('bug');
      });
      input.end(STARTING);
      await done;
      expect(output.text()).toBe(`READY\n${ACK}`);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/PROCESS_STATE_STARTING \(serial 1\) not handled: TypeError: bug/));
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
    it('rejects with the input error', async () => {
      const { input, done } = start();
      input.destroy(new Error('EIO'));
      await expect(done).rejects.toThrow('EIO');
    });

    it('rejects when the output fails (supervisord gone: EPIPE)', async () => {
      const input = new PassThrough();
      const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
      const output = new RecordingOutput(epipe);
      const done = runEventChannel({ input, output, onEvent: () => {} });
      await expect(done).rejects.toThrow('write EPIPE');
      // Later errors on stdout are still caught rather than crashing the process.
      expect(output.listenerCount('error')).toBeGreaterThan(0);
    });
  });
});
