// supervisord's eventlistener wire protocol: the tokens we write and a pure parser for the frames we read.

import { ProtocolError } from '../errors.js';

/** First thing a listener writes, and again after every result. */
export const READY = 'READY\n';

/**
 * "Processed". Exactly this: `RESULT 3\nOK\n` or FAIL count as a rejection and supervisord redelivers the
 * event in a tight loop.
 */
export const RESULT_OK = 'RESULT 2\nOK';

/** Acknowledge and ask for the next event in one write; supervisord 4.2.5 parsed `RESULT 2\nOKREADY\n` fine. */
export const ACK_AND_READY = RESULT_OK + READY;

/** Header lines are ~120 bytes; anything near this is not supervisord talking. */
export const MAX_HEADER_BYTES = 8 * 1024;

/** State, group and tick payloads are < 200 characters; PROCESS_LOG_* can be larger but still bounded. */
export const MAX_PAYLOAD_CHARS = 1024 * 1024;

/** Keys every header carries (protocol ver 3.0); `server` is left optional. */
const REQUIRED_KEYS = ['ver', 'serial', 'pool', 'poolserial', 'eventname', 'len'] as const;

/** One frame as read: the header's key:value tokens and the payload text, before any interpretation. */
export interface RawEvent {
  readonly header: Readonly<Record<string, string>>;
  readonly payload: string;
}

export interface EventParserOptions {
  readonly maxHeaderBytes?: number;
  readonly maxPayloadChars?: number;
}

const NEWLINE = 0x0a;
const QUOTE_MAX = 80;

// fatal: reject invalid UTF-8 instead of inventing U+FFFD; ignoreBOM: keep a leading U+FEFF, it is counted in len.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Cuts a byte stream into frames: one header line ending in `\n`, then exactly `len` payload characters.
 *
 * supervisord counts `len` in Unicode code points (Python `len(str)`), not bytes and not UTF-16 units, so the
 * payload is measured by counting UTF-8 lead bytes; a byte-counting reader desyncs on the first non-ASCII
 * name. Each input byte is looked at once and each frame is concatenated at most once, so
 * byte-by-byte input stays linear. Frames may straddle chunks anywhere, including inside a UTF-8 sequence.
 *
 * After a ProtocolError the parser is dead: every later call throws the same error. Frames completed earlier
 * in the failing chunk are not returned; they were not acknowledged, so supervisord redelivers them.
 */
export class EventParser {
  private readonly maxHeaderBytes: number;
  private readonly maxPayloadChars: number;
  private inPayload = false;
  /** Bytes of the current header or payload seen in earlier chunks. */
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  private header: Readonly<Record<string, string>> = {};
  /** Characters (lead bytes) of the payload still to come. */
  private charsLeft = 0;
  /** Continuation bytes still owed by the last lead byte seen. */
  private tailLeft = 0;
  /** Whether the payload so far has a byte >= 0x80 (else it is ASCII and needs no validating decode). */
  private nonAscii = false;
  private failed: ProtocolError | null = null;

  constructor(options: EventParserOptions = {}) {
    this.maxHeaderBytes = options.maxHeaderBytes ?? MAX_HEADER_BYTES;
    this.maxPayloadChars = options.maxPayloadChars ?? MAX_PAYLOAD_CHARS;
  }

