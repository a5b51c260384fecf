import { describe, expect, it } from 'vitest';
import { checkServerStateFiles, mayWrite, type StateFileFs } from '../../../src/commands/check.js';

const fs = (kinds: Record<string, 'file' | 'dir' | 'other'>, readOnly: readonly string[] = []): StateFileFs => ({
  kind: (path) => kinds[path] ?? null,
  writable: (path) => !readOnly.includes(path),
  user: 'haproxy-sync',
});
const SOCKETS = ['/run/haproxy/admin.sock', 'tcp://10.0.0.5:9999'];
const line = (paths: readonly (string | null)[], f: StateFileFs) =>
  checkServerStateFiles(paths, SOCKETS, f).map((x) => `${x.verdict} ${x.subject}: ${x.detail}`);

describe('checkServerStateFiles', () => {
  it('not set at all: one skip line saying what is lost', () => {
    expect(line([], fs({}))).toEqual(['skip haproxy server_state_file: not set: an HAProxy reload forgets maint and drain until the listener sets them again']);
    expect(line([null, null], fs({}))).toHaveLength(1);
  });

  it('one line per socket, in socket order; an empty item is none for that socket', () => {
    const f = fs({ '/var/lib/haproxy': 'dir', '/var/lib/haproxy/state': 'file' });
    expect(line(['/var/lib/haproxy/state', null], f)).toEqual([
      'ok haproxy /run/haproxy/admin.sock server_state_file: /var/lib/haproxy/state: /var/lib/haproxy writable by haproxy-sync',
      'skip haproxy tcp://10.0.0.5:9999 server_state_file: none for this socket',
    ]);
  });

  it('a file not there yet is fine when its directory is writable', () => {
    expect(line(['/var/lib/haproxy/new'], fs({ '/var/lib/haproxy': 'dir' }))).toEqual([
      'ok haproxy /run/haproxy/admin.sock server_state_file: /var/lib/haproxy/new: not there yet; /var/lib/haproxy writable by haproxy-sync',
    ]);
  });

  it.each([
    ['/nodir/state', {}, [], '/nodir/state: directory /nodir does not exist'],
    ['/f/state', { '/f': 'file' }, [], '/f/state: /f is not a directory'],
    ['/ro/state', { '/ro': 'dir' }, ['/ro'], '/ro/state: directory /ro is not writable by haproxy-sync'],
    ['/d/state', { '/d': 'dir', '/d/state': 'dir' }, [], '/d/state: not a regular file'],
  ] as const)('%s: FAIL', (path, kinds, readOnly, detail) => {
    expect(line([path], fs(kinds, readOnly))).toEqual([`FAIL haproxy /run/haproxy/admin.sock server_state_file: ${detail}`]);
  });

  it('more files than sockets: FAIL naming the extra one', () => {
    const f = fs({ '/d': 'dir' });
    expect(line(['/d/a', '/d/b', '/d/c'], f)[2]).toBe('FAIL haproxy socket #3 server_state_file: /d/c: more files than sockets (one per socket, in socket order)');
  });
});

describe('an existing state file the user may not write, in a directory it may', () => {
  it('is fine: a new file is renamed over it, which needs only the directory', () => {
    expect(line(['/d/state'], fs({ '/d': 'dir', '/d/state': 'file' }, ['/d/state']))).toEqual([
      'ok haproxy /run/haproxy/admin.sock server_state_file: /d/state: /d writable by haproxy-sync',
    ]);
  });
});

describe('mayWrite', () => {
  const who = { name: 'u', uid: 1000, gids: [1000, 50], why: 'test' };
  it.each([
    [{ mode: 0o755, uid: 1000, gid: 0 }, true],
    [{ mode: 0o555, uid: 1000, gid: 0 }, false],
    [{ mode: 0o775, uid: 0, gid: 50 }, true],
    [{ mode: 0o755, uid: 0, gid: 50 }, false],
    [{ mode: 0o757, uid: 0, gid: 0 }, true],
    [{ mode: 0o755, uid: 0, gid: 0 }, false],
  ])('%o → %s for uid 1000 in groups 1000, 50', (st, want) => {
    expect(mayWrite(st, who)).toBe(want);
  });
  it('root may write anything', () => {
    expect(mayWrite({ mode: 0o500, uid: 5, gid: 5 }, { ...who, uid: 0 })).toBe(true);
  });
});
