// The protocol benchmark's yardsticks: its driver catches a wrong answer, and each floor acknowledges every event.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drive, ProtocolDriver } from '../../bench/driver.js';
import { startFloor, startNodeBlocking, startNodeEventLoop } from '../../bench/floors.js';
import { Supervisor } from '../../bench/frames.js';
import { ALL_PROGRAMS, mixedEvent } from '../../bench/rig.js';
import { requireBinary } from '../support/binaries.js';
import { makeTempDir, removeDir } from '../support/tmp.js';

const EVENTS = 500;

let dir: string;

beforeAll(async () => {
  // The Python floor is supervisor's own childutils, from the same Debian package as supervisord.
  requireBinary('supervisord');
  dir = await makeTempDir('sh-floors-');
});

afterAll(async () => {
  await removeDir(dir);
});

describe('protocol benchmark floors', () => {
  const floors: [string, (stderrPath: string) => Promise<ProtocolDriver>][] = [
    ['python childutils', startFloor],
    ['node, event loop', startNodeEventLoop],
    ['node, blocking read', startNodeBlocking],
  ];
  for (const [name, start] of floors) {
    it(`${name} acknowledges ${EVENTS} events of the mix, non-ASCII names included, one at a time`, async () => {
      const driver = await start(join(dir, `${name.replace(/\W+/g, '-')}.log`));
      try {
        const sup = new Supervisor(ALL_PROGRAMS);
        const result = await drive(driver, EVENTS, (i) => mixedEvent(sup, i));
        expect(result.latenciesMs).toHaveLength(EVENTS);
        expect(result.latenciesMs.every((ms) => ms > 0)).toBe(true);
      } finally {
        await driver.stop();
      }
    });
  }
});

describe('protocol benchmark driver', () => {
  it('fails a listener that answers anything but RESULT 2\\nOK and READY\\n, quoting what it wrote', async () => {
    // READY, then a result supervisord reads as a rejection (reference §1.1).
    const script = `process.stdout.write('READY\\n'); process.stdin.once('data', () => process.stdout.write('RESULT 4\\nFAIL'));`;
    const driver = await ProtocolDriver.start(process.execPath, ['-e', script], { stderrPath: join(dir, 'wrong.log') });
    try {
      const sup = new Supervisor(ALL_PROGRAMS);
      await expect(drive(driver, 3, (i) => mixedEvent(sup, i))).rejects.toThrow(
        /listener wrote "4\\nFAIL" where supervisord expects "2\\nOKREADY\\n"/,
      );
    } finally {
      await driver.stop();
    }
  });
});