  /**
   * Feed the next chunk; returns every frame it completes, in order. Throws ProtocolError on malformed input.
   * The chunk is not retained: the caller may overwrite it as soon as this returns.
   */
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
    if (!this.inPayload && this.pieceBytes === 0) return;
    const where = this.inPayload
      ? `in the payload of ${this.header['eventname'] ?? '?'} (${this.charsLeft} of ${this.header['len'] ?? '?'} characters missing)`
      : `in a header line: ${quoteBytes(Buffer.concat(this.pieces))}`;
    this.failed = new ProtocolError(`input ended ${where}`);
    throw this.failed;
  }

  private consume(chunk: Buffer): RawEvent[] {
    const events: RawEvent[] = [];
    let pos = 0;
    while (pos < chunk.length || (this.inPayload && this.charsLeft === 0 && this.tailLeft === 0)) {
      if (!this.inPayload) {
        pos = this.readHeader(chunk, pos);
        continue;
      }
      const end = this.scanPayload(chunk, pos);
      if (this.charsLeft > 0 || this.tailLeft > 0) {
        this.keep(chunk.subarray(pos));
        break;
      }
      const bytes = this.gather(chunk, pos, end);
      const payload = decode(bytes, !this.nonAscii);
      if (payload === null) {
        // The scan checked the structure; the decoder also rejects overlong forms, surrogates, > U+10FFFF.
        throw new ProtocolError(`payload of ${this.header['eventname'] ?? '?'} is not valid UTF-8: ${quoteBytes(bytes)}`);
      }
      events.push({ header: this.header, payload });
      this.inPayload = false;
      pos = end;
    }
    return events;
  }

  /** Reads header bytes from pos; returns where it stopped (past the `\n`, or the chunk's end). */
  private readHeader(chunk: Buffer, pos: number): number {
    const nl = chunk.indexOf(NEWLINE, pos);
    const end = nl === -1 ? chunk.length : nl;
    if (this.pieceBytes + (end - pos) > this.maxHeaderBytes) {
      const seen = Buffer.concat([...this.pieces, chunk.subarray(pos, end)]);
      throw new ProtocolError(`header line longer than ${this.maxHeaderBytes} bytes: ${quoteBytes(seen)}`);
    }
    if (nl === -1) {
      this.keep(chunk.subarray(pos));
      return chunk.length;
    }
    const bytes = this.gather(chunk, pos, nl);
    const line = decode(bytes, false);
    if (line === null) throw new ProtocolError(`header line is not valid UTF-8: ${quoteBytes(bytes)}`);
    this.header = this.parseHeader(line);
    this.inPayload = true;
    this.charsLeft = Number(this.header['len']);
    this.tailLeft = 0;
    this.nonAscii = false;
    return nl + 1;
  }

  private parseHeader(line: string): Record<string, string> {
    if (line === '') throw new ProtocolError('empty header line');
    const fields: Record<string, string> = {};
    // supervisord writes `key:value` tokens separated by single spaces. Scanned by hand:
    // this runs once per event and split() + slice() per token was the parser's main cost.
    for (let start = 0; start <= line.length; ) {
      let stop = line.indexOf(' ', start);
      if (stop === -1) stop = line.length;
      const colon = line.indexOf(':', start);
      if (colon <= start || colon >= stop) {
        throw new ProtocolError(`malformed header token ${quote(line.slice(start, stop))} in ${quote(line)}`);
      }
      const key = line.slice(start, colon);
      if (Object.hasOwn(fields, key)) throw new ProtocolError(`header repeats ${key}: ${quote(line)}`);
      // Assigning it would replace the record's prototype instead of adding a field.
      if (key === '__proto__') throw new ProtocolError(`malformed header token ${quote(line.slice(start, stop))} in ${quote(line)}`);
      fields[key] = line.slice(colon + 1, stop);
      start = stop + 1;
    }
    for (const key of REQUIRED_KEYS) {
      if (!Object.hasOwn(fields, key)) throw new ProtocolError(`header lacks ${key}: ${quote(line)}`);
    }
    const len = fields['len'] ?? '';
    if (!/^[0-9]+$/.test(len)) {
      throw new ProtocolError(`header len is not a non-negative integer: ${quote(line)}`);
    }
    if (Number(len) > this.maxPayloadChars) {
      throw new ProtocolError(`header len ${len} exceeds ${this.maxPayloadChars} characters: ${quote(line)}`);
    }
    return fields;
  }

  /**
   * Walks payload bytes from pos until `charsLeft` characters are complete; returns the index just past
   * them (or the chunk's end). Rejects byte sequences that cannot be UTF-8 as soon as they are seen, so a
   * bogus stream fails here rather than after swallowing `len` characters of the frames behind it.
   */
  private scanPayload(chunk: Buffer, pos: number): number {
    let chars = this.charsLeft;
    let tail = this.tailLeft;
    let i = pos;
    const n = chunk.length;
    while (i < n && (chars > 0 || tail > 0)) {
      const b = chunk[i] as number;
      if (tail > 0) {
        if ((b & 0xc0) !== 0x80) this.invalidUtf8(chunk, i);
        tail -= 1;
      } else {
        chars -= 1;
        if (b >= 0x80) {
          this.nonAscii = true;
          if ((b & 0xe0) === 0xc0) tail = 1;
          else if ((b & 0xf0) === 0xe0) tail = 2;
          else if ((b & 0xf8) === 0xf0) tail = 3;
          else this.invalidUtf8(chunk, i);
        }
      }
      i += 1;
    }
    this.charsLeft = chars;
    this.tailLeft = tail;
    return i;
  }

  private invalidUtf8(chunk: Buffer, at: number): never {
    const seen = Buffer.concat([...this.pieces, chunk.subarray(0, at + 1)]);
    const byte = (chunk[at] as number).toString(16).padStart(2, '0');
    throw new ProtocolError(
      `payload of ${this.header['eventname'] ?? '?'} is not valid UTF-8 (byte 0x${byte}): ${quoteBytes(seen.subarray(-QUOTE_MAX))}`,
    );
  }

  private keep(bytes: Buffer): void {
    if (bytes.length === 0) return;
    // A copy: the caller may reuse its buffer for the next read (stdio.ts reads into one fixed buffer).
    this.pieces.push(Buffer.from(bytes));
    this.pieceBytes += bytes.length;
  }

  /** The kept pieces followed by chunk[start, end); copies only when the item straddled chunks. */
  private gather(chunk: Buffer, start: number, end: number): Buffer {
    if (this.pieces.length === 0) return chunk.subarray(start, end);
    const whole = Buffer.concat([...this.pieces, chunk.subarray(start, end)]);
    this.pieces = [];
    this.pieceBytes = 0;
    return whole;
  }
}

/** Decodes UTF-8 strictly; null if invalid. */
function decode(bytes: Buffer, ascii: boolean): string | null {
  // latin1 is the cheapest decode and exact for ASCII.
  if (ascii) return bytes.toString('latin1');
  // Node's decoder is fast but lenient: only when it produced U+FFFD can the input be invalid.
  const text = bytes.toString('utf8');
  if (!text.includes('\uFFFD')) return text;
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** A short, escaped excerpt for error messages, so a log line shows what was actually received. */
function quote(text: string): string {
  const chars = [...text];
  return chars.length <= QUOTE_MAX ? JSON.stringify(text) : `${JSON.stringify(chars.slice(0, QUOTE_MAX).join(''))}…`;
}

function quoteBytes(bytes: Buffer): string {
  // Lenient decode on purpose: the excerpt must show invalid bytes (as U+FFFD) rather than throw again.
  return quote(bytes.subarray(0, QUOTE_MAX * 4).toString('utf8'));
}
