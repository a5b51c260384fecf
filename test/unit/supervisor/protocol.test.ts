// The eventlistener codec against what supervisord 4.2.5 was seen to send (reference §1, §5): frames cut every
// way, then decoded.

import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src/errors.js';
import {
  ACK_AND_READY,
  decodeEvent,
  EventParser,
  MAX_HEADER_BYTES,
  MAX_PAYLOAD_CHARS,
  READY,
  type EventMeta,
  type ProcessStateEvent,
  type RawEvent,
} from '../../../src/supervisor/protocol.js';
import { PROCESS_STATES, namespec } from '../../../src/supervisor/types.js';
import {
  byteByByte,
  chunkings,
  codePoints,
  frame,
  headerLine,
  headerOf,
  randomChunks,
  SEEDS,
  type HeaderFields,
} from '../../support/frames.js';

interface Case {
  readonly eventname: string;
  readonly payload: string;
  readonly fields?: HeaderFields;
}

const state = (s: string, payload: string, serial = 0): Case => ({
  eventname: `PROCESS_STATE_${s}`,
  payload,
  fields: { serial, poolserial: serial },
});

// Payloads verbatim from reference §1.3 (UNKNOWN was never observed; its shape follows the others).
const STATES: readonly Case[] = [
  state('STARTING', 'processname:sleeper groupname:sleeper from_state:STOPPED tries:0', 1),
  state('RUNNING', 'processname:sleeper groupname:sleeper from_state:STARTING pid:5092', 2),
  state('BACKOFF', 'processname:failer groupname:failer from_state:STARTING tries:1', 3),
  state('STOPPING', 'processname:sleeper groupname:sleeper from_state:RUNNING pid:5092', 4),
  state('STOPPED', 'processname:failer groupname:failer from_state:BACKOFF pid:0', 5),
  state('EXITED', 'processname:crasher groupname:crasher from_state:RUNNING expected:0 pid:9714', 6),
  state('FATAL', 'processname:failer groupname:failer from_state:BACKOFF', 7),
  state('UNKNOWN', 'processname:odd groupname:odd from_state:RUNNING pid:77', 8),
];

const CAFE = state('STARTING', 'processname:café groupname:café from_state:STOPPED tries:0', 20);
const ROCKET = state('RUNNING', 'processname:app🚀 groupname:app🚀 from_state:STARTING pid:4242', 21);
const GROUP_ADDED: Case = { eventname: 'PROCESS_GROUP_ADDED', payload: 'groupname:ticker\n' };
const GROUP_REMOVED: Case = { eventname: 'PROCESS_GROUP_REMOVED', payload: 'groupname:app\n' };
const TICK: Case = { eventname: 'TICK_5', payload: 'when:1795470435', fields: { serial: 246, poolserial: 4 } };
const SUPERVISOR_RUNNING: Case = { eventname: 'SUPERVISOR_STATE_CHANGE_RUNNING', payload: '' };
const LOG_STDERR: Case = {
  eventname: 'PROCESS_LOG_STDERR',
  payload: 'processname:listener groupname:listener pid:18761 channel:stderr\nstderr: handled PROCESS_STATE_STARTING serial=237\n',
};

const SINGLE: ReadonlyArray<readonly [string, readonly Case[]]> = [
  ...STATES.map((c): [string, Case[]] => [c.eventname, [c]]),
  ['non-ASCII program name (café)', [CAFE]],
  ['4-byte character in the name (app🚀)', [ROCKET]],
  ['PROCESS_GROUP_ADDED with its trailing newline', [GROUP_ADDED]],
  ['PROCESS_GROUP_REMOVED with its trailing newline', [GROUP_REMOVED]],
  ['TICK_5', [TICK]],
  ['SUPERVISOR_STATE_CHANGE_RUNNING with len:0', [SUPERVISOR_RUNNING]],
  ['PROCESS_LOG_STDERR with newlines inside the payload', [LOG_STDERR]],
];

const STREAMS: ReadonlyArray<readonly [string, readonly Case[]]> = [
  ['every state, back to back', STATES],
  // A reader counting bytes (or UTF-16 units) would read into the next header here (reference §1.2).
  ['a frame right after a non-ASCII one', [CAFE, STATES[1] as Case]],
  ['a frame right after a 4-byte character', [ROCKET, STATES[0] as Case]],
  ['empty payloads between others', [SUPERVISOR_RUNNING, GROUP_REMOVED, SUPERVISOR_RUNNING, TICK, SUPERVISOR_RUNNING]],
  ['everything at once', [SUPERVISOR_RUNNING, ...STATES, CAFE, GROUP_ADDED, ROCKET, TICK, LOG_STDERR, GROUP_REMOVED]],
];

