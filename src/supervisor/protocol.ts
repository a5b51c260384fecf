// supervisord's eventlistener protocol, pure: the tokens we write, frames cut from bytes, events decoded from frames.

import { ProtocolError, quote } from '../errors.js';
import { PROCESS_STATES, type ProcessName, type ProcessState } from './types.js';

/** The first thing a listener writes: supervisord sends nothing before it. */
export const READY = 'READY\n';

/**
 * "Processed", and ready for the next event, in one write; supervisord 4.2.5 reads `RESULT 2\nOKREADY\n` as
 * both. Anything but exactly `RESULT 2\nOK` (FAIL, `RESULT 3\nOK\n`) is a rejection, which supervisord
 * redelivers in a tight loop.
 */
export const ACK_AND_READY = 'RESULT 2\nOKREADY\n';

/** Header lines are ~120 bytes; anything near this is not supervisord talking. */
export const MAX_HEADER_BYTES = 8 * 1024;

/** State and group payloads are < 200 characters; PROCESS_LOG_* can be larger but still bounded. */
export const MAX_PAYLOAD_CHARS = 1024 * 1024;

/** Keys every header carries (protocol ver 3.0): a frame read out of step (len miscounted) fails here. */
const REQUIRED_KEYS = ['ver', 'serial', 'pool', 'poolserial', 'eventname', 'len'] as const;

const NEWLINE = 0x0a;
const QUOTE_MAX = 80;

// fatal: reject invalid UTF-8 instead of inventing U+FFFD; ignoreBOM: keep a leading U+FEFF, it is counted in len.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** One frame as read: the header's key:value tokens and the payload text, before any interpretation. */
export interface RawEvent {
  readonly header: Readonly<Record<string, string>>;
  readonly payload: string;
}

/**
 * Cuts a byte stream into frames: one header line ending in `\n`, then exactly `len` payload characters.
 * Frames may straddle chunks anywhere, including inside a UTF-8 sequence.
 *
 * supervisord counts `len` in code points (Python `len(str)`), not bytes nor UTF-16 units, so the payload is
 * measured by counting UTF-8 lead bytes: a byte-counting reader desyncs on the first non-ASCII name.
 *
 * After a ProtocolError the parser is dead: every later call throws the same error. Frames completed earlier
 * in the failing chunk are not returned; they were not acknowledged, so supervisord redelivers them.
 */
export class EventParser {
  /** Bytes of the current header line or payload that came in earlier chunks. */
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  /** The header whose payload is being read; null between frames. */
  private header: Readonly<Record<string, string>> | null = null;
  /** Characters (lead bytes) of the payload still to come. */
  private charsLeft = 0;
  /** Continuation bytes still owed by the last lead byte seen. */
  private tailLeft = 0;
  private failed: ProtocolError | null = null;

  /** Feeds the next chunk; returns every frame it completes, in order. Throws ProtocolError on malformed input. */
  push(chunk: Buffer): RawEvent[] {
    if (this.failed !== null) throw this.failed;
    try {
      return this.consume(chunk);
    } catch (err) {
      if (err instanceof ProtocolError) this.failed = err;
      throw err;
    }
  }

  /** The input has ended: throws ProtocolError if it stopped inside a frame. */
  end(): void {
    if (this.failed !== null) throw this.failed;
    if (this.header === null && this.pieceBytes === 0) return;
    const where =
      this.header !== null
        ? `in the payload of ${this.header['eventname']} (${this.charsLeft} of ${this.header['len']} characters missing)`
        : `in a header line: ${quoteBytes(Buffer.concat(this.pieces))}`;
    this.failed = new ProtocolError(`input ended ${where}`);
    throw this.failed;
  }

  private consume(chunk: Buffer): RawEvent[] {
    const events: RawEvent[] = [];
    let pos = 0;
    for (;;) {
      if (this.header === null) {
        if (pos === chunk.length) return events;
        pos = this.readHeader(chunk, pos);
        continue;
      }
      // A header just read may be followed by len:0 and no byte at all: the frame is complete.
      const end = this.scanPayload(chunk, pos);
      if (this.charsLeft > 0 || this.tailLeft > 0) {
        this.keep(chunk.subarray(pos));
        return events;
      }
      const bytes = this.gather(chunk, pos, end);
      const payload = decodeUtf8(bytes);
      if (payload === null) {
        // The scan checked the structure; the decoder also rejects overlong forms, surrogates, > U+10FFFF.
        throw new ProtocolError(`payload of ${this.header['eventname']} is not valid UTF-8: ${quoteBytes(bytes)}`);
      }
      events.push({ header: this.header, payload });
      this.header = null;
      pos = end;
    }
  }

  /** Reads header bytes from pos; returns where it stopped (past the `\n`, or the chunk's end). */
  private readHeader(chunk: Buffer, pos: number): number {
    const nl = chunk.indexOf(NEWLINE, pos);
    const end = nl === -1 ? chunk.length : nl;
    if (this.pieceBytes + (end - pos) > MAX_HEADER_BYTES) {
      const seen = Buffer.concat([...this.pieces, chunk.subarray(pos, end)]);
      throw new ProtocolError(`header line longer than ${MAX_HEADER_BYTES} bytes: ${quoteBytes(seen)}`);
    }
    if (nl === -1) {
      this.keep(chunk.subarray(pos));
      return chunk.length;
    }
    const bytes = this.gather(chunk, pos, nl);
    const line = decodeUtf8(bytes);
    if (line === null) throw new ProtocolError(`header line is not valid UTF-8: ${quoteBytes(bytes)}`);
    this.header = parseHeader(line);
    this.charsLeft = Number(this.header['len']);
    return nl + 1;
  }

