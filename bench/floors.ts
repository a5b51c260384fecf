// What acknowledging alone costs (supervisor's Python helper, Node two ways), and what a system call costs.

import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { requireBuiltCli } from '../test/support/paths.js';
import { ProtocolDriver } from './driver.js';
import { listenerLaunch } from './rig.js';

/**
 * The floor: supervisor's own Python helper acknowledging every event and doing nothing else.
 * childutils reads the payload with `stdin.read(len)` on a text stream, i.e. in characters: UTF-8 is forced so
 * that matches supervisord's code-point count whatever the locale.
 */
const FLOOR_PY = `
import sys
from supervisor import childutils
while True:
    try:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
    except KeyError:  # EOF: readline() gave '' and so no 'len'
        sys.exit(0)
    childutils.listener.ok(sys.stdout)
`;

export function startFloor(stderrPath: string): Promise<ProtocolDriver> {
  return ProtocolDriver.start('/usr/bin/python3', ['-c', FLOOR_PY], { stderrPath, env: { PYTHONIOENCODING: 'utf-8' } });
}

const built = (...path: string[]): string => JSON.stringify(join(dirname(requireBuiltCli()), ...path));

/**
 * Node acknowledging only, through the listener's own protocol path: stdin read by the event loop into one
 * buffer (stdio.ts), each frame parsed, decoded and acknowledged with one write (channel.ts), nothing done.
 */
const EVENT_LOOP_JS = (): string => `
import { runEventChannel } from ${built('supervisor', 'channel.js')};
import { stdinSource, stdoutSink } from ${built('supervisor', 'stdio.js')};
await runEventChannel({ input: stdinSource(), output: stdoutSink(), onEvent: () => {} });
`;

/**
 * Node acknowledging only with no event loop: a blocking read(2) for each frame, as Python's helper does,
 * and the same parser, decoder and write. A listener cannot work this way (while it waits in read() no
 * timer, HAProxy reply, warm-up probe or signal can be handled); it shows what the event loop costs.
 */
const BLOCKING_JS = (): string => `
import { readSync, writeSync } from 'node:fs';
import { decodeEvent } from ${built('supervisor', 'events.js')};
import { ACK_AND_READY, EventParser, READY } from ${built('supervisor', 'protocol.js')};
const parser = new EventParser();
const buffer = Buffer.allocUnsafe(64 * 1024);
writeSync(1, READY);
for (let n; (n = readSync(0, buffer, 0, buffer.length, null)) > 0; ) {
  for (const _ of parser.push(buffer.subarray(0, n)).map(decodeEvent)) writeSync(1, ACK_AND_READY);
}
`;

/** Both Node floors run as the listener does: its shebang's environment and flags. */
function startNode(script: string, stderrPath: string): Promise<ProtocolDriver> {
  const launch = listenerLaunch();
  return ProtocolDriver.start(process.execPath, [...launch.nodeArgs, '--input-type=module', '-e', script], {
    stderrPath,
    env: launch.env,
  });
}

export function startNodeEventLoop(stderrPath: string): Promise<ProtocolDriver> {
  return startNode(EVENT_LOOP_JS(), stderrPath);
}

export function startNodeBlocking(stderrPath: string): Promise<ProtocolDriver> {
  return startNode(BLOCKING_JS(), stderrPath);
}

/** µs per getppid() from Python: what one system call costs on this machine, its overhead near enough. */
export async function syscallMicros(calls = 200_000): Promise<number> {
  const py = `import os, time\nt = time.perf_counter()\nfor _ in range(${calls}): os.getppid()\nprint((time.perf_counter() - t) / ${calls} * 1e6)`;
  const loop = `import time\nt = time.perf_counter()\nfor _ in range(${calls}): pass\nprint((time.perf_counter() - t) / ${calls} * 1e6)`;
  const run = async (code: string): Promise<number> =>
    Number((await promisify(execFile)('/usr/bin/python3', ['-c', code])).stdout.trim());
  // The loop's own cost taken off: what is left is the call into the kernel and back.
  return (await run(py)) - (await run(loop));
}