const bytesOf = (cases: readonly Case[]): Buffer =>
  Buffer.from(cases.map((c) => frame(c.eventname, c.payload, c.fields)).join(''), 'utf8');

const expected = (cases: readonly Case[]): RawEvent[] =>
  cases.map((c) => ({ header: headerOf(c.eventname, c.payload, c.fields), payload: c.payload }));

/** Feeds every chunk, then ends the input, and returns all frames in order. */
function parse(chunks: readonly Buffer[]): RawEvent[] {
  const parser = new EventParser();
  const events: RawEvent[] = [];
  for (const chunk of chunks) events.push(...parser.push(chunk));
  parser.end();
  return events;
}

describe('protocol tokens', () => {
  it('are exactly what supervisord 4.2.5 accepts', () => {
    expect(READY).toBe('READY\n');
    // RESULT 3\nOK\n counts as a rejection and is redelivered in a tight loop (reference §1.1).
    expect(ACK_AND_READY).toBe('RESULT 2\nOKREADY\n');
  });
});

describe('frame builder', () => {
  it('counts len in code points, matching what supervisord was seen to send', () => {
    // Observed: PROCESS_GROUP_ADDED groupname:ticker\n arrived with len:17, the newline counted.
    expect(headerLine('PROCESS_GROUP_ADDED', 'groupname:ticker\n')).toMatch(/ len:17\n$/);
    expect(frame('PROCESS_STATE_STARTING', 'processname:listener groupname:listener from_state:STOPPED tries:0')).toBe(
      'ver:3.0 server:supervisor serial:0 pool:listener poolserial:0 eventname:PROCESS_STATE_STARTING len:66\n' +
        'processname:listener groupname:listener from_state:STOPPED tries:0',
    );
    // é is 1 code point / 2 bytes; 🚀 is 1 code point / 2 UTF-16 units / 4 bytes.
    expect(codePoints(CAFE.payload)).toBe(Buffer.byteLength(CAFE.payload) - 2);
    expect(codePoints(ROCKET.payload)).toBe(ROCKET.payload.length - 2);
    expect(codePoints(ROCKET.payload)).toBe(Buffer.byteLength(ROCKET.payload) - 6);
  });
});

describe('EventParser', () => {
  for (const [name, cases] of [...SINGLE, ...STREAMS]) {
    describe(name, () => {
      const bytes = bytesOf(cases);
      const want = expected(cases);
      for (const way of chunkings(bytes)) {
        it(way.name, () => {
          for (const cut of way.cuts) expect(parse(cut.chunks), cut.label).toEqual(want);
        });
      }
    });
  }

  it('returns every frame completed by one chunk, and none before they are complete', () => {
    const parser = new EventParser();
    const two = bytesOf([CAFE, TICK]);
    const cut = Buffer.byteLength(frame(CAFE.eventname, CAFE.payload, CAFE.fields)) - 1;
    expect(parser.push(two.subarray(0, cut))).toEqual([]);
    expect(parser.push(two.subarray(cut))).toEqual(expected([CAFE, TICK]));
    expect(() => parser.end()).not.toThrow();
  });

  it('counts code points: a len counted in bytes would swallow the start of the next header', () => {
    // What a byte-counting supervisord bug (or reader) looks like from our side: reference §1.2 saw
    // the next header read as ':0ver:3.0 server:svd …'. The parser must report it, not invent events.
    const next = frame(TICK.eventname, TICK.payload, TICK.fields);
    const byteLen = `ver:3.0 server:supervisor serial:0 pool:l poolserial:0 eventname:X len:${Buffer.byteLength(CAFE.payload)}\n`;
    expect(() => new EventParser().push(Buffer.from(byteLen + CAFE.payload + next))).toThrow(/lacks ver/);
    expect(parse([bytesOf([CAFE, TICK])])).toEqual(expected([CAFE, TICK]));
  });

  it('keeps a leading byte-order mark in the payload (it counts in len)', () => {
    const c: Case = { eventname: 'PROCESS_LOG_STDOUT', payload: '\uFEFFhello' };
    expect(parse([bytesOf([c])])).toEqual(expected([c]));
  });

  it('accepts a header without server and keeps unknown keys', () => {
    const bytes = Buffer.from('ver:3.0 serial:1 pool:p poolserial:1 eventname:TICK_5 extra:x len:4\nwhen');
    expect(parse(byteByByte(bytes))).toEqual([
      { header: { ver: '3.0', serial: '1', pool: 'p', poolserial: '1', eventname: 'TICK_5', extra: 'x', len: '4' }, payload: 'when' },
    ]);
  });

  it('accepts len up to the limit', () => {
    const payload = 'x'.repeat(MAX_PAYLOAD_CHARS);
    const [event] = parse(randomChunks(bytesOf([{ eventname: 'PROCESS_LOG_STDOUT', payload }]), 7, 65536));
    expect(event?.payload.length).toBe(MAX_PAYLOAD_CHARS);
  });

  it('parses a long stream, whole and in small random chunks', () => {
    const cases = Array.from({ length: 10_000 }, (_, i) =>
      state(i % 2 === 0 ? 'STARTING' : 'RUNNING', `processname:app_${i % 100} groupname:café from_state:STOPPED pid:${i}`, i),
    );
    const want = expected(cases);
    const bytes = bytesOf(cases);
    expect(parse([bytes])).toEqual(want);
    expect(parse(randomChunks(bytes, 99, 64))).toEqual(want);
  });
});

