import { describe, expect, it } from 'vitest';
import type { ListenerView } from '../../../src/commands/find-listener.js';
import type { SocketStats } from '../../../src/commands/live.js';
import { buildReport, formatUptime, formatWarmup, renderTable, reportJson } from '../../../src/commands/report.js';
import { buildSnapshot, type ProcessSnapshot } from '../../../src/reconcile/snapshot.js';
import { config, info, stat } from './fixtures.js';

const ok = (...rows: ReturnType<typeof stat>[]): SocketStats => ({ ok: true, rows });

describe('buildReport', () => {
  const infos = [info('web1', 'web1'), info('web2', 'web2', 'STOPPED'), info('grp', 'p0'), info('other', 'other'), info('listener', 'listener')];

  it('has one view per mapped process with its servers on every socket, in supervisord order', () => {
    const stats = new Map<string, SocketStats>([
      ['/run/a.sock', ok(stat('site', 'web1', 'UP', 3), stat('site', 'web2', 'MAINT'), stat('pool', 'p0', 'no check'))],
      ['tcp://127.0.0.1:9999', ok(stat('site', 'web1', 'UP'), stat('site', 'web2', 'UP'), stat('pool', 'p0', 'MAINT'))],
    ]);
    const r = buildReport(config(), infos, stats);
    expect(r.processes.map((p) => p.name)).toEqual(['web1:web1', 'web2:web2', 'grp:p0']);
    expect(r.processes[0]?.uptimeS).toBe(3723);
    expect(r.processes[1]?.uptimeS).toBeNull();
    expect(r.processes[0]?.servers).toEqual([
      { backend: 'site', server: 'web1', socket: '/run/a.sock', status: 'UP', sessions: 3, agrees: 'yes', note: '' },
      { backend: 'site', server: 'web1', socket: 'tcp://127.0.0.1:9999', status: 'UP', sessions: 0, agrees: 'yes', note: '' },
    ]);
    expect(r.processes[1]?.servers.map((s) => s.agrees)).toEqual(['yes', 'no']);
    expect(r.processes[2]?.servers.map((s) => s.agrees)).toEqual(['yes', 'no']);
    expect(r.allAgree).toBe(false);
  });

  it('reports an unreachable socket and a server HAProxy does not have', () => {
    const stats = new Map<string, SocketStats>([
      ['/run/a.sock', ok(stat('site', 'web2', 'MAINT'))],
      ['tcp://127.0.0.1:9999', { ok: false, error: 'connect ECONNREFUSED' }],
    ]);
    const r = buildReport(config(), [info('web1', 'web1')], stats);
    expect(r.processes[0]?.servers.map((s) => [s.status, s.agrees, s.note])).toEqual([
      [null, 'no', 'no such server in haproxy'],
      [null, 'unknown', 'socket unreachable'],
    ]);
    expect(r.sockets).toEqual([
      { socket: '/run/a.sock', reachable: true, error: null },
      { socket: 'tcp://127.0.0.1:9999', reachable: false, error: 'connect ECONNREFUSED' },
    ]);
  });
});

describe('rendering', () => {
  const stats = new Map<string, SocketStats>([['/run/a.sock', ok(stat('site', 'web1', 'UP 1/2', 12), stat('site', 'web2', 'UP'))]]);
  const report = buildReport(config(), [info('web1', 'web1'), info('web2', 'web2', 'STOPPED')], stats);

  it('renders an aligned table with process columns on the first row only', () => {
    expect(renderTable(report)).toBe(
      [
        'PROCESS    STATE    UPTIME  SERVER     SOCKET       HAPROXY  SESS  AGREES',
        'web1:web1  RUNNING  1h 2m   site/web1  /run/a.sock  UP 1/2   12    yes',
        'web2:web2  STOPPED  -       site/web2  /run/a.sock  UP       0     no (STOPPED but still UP)',
        '',
      ].join('\n'),
    );
  });

  it('renders JSON with stable snake_case keys', () => {
    const json = JSON.parse(reportJson(report));
    expect(Object.keys(json)).toEqual(['all_agree', 'sockets', 'listener', 'listener_process', 'processes']);
    expect(json.listener).toBeNull();
    expect(json.listener_process).toBeNull();
    expect(json.processes[0]).toEqual({
      name: 'web1:web1',
      group: 'web1',
      process: 'web1',
      state: 'RUNNING',
      pid: 100,
      uptime_s: 3723,
      warmup: null,
      servers: [{ backend: 'site', server: 'web1', socket: '/run/a.sock', status: 'UP 1/2', sessions: 12, agrees: 'yes', note: '' }],
    });
  });

  it.each([
    [null, '-'],
    [7, '7s'],
    [65, '1m 5s'],
    [3723, '1h 2m'],
    [90000, '1d 1h'],
  ])('uptime %s → %s', (s, text) => {
    expect(formatUptime(s)).toBe(text);
  });
});

