// Bench only, loaded into the listener with `--import`: on SIGUSR2, a full GC, then the live heap to a file.

import { appendFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const out = process.env['BENCH_HEAP_FILE'];
if (out !== undefined && out !== '') {
  // Exposes gc() to contexts created from now on (V8 reads - and _ alike); the listener itself never sees it.
  setFlagsFromString('--expose_gc');
  const gc = runInNewContext('gc') as () => void;
  process.on('SIGUSR2', () => {
    // Twice: objects a first collection only unlinks (weak references, finalizers) go in the second.
    gc();
    gc();
    // Synchronously, and never to stdout: that is supervisord's protocol channel.
    appendFileSync(out, `${process.memoryUsage().heapUsed}\n`);
  });
}