describe('EventParser on malformed input', () => {
  const good = frame(TICK.eventname, TICK.payload, TICK.fields);
  const bad: ReadonlyArray<readonly [string, Buffer, RegExp]> = [
    ['a garbage line', Buffer.from('this is a garbage log line on stdout\n'), /malformed header token "this"/],
    ['an empty header line', Buffer.from('\n'), /empty header line/],
    ['a header without len', Buffer.from('ver:3.0 server:supervisor serial:0 pool:l poolserial:0 eventname:TICK_5\nwhen:1'), /lacks len/],
    ['a header without eventname', Buffer.from('ver:3.0 serial:0 pool:l poolserial:0 len:0\n'), /lacks eventname/],
    ['a negative len', Buffer.from('ver:3.0 serial:0 pool:l poolserial:0 eventname:TICK_5 len:-1\n'), /len is not a non-negative integer/],
    ['a non-numeric len', Buffer.from('ver:3.0 serial:0 pool:l poolserial:0 eventname:TICK_5 len:abc\n'), /len is not a non-negative integer.*len:abc/],
    ['a fractional len', Buffer.from('ver:3.0 serial:0 pool:l poolserial:0 eventname:TICK_5 len:1.5\n'), /len is not a non-negative integer/],
    ['an empty len', Buffer.from('ver:3.0 serial:0 pool:l poolserial:0 eventname:TICK_5 len:\n'), /len is not a non-negative integer/],
    ['a CRLF header', Buffer.from('ver:3.0 serial:0 pool:l poolserial:0 eventname:TICK_5 len:0\r\n'), /len is not a non-negative integer/],
    ['a double space', Buffer.from('ver:3.0  serial:0 pool:l poolserial:0 eventname:TICK_5 len:0\n'), /malformed header token ""/],
    ['a repeated key', Buffer.from('ver:3.0 serial:0 serial:1 pool:l poolserial:0 eventname:TICK_5 len:0\n'), /repeats serial/],
    ['a len over the limit', Buffer.from(`ver:3.0 serial:0 pool:l poolserial:0 eventname:X len:${MAX_PAYLOAD_CHARS + 1}\n`), /exceeds 1048576 characters/],
    ['a huge len', Buffer.from('ver:3.0 serial:0 pool:l poolserial:0 eventname:X len:99999999999999999999999\n'), /exceeds/],
    ['invalid UTF-8 in the header', Buffer.concat([Buffer.from('ver:3.0 serial:0 pool:l'), Buffer.from([0xff]), Buffer.from(' poolserial:0 eventname:X len:0\n')]), /header line is not valid UTF-8/],
    ['a 0xff byte in the payload', Buffer.concat([Buffer.from(headerLine('X', 'ab')), Buffer.from([0x61, 0xff])]), /payload of X is not valid UTF-8 \(byte 0xff\)/],
    ['a stray continuation byte', Buffer.concat([Buffer.from(headerLine('X', 'ab')), Buffer.from([0x80, 0x61])]), /not valid UTF-8 \(byte 0x80\)/],
    ['a truncated 2-byte sequence', Buffer.concat([Buffer.from(headerLine('X', 'ab')), Buffer.from([0xc3, 0x61])]), /not valid UTF-8 \(byte 0x61\)/],
    ['an overlong encoding', Buffer.concat([Buffer.from(headerLine('X', 'ab')), Buffer.from([0xc0, 0xaf, 0x61])]), /payload of X is not valid UTF-8/],
    ['an encoded surrogate', Buffer.concat([Buffer.from(headerLine('X', 'a')), Buffer.from([0xed, 0xa0, 0x80])]), /payload of X is not valid UTF-8/],
    ['a partial header at EOF', Buffer.from('ver:3.0 serial:0 pool:l'), /input ended in a header line: "ver:3.0 serial:0 pool:l"/],
    ['a partial payload at EOF', Buffer.from(good.slice(0, -3)), /input ended in the payload of TICK_5 \(3 of 15 characters missing\)/],
    ['EOF inside a multi-byte character', Buffer.from(frame(CAFE.eventname, CAFE.payload)).subarray(0, -' from_state:STOPPED tries:0'.length - 1), /input ended in the payload/],
    ['a good frame followed by garbage', Buffer.from(`${good}garbage\n`), /malformed header token "garbage"/],
  ];

  for (const [name, bytes, message] of bad) {
    describe(name, () => {
      for (const way of chunkings(bytes)) {
        it(way.name, () => {
          for (const cut of way.cuts) {
            expect(() => parse(cut.chunks), cut.label).toThrow(ProtocolError);
            expect(() => parse(cut.chunks), cut.label).toThrow(message);
          }
        });
      }
    });
  }

  it('rejects a header line over the limit before it ends, fed whole or byte by byte', () => {
    const line = Buffer.alloc(MAX_HEADER_BYTES + 1, 'a');
    expect(() => new EventParser().push(line)).toThrow(/header line longer than 8192 bytes: "a{80}"…/);
    const parser = new EventParser();
    const bytes = byteByByte(line);
    for (const b of bytes.slice(0, -1)) expect(parser.push(b)).toEqual([]);
    expect(() => parser.push(bytes.at(-1) as Buffer)).toThrow(ProtocolError);
    for (const seed of SEEDS) {
      expect(() => parse(randomChunks(line, seed, 1000))).toThrow(/header line longer than 8192 bytes/);
    }
  });

  it('accepts a header line exactly at the limit', () => {
    const tail = ' eventname:X len:0';
    const head = 'ver:3.0 serial:0 pool:l poolserial:0 pad:';
    const line = head + 'p'.repeat(MAX_HEADER_BYTES - head.length - tail.length) + tail;
    expect(Buffer.byteLength(line)).toBe(MAX_HEADER_BYTES);
    expect(parse([Buffer.from(`${line}\n`)])).toHaveLength(1);
  });

  it('quotes a long offending line truncated', () => {
    const line = `${'x'.repeat(500)}\n`;
    expect(() => parse([Buffer.from(line)])).toThrow(new RegExp(`"${'x'.repeat(80)}"…`));
  });

  it('stays failed: every later call throws the same error', () => {
    const parser = new EventParser();
    let first: unknown;
    try {
      parser.push(Buffer.from('garbage\n'));
    } catch (err) {
      first = err;
    }
    expect(first).toBeInstanceOf(ProtocolError);
    expect(() => parser.push(Buffer.from(good))).toThrow(first as Error);
    expect(() => parser.end()).toThrow(first as Error);
  });
});

