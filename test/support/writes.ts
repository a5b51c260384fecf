// Stand-ins for the two ways a write can go: an fd that fails with an errno, and a stream that records.

import { Writable } from 'node:stream';

/** An error as fs.writeSync throws it. */
export const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`write ${code}`), { code });

/** A Writable that records each chunk it is given, as text. */
export class RecordingStream extends Writable {
  readonly writes: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.writes.push(chunk.toString('utf8'));
    done();
  }
}