describe('with the listener state file', () => {
  const NOW = 1_000_000;
  const snap = (warmup: ProcessSnapshot['warmup'], agoS: number, lastError: string | null = null): ProcessSnapshot => ({
    state: 'RUNNING',
    pid: 100,
    warmup,
    warmupAt: NOW - agoS * 1000,
    tries: 4,
    lastError,
  });
  const listener = (processes: Record<string, ProcessSnapshot>, running = true): ListenerView => ({
    stateFile: '/run/sh.json',
    snapshot: buildSnapshot(77, NOW, Object.entries(processes)),
    running,
    error: null,
  });
  const stats = new Map<string, SocketStats>([['/run/a.sock', ok(stat('site', 'web1', 'MAINT'), stat('site', 'web2', 'MAINT'))]]);
  const infos = [info('web1', 'web1'), info('web2', 'web2')];

  it('explains a running server in maint: warming up, or a failed warm-up', () => {
    const r = buildReport(config(), infos, stats, listener({ 'web1:web1': snap('warming', 12), 'web2:web2': snap('deadline', 65, 'http://x/site: timeout after 10000ms') }), NOW);
    expect(r.processes.map((p) => p.servers[0]?.note)).toEqual(['warming up', 'warm-up failed: http://x/site: timeout after 10000ms']);
    const table = renderTable(r);
    expect(table.split('\n')[0]).toMatch(/^PROCESS\s+STATE\s+UPTIME\s+WARM-UP\s+SERVER/);
    expect(table).toMatch(/web1:web1\s+RUNNING\s+1h 2m\s+warming 12s\s+site\/web1/);
    expect(table).toMatch(/web2:web2\s+RUNNING\s+1h 2m\s+failed 1m 5s ago\s+site\/web2/);
    const json = JSON.parse(reportJson(r));
    expect(json.listener).toEqual({ state_file: '/run/sh.json', pid: 77, running: true, error: null });
    expect(json.processes[1].warmup).toEqual({ status: 'deadline', since_s: 65, tries: 4, last_error: 'http://x/site: timeout after 10000ms' });
  });

  it('says when the listener that wrote the file is gone, or the file cannot be read', () => {
    const gone = buildReport(config(), infos, stats, listener({}, false), NOW);
    expect(renderTable(gone)).toContain('listener state file /run/sh.json: written by pid 77, which is not running: WARM-UP may be stale');
    const missing = buildReport(config(), infos, stats, { stateFile: '/run/sh.json', snapshot: null, running: false, error: 'not there' }, NOW);
    expect(renderTable(missing)).toContain('listener state file /run/sh.json: not there');
  });

  it('says whether a listener runs for the config, once, in the table and the JSON', () => {
    const running = buildReport(config(), infos, stats, listener({}, true), NOW, {
      running: true,
      names: ['haproxy-sync:haproxy-sync'],
      pid: 77,
      detail: 'running under supervisord as haproxy-sync:haproxy-sync, pid 77 (its command line names this config)',
    });
    expect(renderTable(running)).toContain('\nlistener: running under supervisord as haproxy-sync:haproxy-sync, pid 77');
    expect(JSON.parse(reportJson(running)).listener_process).toEqual({
      running: true,
      names: ['haproxy-sync:haproxy-sync'],
      pid: 77,
      detail: 'running under supervisord as haproxy-sync:haproxy-sync, pid 77 (its command line names this config)',
    });
    const detail = 'no process of supervisord runs with --config /etc/sh.ini; state file /run/sh.json: written by pid 77, which is not running';
    const dead = buildReport(config(), infos, stats, listener({}, false), NOW, { running: false, detail });
    const table = renderTable(dead);
    expect(table).toContain(`\nlistener: NOT RUNNING: ${detail}\n`);
    expect(table).not.toContain('WARM-UP may be stale');
    expect(JSON.parse(reportJson(dead)).listener_process).toEqual({ running: false, names: [], pid: null, detail });
  });

  it.each([
    [null, '-'],
    [snap('none', 3), 'none'],
    [snap('passed', 7), 'passed 7s ago'],
    [snap('forced-ready', 7), 'forced ready 7s ago'],
    [snap('cancelled', 0), 'cancelled 0s ago'],
  ])('WARM-UP column %#', (w, text) => {
    expect(formatWarmup(w, NOW)).toBe(text);
  });
});