/** A RawEvent as the parser produces it for this frame; parsed for real so builder and parser agree. */
function raw(eventname: string, payload: string, fields: HeaderFields = {}): RawEvent {
  const events = new EventParser().push(Buffer.from(frame(eventname, payload, fields)));
  expect(events).toHaveLength(1);
  return events[0] as RawEvent;
}

const meta = (eventname: string, fields: HeaderFields = {}): EventMeta => ({
  ver: fields.ver ?? '3.0',
  server: fields.server ?? 'supervisor',
  serial: fields.serial ?? 0,
  pool: fields.pool ?? 'listener',
  poolserial: fields.poolserial ?? 0,
  eventname,
});

describe('decodeEvent: PROCESS_STATE_*', () => {
  const cases: ReadonlyArray<readonly [string, string, Partial<ProcessStateEvent>]> = [
    ['STARTING', 'processname:sleeper groupname:sleeper from_state:STOPPED tries:0', { group: 'sleeper', process: 'sleeper', fromState: 'STOPPED', pid: null, tries: 0, expected: null }],
    ['STARTING', 'processname:sleeper groupname:sleeper from_state:BACKOFF tries:1', { fromState: 'BACKOFF', tries: 1 }],
    ['RUNNING', 'processname:sleeper groupname:sleeper from_state:STARTING pid:5092', { fromState: 'STARTING', pid: 5092, tries: null, expected: null }],
    ['BACKOFF', 'processname:failer groupname:failer from_state:STARTING tries:1', { fromState: 'STARTING', tries: 1, pid: null }],
    ['STOPPING', 'processname:sleeper groupname:sleeper from_state:RUNNING pid:5092', { fromState: 'RUNNING', pid: 5092 }],
    ['STOPPED', 'processname:sleeper groupname:sleeper from_state:STOPPING pid:5092', { fromState: 'STOPPING', pid: 5092 }],
    ['STOPPED', 'processname:failer groupname:failer from_state:BACKOFF pid:0', { fromState: 'BACKOFF', pid: 0 }],
    ['EXITED', 'processname:crasher groupname:crasher from_state:RUNNING expected:0 pid:9714', { fromState: 'RUNNING', expected: false, pid: 9714 }],
    ['EXITED', 'processname:once groupname:once from_state:RUNNING expected:1 pid:23411', { expected: true, pid: 23411 }],
    ['FATAL', 'processname:failer groupname:failer from_state:BACKOFF', { fromState: 'BACKOFF', pid: null, tries: null, expected: null }],
    ['UNKNOWN', 'processname:odd groupname:odd from_state:RUNNING', { fromState: 'RUNNING' }],
  ];
  for (const [state, payload, want] of cases) {
    it(`${state}: ${payload}`, () => {
      const eventname = `PROCESS_STATE_${state}`;
      const fields = { serial: 55, poolserial: 3 };
      const event = decodeEvent(raw(eventname, payload, fields));
      expect(event).toMatchObject({ kind: 'process-state', meta: meta(eventname, fields), state, ...want });
    });
  }

  it('covers every state supervisord has', () => {
    for (const state of PROCESS_STATES) {
      const event = decodeEvent(raw(`PROCESS_STATE_${state}`, 'processname:a groupname:b'));
      expect(event).toMatchObject({ kind: 'process-state', state, group: 'b', process: 'a', fromState: null });
    }
  });

  it('gives a numprocs process its group, so namespec is group:process', () => {
    const event = decodeEvent(raw('PROCESS_STATE_RUNNING', 'processname:app_00 groupname:app from_state:STARTING pid:1'));
    expect(event.kind === 'process-state' && namespec(event)).toBe('app:app_00');
  });

  it('keeps non-ASCII names', () => {
    const event = decodeEvent(raw('PROCESS_STATE_RUNNING', 'processname:app🚀 groupname:café from_state:STARTING pid:7'));
    expect(event).toMatchObject({ group: 'café', process: 'app🚀', pid: 7 });
  });

  it('reads server, serial and poolserial from the header', () => {
    const fields = { server: 'svb', serial: 237, poolserial: 0, pool: 'hamirror' };
    const event = decodeEvent(raw('PROCESS_STATE_STARTING', 'processname:a groupname:a from_state:STOPPED tries:0', fields));
    expect(event.meta).toEqual(meta('PROCESS_STATE_STARTING', fields));
  });

  const bad: ReadonlyArray<readonly [string, string, string, RegExp]> = [
    ['an unknown state', 'PROCESS_STATE_SLEEPING', 'processname:a groupname:a', /unknown process state "SLEEPING"/],
    ['a bare PROCESS_STATE_', 'PROCESS_STATE_', 'processname:a groupname:a', /unknown process state ""/],
    ['an unknown from_state', 'PROCESS_STATE_RUNNING', 'processname:a groupname:a from_state:NAPPING pid:1', /unknown process state "NAPPING" in from_state/],
    ['no processname', 'PROCESS_STATE_RUNNING', 'groupname:a from_state:STARTING pid:1', /lacks processname/],
    ['no groupname', 'PROCESS_STATE_RUNNING', 'processname:a from_state:STARTING pid:1', /lacks groupname/],
    ['an empty processname', 'PROCESS_STATE_RUNNING', 'processname: groupname:a', /lacks processname/],
    ['an empty payload', 'PROCESS_STATE_RUNNING', '', /lacks groupname/],
    ['a non-numeric pid', 'PROCESS_STATE_RUNNING', 'processname:a groupname:a pid:12a', /pid is not a non-negative integer: "12a"/],
    ['a negative tries', 'PROCESS_STATE_STARTING', 'processname:a groupname:a tries:-1', /tries is not a non-negative integer/],
    ['an expected that is not 0/1', 'PROCESS_STATE_EXITED', 'processname:a groupname:a expected:yes', /expected is not 0 or 1/],
    ['a token without a colon', 'PROCESS_STATE_RUNNING', 'processname:a groupname:a garbage', /malformed token "garbage"/],
    ['a double space', 'PROCESS_STATE_RUNNING', 'processname:a  groupname:a', /malformed token ""/],
    ['a repeated key', 'PROCESS_STATE_RUNNING', 'processname:a groupname:a processname:b', /repeats processname/],
    ['a trailing newline', 'PROCESS_STATE_RUNNING', 'processname:a groupname:a pid:1\n', /pid is not a non-negative integer/],
  ];
  for (const [name, eventname, payload, message] of bad) {
    it(`rejects ${name}`, () => {
      expect(() => decodeEvent(raw(eventname, payload))).toThrow(ProtocolError);
      expect(() => decodeEvent(raw(eventname, payload))).toThrow(message);
    });
  }
});

