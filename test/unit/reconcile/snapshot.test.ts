import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readListenerFile } from '../../../src/commands/find-listener.js';
import { memoryLogger } from '../../support/log.js';
import { buildSnapshot, parseSnapshot, type ProcessSnapshot } from '../../../src/reconcile/snapshot.js';
import { SnapshotFileWriter } from '../../../src/reconcile/snapshot-file.js';

const dir = mkdtempSync(join(tmpdir(), 'sh-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const P: ProcessSnapshot = { state: 'RUNNING', pid: 42, warmup: 'passed', warmupAt: 5, tries: 3, lastError: null };

describe('snapshot', () => {
  it('round-trips through JSON', () => {
    const s = buildSnapshot(9, 10, [['web1:web1', P]]);
    expect(parseSnapshot(JSON.stringify(s))).toEqual(s);
  });

  it.each([
    ['{}', 'not a supervisor-haproxy state file'],
    ['{"version":2,"pid":1,"updatedAt":1,"processes":{}}', 'not a supervisor-haproxy state file'],
    ['{"version":1,"pid":1,"updatedAt":1,"processes":{"a:a":{"state":"NOPE","warmup":"passed"}}}', 'process a:a: bad state'],
    ['{"version":1,"pid":1,"updatedAt":1,"processes":{"a:a":{"state":null,"warmup":"hot"}}}', 'process a:a: bad warmup'],
  ])('refuses %s', (text, message) => {
    expect(() => parseSnapshot(text)).toThrow(message);
  });
});

describe('SnapshotFileWriter', () => {
  it('writes the latest snapshot once for a burst of changes, atomically', async () => {
    const path = join(dir, 'state.json');
    let n = 0;
    const w = new SnapshotFileWriter(path, () => buildSnapshot(1, ++n, [['web1:web1', P]]), memoryLogger());
    for (let i = 0; i < 100; i++) w.changed();
    await w.flush();
    expect(n).toBe(1);
    expect(parseSnapshot(readFileSync(path, 'utf8')).updatedAt).toBe(1);
    w.changed();
    await w.flush();
    expect(parseSnapshot(readFileSync(path, 'utf8')).updatedAt).toBe(2);
  });

  it('logs a write failure once, not on every change', async () => {
    const log = memoryLogger();
    const w = new SnapshotFileWriter(join(dir, 'no-such-dir', 'state.json'), () => buildSnapshot(1, 1, []), log);
    w.changed();
    await w.flush();
    w.changed();
    await w.flush();
    expect(log.lines.filter((l) => l.includes('cannot write the state file'))).toHaveLength(1);
  });
});

describe('readListenerFile', () => {
  it('reads the snapshot and tells whether its writer runs', async () => {
    const path = join(dir, 'mine.json');
    writeFileSync(path, JSON.stringify(buildSnapshot(process.pid, 1, [['a:a', P]])));
    expect(await readListenerFile(path)).toMatchObject({ running: true, error: null, snapshot: { pid: process.pid } });
    writeFileSync(path, JSON.stringify(buildSnapshot(2 ** 22 + 12345, 1, [])));
    expect((await readListenerFile(path)).running).toBe(false);
  });

  it('says what is wrong with a missing or broken file', async () => {
    expect((await readListenerFile(join(dir, 'none.json'))).error).toBe('not there (is the listener running with this config?)');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"version":7}');
    expect((await readListenerFile(bad)).error).toBe('not a supervisor-haproxy state file (version 1)');
  });
});
