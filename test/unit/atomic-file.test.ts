import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeptFile, writeFileAtomic } from '../../src/atomic-file.js';
import { memoryLogger } from '../support/log.js';
import { buildSnapshot } from '../../src/reconcile/snapshot.js';
import { SnapshotFileWriter } from '../../src/reconcile/snapshot-file.js';

const root = mkdtempSync(join(tmpdir(), 'sh-atomic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => mkdtempSync(join(root, `${++n}-`));

/** Both state files the listener writes, each as its writer does it. */
const writers: [string, (path: string, text: string) => Promise<void>][] = [
  [
    'server state file',
    async (path, text) => {
      expect(await new KeptFile(path, memoryLogger(), 'haproxy server state file', 'error').write(text)).toBe(true);
    },
  ],
  [
    'listener state file',
    async (path, text) => {
      const w = new SnapshotFileWriter(path, () => ({ ...buildSnapshot(1, 1, []), text }) as never, memoryLogger());
      w.changed();
      await w.flush();
    },
  ],
];

describe.each(writers)('%s', (_name, write) => {
  it('is a regular file with mode 0640, and no temp file is left', async () => {
    const dir = freshDir();
    const path = join(dir, 'state');
    await write(path, 'one');
    await write(path, 'two');
    expect(lstatSync(path).isFile()).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(readFileSync(path, 'utf8')).toContain('two');
    expect(readdirSync(dir)).toEqual(['state']);
  });

  it('never follows a symlink planted where a temp file could be', async () => {
    const dir = freshDir();
    const path = join(dir, 'state');
    const victim = join(root, `victim-${n}`);
    writeFileSync(victim, 'precious\n');
    // The names a temp file had while they were predictable: the pid, in either writer's pattern.
    for (const name of [`.state.${process.pid}.tmp`, `state.${process.pid}.tmp`]) symlinkSync(victim, join(dir, name));
    await write(path, 'new');
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(path).isFile()).toBe(true);
    expect(readFileSync(path, 'utf8')).toContain('new');
  });
});

describe('writeFileAtomic', () => {
  it('lets concurrent writes to one path each complete whole (server state file)', async () => {
    const dir = freshDir();
    const path = join(dir, 'state');
    const texts = Array.from({ length: 20 }, (_, i) => `write ${i}\n`);
    await Promise.all(texts.map((t) => writeFileAtomic(path, t)));
    expect(texts).toContain(readFileSync(path, 'utf8'));
    expect(readdirSync(dir)).toEqual(['state']);
  });

  it('fails, leaving nothing behind, where the directory is missing', async () => {
    const dir = freshDir();
    await expect(writeFileAtomic(join(dir, 'none', 'state'), 'x')).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('ends the file with a newline', async () => {
    const path = join(freshDir(), 'state');
    await writeFileAtomic(path, 'x');
    expect(readFileSync(path, 'utf8')).toBe('x\n');
    await writeFileAtomic(path, 'y\n');
    expect(readFileSync(path, 'utf8')).toBe('y\n');
  });

  it('keeps mode 0640 whatever the umask', async () => {
    const dir = freshDir();
    const path = join(dir, 'state');
    const old = process.umask(0);
    try {
      await writeFileAtomic(path, 'x');
    } finally {
      process.umask(old);
    }
    expect(statSync(path).mode & 0o777).toBe(0o640);
  });
});

describe('KeptFile', () => {
  it('logs a failure once, and once again when a write works', async () => {
    const dir = freshDir();
    const log = memoryLogger();
    const file = new KeptFile(join(dir, 'none', 'state'), log, 'haproxy server state file', 'error', { socket: 's' });
    expect(await file.write('x')).toBe(false);
    expect(await file.write('x')).toBe(false);
    expect(log.lines.filter((l) => l.includes('cannot write the haproxy server state file'))).toHaveLength(1);
    mkdirSync(join(dir, 'none'));
    expect(await file.write('x')).toBe(true);
    expect(log.lines.filter((l) => l.includes('haproxy server state file written again'))).toHaveLength(1);
  });
});
