// The listener's real stdin and stdout as the event channel's source and sink: the only code that touches them.

import { fstatSync, writeSync as fsWriteSync } from 'node:fs';
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import type { ChunkSource, TokenSink } from './channel.js';
import { streamSink, streamSource } from './streams.js';

/** A frame is a few hundred bytes and one is in flight at a time; a whole backlog still fits in one read. */
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * stdin as supervisord gives it, a pipe: read straight into one fixed buffer (net.Socket's `onread`), with no
 * stream between the pipe and the parser. Anything else (a file, a terminal when run by hand) goes through
 * process.stdin.
 */
export function stdinSource(fd = 0): ChunkSource {
  const stat = fstatSync(fd);
  if (!stat.isFIFO() && !stat.isSocket()) return streamSource(process.stdin);
  let socket: Socket | null = null;
  return {
    start(h) {
      const read: OnReadOpts = {
        buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
        callback: (n, buf) => {
          h.data(Buffer.from(buf.buffer, buf.byteOffset, n));
          return true;
        },
      };
      // `onread` is a documented constructor option (Node docs, net.Socket) that @types/node 20 lacks.
      const options: SocketConstructorOpts & { onread: OnReadOpts } = { fd, readable: true, writable: false, onread: read };
      socket = new Socket(options);
      socket.on('end', () => h.end());
      socket.on('error', (err) => h.error(err));
    },
    stop() {
      socket?.pause();
    },
  };
}

export interface StdoutSinkOptions {
  readonly fd?: number;
  /** fs.writeSync; injectable so a test can make it answer EAGAIN. */
  readonly writeSync?: (fd: number, text: string) => number;
  /** Where writing goes on once the fd would block: process.stdout by default. */
  readonly fallback?: () => NodeJS.WritableStream;
}

/**
 * stdout, written synchronously: a token is ~20 bytes, below PIPE_BUF, so the write is atomic and supervisord's
 * pipe, which it reads continuously, never makes it wait. If the fd is non-blocking after all (someone set
 * O_NONBLOCK on a shared description) and a write would block, the rest goes through process.stdout, which
 * queues and retries, and stays there so the order of tokens is kept.
 */
export function stdoutSink(options: StdoutSinkOptions = {}): TokenSink {
  const fd = options.fd ?? 1;
  const writeSync = options.writeSync ?? ((f: number, text: string) => fsWriteSync(f, text));
  let onError: (err: unknown) => void = () => {};
  let slow: TokenSink | null = null;
  const goSlow = (): TokenSink => {
    slow = streamSink((options.fallback ?? (() => process.stdout))());
    slow.open(onError);
    return slow;
  };
  return {
    open(handler) {
      onError = handler;
    },
    write(text) {
      if (slow !== null) {
        slow.write(text);
        return;
      }
      let written = 0;
      try {
        written = writeSync(fd, text);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') {
          onError(err);
          return;
        }
      }
      // A token is ASCII: characters and bytes agree.
      if (written < text.length) goSlow().write(text.slice(written));
    },
    drained() {
      return slow === null ? Promise.resolve() : slow.drained();
    },
  };
}
