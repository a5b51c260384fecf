// One synchronous write(2) per text to an fd, and a stream to go on with once the fd would block.

import { writeSync as fsWriteSync } from 'node:fs';

/** Where written text goes once the fd would block: a Node stream, or a sink over one. */
export interface FallbackSink {
  write(chunk: string | Uint8Array): void;
}

export interface FdWriteOptions {
  readonly fd?: number;
  /** fs.writeSync (returns the bytes written); injectable so a test can make it answer EAGAIN or write part. */
  readonly writeSync?: (fd: number, text: string) => number;
  /** Where writing goes on once the fd would block. */
  readonly fallback?: () => NodeJS.WritableStream;
}

interface FdWriterSpec<S extends FallbackSink> {
  readonly fd: number;
  readonly writeSync: ((fd: number, text: string) => number) | undefined;
  /** Called once, at the first write that would block (EAGAIN, or written in part). */
  readonly fallback: () => S;
  /** A write that failed otherwise (supervisord gone: EPIPE). The text is not written. */
  readonly onError: (err: unknown) => void;
}

/**
 * Writes each text with one write(2) to the fd, at once. If the fd is non-blocking after all (someone set
 * O_NONBLOCK on a shared description) and a write would block, the rest goes to the fallback, which queues,
 * and so does everything after it, so the order holds. A short write is cut at a byte, maybe inside a
 * character: the rest goes on as bytes.
 */
export function fdWriter<S extends FallbackSink>(spec: FdWriterSpec<S>): (text: string) => void {
  const writeSync = spec.writeSync ?? ((fd: number, text: string) => fsWriteSync(fd, text));
  let slow: S | null = null;
  return (text) => {
    if (slow !== null) {
      slow.write(text);
      return;
    }
    let written = 0;
    try {
      written = writeSync(spec.fd, text);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') {
        spec.onError(err);
        return;
      }
    }
    if (written >= Buffer.byteLength(text)) return;
    slow = spec.fallback();
    slow.write(written === 0 ? text : Buffer.from(text, 'utf8').subarray(written));
  };
}