describe('decodeEvent: PROCESS_GROUP_REMOVED', () => {
  it('reads the group, whose payload ends in a counted newline', () => {
    expect(decodeEvent(raw('PROCESS_GROUP_REMOVED', 'groupname:app\n', { serial: 9, poolserial: 2 }))).toEqual({
      kind: 'group-removed',
      meta: meta('PROCESS_GROUP_REMOVED', { serial: 9, poolserial: 2 }),
      group: 'app',
    });
  });

  it('also takes the payload without the newline', () => {
    expect(decodeEvent(raw('PROCESS_GROUP_REMOVED', 'groupname:café'))).toMatchObject({ group: 'café' });
  });

  it('rejects it without groupname', () => {
    expect(() => decodeEvent(raw('PROCESS_GROUP_REMOVED', '\n'))).toThrow(/lacks groupname/);
    expect(() => decodeEvent(raw('PROCESS_GROUP_REMOVED', 'name:x\n'))).toThrow(ProtocolError);
  });
});

describe('decodeEvent: everything else', () => {
  it('passes SUPERVISOR_STATE_CHANGE_RUNNING (len:0) through as other', () => {
    expect(decodeEvent(raw('SUPERVISOR_STATE_CHANGE_RUNNING', ''))).toEqual({
      kind: 'other',
      meta: meta('SUPERVISOR_STATE_CHANGE_RUNNING'),
    });
  });

  it('passes PROCESS_GROUP_ADDED and TICK_5 through as other, unread', () => {
    expect(decodeEvent(raw('PROCESS_GROUP_ADDED', 'groupname:ticker\n'))).toEqual({ kind: 'other', meta: meta('PROCESS_GROUP_ADDED') });
    expect(decodeEvent(raw('TICK_5', 'when:1795470435'))).toEqual({ kind: 'other', meta: meta('TICK_5') });
  });

  it('does not read the payload of events it does not interpret', () => {
    const payload = 'processname:listener groupname:listener pid:18761 channel:stderr\nstderr: handled  it\n';
    expect(decodeEvent(raw('PROCESS_LOG_STDERR', payload))).toEqual({ kind: 'other', meta: meta('PROCESS_LOG_STDERR') });
  });
});

describe('decodeEvent: header fields', () => {
  const header = headerOf('SUPERVISOR_STATE_CHANGE_RUNNING', '');

  it('defaults server when the header has none', () => {
    const { server: _server, ...rest } = header;
    expect(decodeEvent({ header: rest, payload: '' }).meta.server).toBe('');
  });

  it('rejects a non-numeric serial or poolserial', () => {
    expect(() => decodeEvent({ header: { ...header, serial: 'x' }, payload: '' })).toThrow(/serial is not a non-negative integer/);
    expect(() => decodeEvent({ header: { ...header, poolserial: '-1' }, payload: '' })).toThrow(/poolserial is not/);
  });

  it('rejects a header missing a field', () => {
    const { eventname: _eventname, ...rest } = header;
    expect(() => decodeEvent({ header: rest, payload: '' })).toThrow(/event header lacks eventname/);
  });
});
