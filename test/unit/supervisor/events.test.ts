// Event decoding against the payloads supervisord 4.2.5 was seen to send (reference §1.3, §5).

import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src/errors.js';
import { decodeEvent, type EventMeta, type ProcessStateEvent } from '../../../src/supervisor/events.js';
import { EventParser, type RawEvent } from '../../../src/supervisor/protocol.js';
import { PROCESS_STATES, namespec } from '../../../src/supervisor/types.js';
import { frame, headerOf, type HeaderFields } from '../../support/frames.js';

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

describe('decodeEvent: PROCESS_GROUP_*', () => {
  it('reads PROCESS_GROUP_ADDED, whose payload ends in a counted newline', () => {
    expect(decodeEvent(raw('PROCESS_GROUP_ADDED', 'groupname:ticker\n'))).toEqual({
      kind: 'group-added',
      meta: meta('PROCESS_GROUP_ADDED'),
      group: 'ticker',
    });
  });

  it('reads PROCESS_GROUP_REMOVED', () => {
    expect(decodeEvent(raw('PROCESS_GROUP_REMOVED', 'groupname:app\n', { serial: 9, poolserial: 2 }))).toEqual({
      kind: 'group-removed',
      meta: meta('PROCESS_GROUP_REMOVED', { serial: 9, poolserial: 2 }),
      group: 'app',
    });
  });

  it('also takes the payload without the newline', () => {
    expect(decodeEvent(raw('PROCESS_GROUP_REMOVED', 'groupname:café'))).toMatchObject({ group: 'café' });
  });

  it('rejects a group event without groupname', () => {
    expect(() => decodeEvent(raw('PROCESS_GROUP_REMOVED', '\n'))).toThrow(/lacks groupname/);
    expect(() => decodeEvent(raw('PROCESS_GROUP_ADDED', 'name:x\n'))).toThrow(ProtocolError);
  });
});

describe('decodeEvent: TICK_*', () => {
  for (const [name, when] of [['TICK_5', 1795470435], ['TICK_60', 1795470480], ['TICK_3600', 1795467600]] as const) {
    it(name, () => {
      const fields = { serial: 246, poolserial: 4 };
      expect(decodeEvent(raw(name, `when:${when}`, fields))).toEqual({ kind: 'tick', meta: meta(name, fields), when });
    });
  }

  it('rejects a tick without a numeric when', () => {
    expect(() => decodeEvent(raw('TICK_5', 'when:soon'))).toThrow(/when is not a non-negative integer/);
    expect(() => decodeEvent(raw('TICK_5', ''))).toThrow(/lacks when/);
  });
});

describe('decodeEvent: everything else', () => {
  it('passes SUPERVISOR_STATE_CHANGE_RUNNING (len:0) through as other', () => {
    expect(decodeEvent(raw('SUPERVISOR_STATE_CHANGE_RUNNING', ''))).toEqual({
      kind: 'other',
      meta: meta('SUPERVISOR_STATE_CHANGE_RUNNING'),
    });
  });

  it('does not read the payload of events it does not interpret', () => {
    const payload = 'processname:listener groupname:listener pid:18761 channel:stderr\nstderr: handled  it\n';
    expect(decodeEvent(raw('PROCESS_LOG_STDERR', payload))).toEqual({ kind: 'other', meta: meta('PROCESS_LOG_STDERR') });
  });
});

describe('decodeEvent: header fields', () => {
  const header = headerOf('TICK_5', 'when:1');

  it('defaults server when the header has none', () => {
    const { server: _server, ...rest } = header;
    expect(decodeEvent({ header: rest, payload: 'when:1' }).meta.server).toBe('');
  });

  it('rejects a non-numeric serial or poolserial', () => {
    expect(() => decodeEvent({ header: { ...header, serial: 'x' }, payload: 'when:1' })).toThrow(/serial is not a non-negative integer/);
    expect(() => decodeEvent({ header: { ...header, poolserial: '-1' }, payload: 'when:1' })).toThrow(/poolserial is not/);
  });

  it('rejects a header missing a field', () => {
    const { eventname: _eventname, ...rest } = header;
    expect(() => decodeEvent({ header: rest, payload: '' })).toThrow(/event header lacks eventname/);
  });
});
