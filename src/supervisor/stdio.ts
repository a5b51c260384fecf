// The listener's real stdin and stdout as the event channel's source and sink: the only code that touches them.

import { fstatSync } from 'node:fs';
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import { fdWriter, type FdWriteOptions } from '../fd-write.js';
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

/**
 * stdout, written synchronously (fd-write.ts): a token is ~20 bytes, below PIPE_BUF, so the write is atomic
 * and supervisord's pipe, which it reads continuously, never makes it wait. Should the fd block after all,
 * tokens go on through process.stdout (by default), in order. Failures go to the handler given at open.
 */
export function stdoutSink(options: FdWriteOptions = {}): TokenSink {
  let onError: (err: unknown) => void = () => {};
  let slow: ReturnType<typeof streamSink> | null = null;
  const write = fdWriter({
    fd: options.fd ?? 1,
    writeSync: options.writeSync,
    onError: (err) => onError(err),
    fallback: () => {
      const sink = streamSink((options.fallback ?? (() => process.stdout))());
      sink.open(onError);
      slow = sink;
      return sink;
    },
  });
  return {
    open(handler) {
      onError = handler;
    },
    write,
    drained() {
      return slow === null ? Promise.resolve() : slow.drained();
    },
  };
}
