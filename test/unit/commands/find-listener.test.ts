import { describe, expect, it } from 'vitest';
import { configArgs, findListener, isLocalUrl, type FindListenerInput } from '../../../src/commands/find-listener.js';
import type { ListenerView } from '../../../src/commands/find-listener.js';
import { buildSnapshot } from '../../../src/reconcile/snapshot.js';
import { info } from './fixtures.js';

const INFOS = [info('web1', 'web1', 'RUNNING', 100), info('haproxy-sync', 'haproxy-sync', 'RUNNING', 200), info('old', 'old', 'STOPPED')];
const input = (over: Partial<FindListenerInput> = {}): FindListenerInput => ({
  infos: INFOS,
  configFile: 'sh.ini',
  configReal: '/etc/sh.ini',
  configsOf: new Map([
    [100, []],
    [200, ['/etc/sh.ini']],
  ]),
  stateFile: null,
  local: true,
  ...over,
});
const view = (pid: number, running: boolean): ListenerView => ({ stateFile: '/run/sh.json', snapshot: buildSnapshot(pid, 0, []), running, error: null });

describe('findListener', () => {
  it('finds the RUNNING process whose command line names this config, and says which', () => {
    expect(findListener(input())).toEqual({
      running: true,
      names: ['haproxy-sync:haproxy-sync'],
      pid: 200,
      detail: 'running under supervisord as haproxy-sync:haproxy-sync, pid 200 (its command line names this config)',
    });
  });

  it('a listener of another config is not this one', () => {
    const r = findListener(input({ configsOf: new Map([[200, ['/etc/other.ini']]]) }));
    expect(r).toEqual({ running: false, detail: 'no process of supervisord runs with --config sh.ini' });
  });

  it('falls back on the state file pid when /proc says nothing, if supervisord runs that pid', () => {
    const unreadable = new Map<number, null>([
      [100, null],
      [200, null],
    ]);
    expect(findListener(input({ configsOf: unreadable, stateFile: view(200, true) }))).toMatchObject({ running: true, pid: 200 });
    // A live pid that is not supervisord's (a listener run by hand, a reused pid) does not count.
    expect(findListener(input({ configsOf: unreadable, stateFile: view(999, true) }))).toMatchObject({ running: false });
  });

  it('not running: says what the state file says too', () => {
    const none = new Map<number, string[]>();
    expect(findListener(input({ configsOf: none, stateFile: view(321, false) })).detail).toBe(
      'no process of supervisord runs with --config sh.ini; state file /run/sh.json: written by pid 321, which is not running',
    );
    const missing: ListenerView = { stateFile: '/run/sh.json', snapshot: null, running: false, error: 'not there' };
    expect(findListener(input({ configsOf: none, stateFile: missing })).detail).toBe(
      'no process of supervisord runs with --config sh.ini; state file /run/sh.json: not there',
    );
  });

  it('only RUNNING processes count', () => {
    const stopped = [info('haproxy-sync', 'haproxy-sync', 'STOPPING', 200)];
    expect(findListener(input({ infos: stopped })).running).toBe(false);
  });

  it('two listeners on one config: both named, with a warning', () => {
    const r = findListener(input({ configsOf: new Map([[100, ['/etc/sh.ini']], [200, ['/etc/sh.ini']]]) }));
    expect(r).toMatchObject({ running: true, names: ['web1:web1', 'haproxy-sync:haproxy-sync'] });
    expect(r.detail).toContain('2 listeners on one config');
  });

  it('cannot tell for a supervisord on another host', () => {
    expect(findListener(input({ local: false }))).toEqual({ running: null, detail: 'cannot tell: supervisord is on another host (run status and check there)' });
  });
});

describe('configArgs and isLocalUrl', () => {
  it('reads --config FILE, --config=FILE and -c FILE', () => {
    expect(configArgs(['/usr/bin/node', '/usr/lib/node_modules/supervisor-haproxy/dist/cli.js', '--config', '/etc/a.ini'])).toEqual(['/etc/a.ini']);
    expect(configArgs(['supervisor-haproxy', '--config=b.ini'])).toEqual(['b.ini']);
    expect(configArgs(['supervisor-haproxy', '-c', 'c.ini', '--log-level', 'debug'])).toEqual(['c.ini']);
    expect(configArgs(['supervisor-haproxy', '--config'])).toEqual([]);
  });

  it.each([
    ['unix:///var/run/supervisor.sock', true],
    ['http://127.0.0.1:9001', true],
    ['http://localhost:9001', true],
    ['http://[::1]:9001', true],
    ['http://10.0.0.5:9001', false],
    ['nonsense', false],
  ])('%s local: %s', (url, local) => {
    expect(isLocalUrl(url)).toBe(local);
  });
});

describe('a copy of the config naming the same state file', () => {
  it('is not running although the state file pid is a running listener: that one names the original', () => {
    const other = new Map([[200, ['/etc/original.ini']]]);
    expect(findListener(input({ configsOf: other, stateFile: view(200, true) }))).toMatchObject({ running: false });
  });
});
