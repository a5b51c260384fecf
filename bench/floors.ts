// The floor: what acknowledging alone costs supervisor's own Python helper.

import { ProtocolDriver } from './driver.js';

/**
 * supervisor's own Python helper acknowledging every event and doing nothing else.
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