  /**
   * Walks payload bytes from pos until `charsLeft` characters are complete; returns the index just past them
   * (or the chunk's end). Rejects bytes that cannot be UTF-8 as soon as they are seen, so a bogus stream fails
   * here rather than after swallowing `len` characters of the frames behind it.
   */
  private scanPayload(chunk: Buffer, pos: number): number {
    let i = pos;
    while (i < chunk.length && (this.charsLeft > 0 || this.tailLeft > 0)) {
      const b = chunk[i] as number;
      if (this.tailLeft > 0) {
        if ((b & 0xc0) !== 0x80) this.invalidUtf8(chunk, i);
        this.tailLeft -= 1;
      } else {
        this.charsLeft -= 1;
        if (b >= 0x80) {
          if ((b & 0xe0) === 0xc0) this.tailLeft = 1;
          else if ((b & 0xf0) === 0xe0) this.tailLeft = 2;
          else if ((b & 0xf8) === 0xf0) this.tailLeft = 3;
          else this.invalidUtf8(chunk, i);
        }
      }
      i += 1;
    }
    return i;
  }

  private invalidUtf8(chunk: Buffer, at: number): never {
    const seen = Buffer.concat([...this.pieces, chunk.subarray(0, at + 1)]);
    const byte = (chunk[at] as number).toString(16).padStart(2, '0');
    throw new ProtocolError(
      `payload of ${this.header?.['eventname']} is not valid UTF-8 (byte 0x${byte}): ${quoteBytes(seen.subarray(-QUOTE_MAX))}`,
    );
  }

  private keep(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.pieces.push(bytes);
    this.pieceBytes += bytes.length;
  }

  /** The kept pieces followed by chunk[start, end). */
  private gather(chunk: Buffer, start: number, end: number): Buffer {
    const whole = Buffer.concat([...this.pieces, chunk.subarray(start, end)]);
    this.pieces = [];
    this.pieceBytes = 0;
    return whole;
  }
}

/** supervisord writes `key:value` tokens separated by single spaces. */
function parseHeader(line: string): Record<string, string> {
  if (line === '') throw new ProtocolError('empty header line');
  // No prototype: a key such as __proto__ is just a key.
  const fields = Object.create(null) as Record<string, string>;
  for (const token of line.split(' ')) {
    const colon = token.indexOf(':');
    if (colon <= 0) throw new ProtocolError(`malformed header token ${quote(token)} in ${quote(line)}`);
    const key = token.slice(0, colon);
    if (key in fields) throw new ProtocolError(`header repeats ${key}: ${quote(line)}`);
    fields[key] = token.slice(colon + 1);
  }
  for (const key of REQUIRED_KEYS) {
    if (!(key in fields)) throw new ProtocolError(`header lacks ${key}: ${quote(line)}`);
  }
  const len = fields['len'] as string;
  if (!/^[0-9]+$/.test(len)) throw new ProtocolError(`header len is not a non-negative integer: ${quote(line)}`);
  if (Number(len) > MAX_PAYLOAD_CHARS) {
    throw new ProtocolError(`header len ${len} exceeds ${MAX_PAYLOAD_CHARS} characters: ${quote(line)}`);
  }
  return fields;
}

// ---- what a frame means ----

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

interface GroupRemovedEvent {
  readonly kind: 'group-removed';
  readonly meta: EventMeta;
  readonly group: string;
}

/** Any other event (PROCESS_GROUP_ADDED, SUPERVISOR_STATE_CHANGE_*, …): the listener acts on none of them. */
interface OtherEvent {
  readonly kind: 'other';
  readonly meta: EventMeta;
}

export type SupervisorEvent = ProcessStateEvent | GroupRemovedEvent | OtherEvent;

const STATE_PREFIX = 'PROCESS_STATE_';
const KNOWN_STATES: ReadonlySet<string> = new Set(PROCESS_STATES);

/** Interprets one frame. Throws ProtocolError when an event we act on is not shaped as supervisord sends it. */
export function decodeEvent(raw: RawEvent): SupervisorEvent {
  const meta = decodeMeta(raw.header);
  const name = meta.eventname;
  if (name.startsWith(STATE_PREFIX)) return decodeProcessState(meta, raw.payload);
  if (name === 'PROCESS_GROUP_REMOVED') {
    // The group payload ends in a newline that supervisord counts in len.
    const body = raw.payload.endsWith('\n') ? raw.payload.slice(0, -1) : raw.payload;
    return { kind: 'group-removed', meta, group: required(meta, payloadFields(meta, body), 'groupname') };
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

/** `key:value` tokens separated by single spaces; in these events values never contain a space. */
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
    const seen = [...fields].map(([k, v]) => `${k}:${v}`).join(' ');
    throw new ProtocolError(`${meta.eventname} payload lacks ${key}: ${quote(seen)}`);
  }
  return value;
}

function processState(meta: { readonly eventname: string }, what: string, value: string): ProcessState {
  if (!KNOWN_STATES.has(value)) throw new ProtocolError(`${meta.eventname}: unknown process state ${quote(value)} in ${what}`);
  return value as ProcessState;
}

function uint(meta: { readonly eventname: string }, key: string, value: string): number {
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new ProtocolError(`${meta.eventname}: ${key} is not a non-negative integer: ${quote(value)}`);
  }
  return Number(value);
}

function decodeUtf8(bytes: Buffer): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** A short, escaped excerpt of received bytes for error messages. */
function quoteBytes(bytes: Buffer): string {
  // Lenient decode on purpose: the excerpt must show invalid bytes (as U+FFFD) rather than throw again.
  return quote(bytes.subarray(0, QUOTE_MAX * 4).toString('utf8'), QUOTE_MAX);
}
