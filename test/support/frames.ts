// Builds eventlistener frames as supervisord 4.2.5 writes them, and cuts byte streams every way a pipe can.

export interface HeaderFields {
  readonly ver?: string;
  readonly server?: string;
  readonly serial?: number;
  readonly pool?: string;
  readonly poolserial?: number;
}

/** Code points, as Python's len(str) counts them — what supervisord puts in `len` (reference §1.2). */
export const codePoints = (text: string): number => [...text].length;

/** The header line supervisord writes before a payload, in its field order. */
export function headerLine(eventname: string, payload: string, fields: HeaderFields = {}): string {
  const { ver = '3.0', server = 'supervisor', serial = 0, pool = 'listener', poolserial = 0 } = fields;
  return (
    `ver:${ver} server:${server} serial:${serial} pool:${pool} poolserial:${poolserial} ` +
    `eventname:${eventname} len:${codePoints(payload)}\n`
  );
}

/** A whole frame: header line then the payload, with no newline after it. */
export function frame(eventname: string, payload: string, fields: HeaderFields = {}): string {
  return headerLine(eventname, payload, fields) + payload;
}

/** The header record the parser should produce for frame(eventname, payload, fields). */
export function headerOf(eventname: string, payload: string, fields: HeaderFields = {}): Record<string, string> {
  const { ver = '3.0', server = 'supervisor', serial = 0, pool = 'listener', poolserial = 0 } = fields;
  return {
    ver,
    server,
    serial: String(serial),
    pool,
    poolserial: String(poolserial),
    eventname,
    len: String(codePoints(payload)),
  };
}

/** mulberry32: a tiny deterministic PRNG so "random" chunkings are the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const whole = (bytes: Buffer): Buffer[] => [bytes];

export const byteByByte = (bytes: Buffer): Buffer[] =>
  Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));

export const splitAt = (bytes: Buffer, offset: number): Buffer[] => [bytes.subarray(0, offset), bytes.subarray(offset)];

/** Chunks of 1..maxChunk bytes, sizes drawn from a seeded PRNG. */
export function randomChunks(bytes: Buffer, seed: number, maxChunk = 17): Buffer[] {
  const next = prng(seed);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; ) {
    const size = 1 + Math.floor(next() * maxChunk);
    chunks.push(bytes.subarray(i, i + size));
    i += size;
  }
  return chunks;
}

export const SEEDS = [1, 2, 3, 42, 1337, 20251123] as const;

/**
 * Every way these tests cut a stream, in four groups: whole, byte by byte, split at every offset, and seeded
 * random chunks. Each cutting is labelled so a failure names it.
 */
export function chunkings(bytes: Buffer): Array<{ name: string; cuts: Array<{ label: string; chunks: Buffer[] }> }> {
  const offsets = Array.from({ length: bytes.length + 1 }, (_, offset) => ({
    label: `split at ${offset}`,
    chunks: splitAt(bytes, offset),
  }));
  return [
    { name: 'whole', cuts: [{ label: 'whole', chunks: whole(bytes) }] },
    { name: 'byte by byte', cuts: [{ label: 'byte by byte', chunks: byteByByte(bytes) }] },
    { name: 'split at every offset', cuts: offsets },
    {
      name: 'seeded random chunks',
      cuts: SEEDS.map((seed) => ({ label: `seed ${seed}`, chunks: randomChunks(bytes, seed) })),
    },
  ];
}
