// Gives a raw supervisord frame its meaning: process state changes, group add/remove, ticks; pure.

import { ProtocolError } from '../errors.js';
import type { RawEvent } from './protocol.js';
import { PROCESS_STATES, type ProcessName, type ProcessState } from './types.js';

/** The header fields every event carries. */
export interface EventMeta {
  readonly ver: string;
  /** `[supervisord] identifier=`, `supervisor` by default. */
  readonly server: string;
  /** Global counter; kept on redelivery, so (serial, poolserial) spots a duplicate. */
  readonly serial: number;
  readonly pool: string;
  /** Per-pool counter: a gap means supervisord dropped events, a drop back to 0 a recreated pool. */
  readonly poolserial: number;
  readonly eventname: string;
}

export type ProcessStateEvent = {
  readonly kind: 'process-state';
  readonly meta: EventMeta;
  /** The new state: the event name's suffix. */
  readonly state: ProcessState;
  readonly fromState: ProcessState | null;
  /** Absent for STARTING, BACKOFF, FATAL; 0 for STOPPED after BACKOFF. */
  readonly pid: number | null;
  /** Only STARTING and BACKOFF carry it. */
  readonly tries: number | null;
  /** Only EXITED carries it: whether the exit code was in `exitcodes`. */
  readonly expected: boolean | null;
} & ProcessName;

export interface GroupEvent {
  readonly kind: 'group-added' | 'group-removed';
  readonly meta: EventMeta;
  readonly group: string;
}

export interface TickEvent {
  readonly kind: 'tick';
  readonly meta: EventMeta;
  /** Epoch seconds of the 5 s / 60 s / 3600 s boundary, not of delivery. */
  readonly when: number;
}

export interface OtherEvent {
  readonly kind: 'other';
  readonly meta: EventMeta;
}

export type SupervisorEvent = ProcessStateEvent | GroupEvent | TickEvent | OtherEvent;

const STATE_PREFIX = 'PROCESS_STATE_';
const TICK = /^TICK_[0-9]+$/;
const UINT = /^[0-9]+$/;
const KNOWN_STATES: ReadonlySet<string> = new Set(PROCESS_STATES);

/** Interprets one frame. Throws ProtocolError when a frame we subscribe to is not shaped as supervisord sends it. */
export function decodeEvent(raw: RawEvent): SupervisorEvent {
  const meta = decodeMeta(raw.header);
  const name = meta.eventname;
  if (name.startsWith(STATE_PREFIX)) return decodeProcessState(meta, raw.payload);
  if (name === 'PROCESS_GROUP_ADDED' || name === 'PROCESS_GROUP_REMOVED') {
    // The group payload ends in a newline that supervisord counts in len.
    const body = raw.payload.endsWith('\n') ? raw.payload.slice(0, -1) : raw.payload;
    const fields = payloadFields(meta, body);
    return {
      kind: name === 'PROCESS_GROUP_ADDED' ? 'group-added' : 'group-removed',
      meta,
      group: required(meta, fields, 'groupname'),
    };
  }
  if (TICK.test(name)) {
    const fields = payloadFields(meta, raw.payload);
    return { kind: 'tick', meta, when: uint(meta, 'when', required(meta, fields, 'when')) };
  }
  return { kind: 'other', meta };
}

function decodeMeta(header: Readonly<Record<string, string>>): EventMeta {
  const field = (key: string): string => {
    const value = header[key];
    if (value === undefined) throw new ProtocolError(`event header lacks ${key}`);
    return value;
  };
  const eventname = field('eventname');
  const where = { eventname };
  return {
    ver: field('ver'),
    server: header['server'] ?? '',
    serial: uint(where, 'serial', field('serial')),
    pool: field('pool'),
    poolserial: uint(where, 'poolserial', field('poolserial')),
    eventname,
  };
}

function decodeProcessState(meta: EventMeta, payload: string): ProcessStateEvent {
  // The new state is only in the event name; from_state is always the previous one.
  const state = processState(meta, 'eventname', meta.eventname.slice(STATE_PREFIX.length));
  const fields = payloadFields(meta, payload);
  const from = fields.get('from_state');
  const pid = fields.get('pid');
  const tries = fields.get('tries');
  const expected = fields.get('expected');
  if (expected !== undefined && expected !== '0' && expected !== '1') {
    throw new ProtocolError(`${meta.eventname} expected is not 0 or 1: ${quote(payload)}`);
  }
  return {
    kind: 'process-state',
    meta,
    group: required(meta, fields, 'groupname'),
    process: required(meta, fields, 'processname'),
    state,
    fromState: from === undefined ? null : processState(meta, 'from_state', from),
    pid: pid === undefined ? null : uint(meta, 'pid', pid),
    tries: tries === undefined ? null : uint(meta, 'tries', tries),
    expected: expected === undefined ? null : expected === '1',
  };
}

/** `key:value` tokens separated by single spaces; for these events values never contain a space. */
function payloadFields(meta: EventMeta, payload: string): Map<string, string> {
  const fields = new Map<string, string>();
  if (payload === '') return fields;
  for (const token of payload.split(' ')) {
    const colon = token.indexOf(':');
    if (colon <= 0) throw new ProtocolError(`${meta.eventname} payload has a malformed token ${quote(token)}: ${quote(payload)}`);
    const key = token.slice(0, colon);
    if (fields.has(key)) throw new ProtocolError(`${meta.eventname} payload repeats ${key}: ${quote(payload)}`);
    fields.set(key, token.slice(colon + 1));
  }
  return fields;
}

function required(meta: EventMeta, fields: ReadonlyMap<string, string>, key: string): string {
  const value = fields.get(key);
  if (value === undefined || value === '') {
    throw new ProtocolError(`${meta.eventname} payload lacks ${key}: ${quote(joinFields(fields))}`);
  }
  return value;
}

function processState(meta: { readonly eventname: string }, what: string, value: string): ProcessState {
  if (!KNOWN_STATES.has(value)) {
    throw new ProtocolError(`${meta.eventname}: unknown process state ${quote(value)} in ${what}`);
  }
  return value as ProcessState;
}

function uint(meta: { readonly eventname: string }, key: string, value: string): number {
  if (!UINT.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new ProtocolError(`${meta.eventname}: ${key} is not a non-negative integer: ${quote(value)}`);
  }
  return Number(value);
}

function joinFields(fields: ReadonlyMap<string, string>): string {
  return [...fields].map(([k, v]) => `${k}:${v}`).join(' ');
}

function quote(text: string): string {
  return text.length <= 80 ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, 80))}…`;
}
