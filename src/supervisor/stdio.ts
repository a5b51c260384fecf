// The listener's real stdin and stdout as the event channel's source and sink: the only code that touches them.

import type { ChunkSource, TokenSink } from './channel.js';
import { streamSink, streamSource } from './streams.js';

/** stdin, whatever supervisord (a pipe) or an operator (a file, a terminal) made it. */
export function stdinSource(): ChunkSource {
  return streamSource(process.stdin);
}

/** stdout, for protocol tokens only; wait for drained() before exiting, or the last acknowledgement may be lost. */
export function stdoutSink(): TokenSink {
  return streamSink(process.stdout);
}
