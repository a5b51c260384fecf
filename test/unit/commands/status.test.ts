import { describe, expect, it } from 'vitest';
import type { ListenerFinding } from '../../../src/commands/find-listener.js';
import type { LiveHaproxy } from '../../../src/commands/live.js';
import { status } from '../../../src/commands/status.js';
import { config, info, stat } from './fixtures.js';

const socket = (label: string): LiveHaproxy =>
  ({ label, showStat: async () => [stat('site', 'web1', 'UP'), stat('site', 'web2', 'UP'), stat('pool', 'p0', 'UP')] }) as unknown as LiveHaproxy;

async function run(found: ListenerFinding, json = false) {
  let text = '';
  const code = await status({
    config: config(),
    haproxies: [socket('/run/a.sock'), socket('tcp://127.0.0.1:9999')],
    supervisor: { getAllProcessInfo: async () => [info('web1', 'web1'), info('web2', 'web2'), info('grp', 'p0')] },
    json,
    out: (t) => (text += t),
    now: () => 0,
    locate: async () => found,
  });
  return { code, text };
}

describe('status', () => {
  it('all agree and the listener runs: exit 0, and it says which listener', async () => {
    const r = await run({ running: true, names: ['haproxy-sync:haproxy-sync'], pid: 7, detail: 'running under supervisord as haproxy-sync:haproxy-sync, pid 7' });
    expect(r.code).toBe(0);
    expect(r.text).toContain('\nlistener: running under supervisord as haproxy-sync:haproxy-sync, pid 7\n');
  });

  it('all agree but no listener runs for this config: exit 1, and it says so', async () => {
    const r = await run({ running: false, detail: 'no process of supervisord runs with --config /etc/sh.ini' });
    expect(r.code).toBe(1);
    expect(r.text).toContain('\nlistener: NOT RUNNING: no process of supervisord runs with --config /etc/sh.ini\n');
    const j = await run({ running: false, detail: 'gone' }, true);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.text)).toMatchObject({ all_agree: true, listener_process: { running: false, detail: 'gone' } });
  });

  it('cannot tell (supervisord on another host): says so; the exit code is the servers’ alone', async () => {
    const r = await run({ running: null, detail: 'cannot tell: supervisord is on another host (run status and check there)' });
    expect(r.code).toBe(0);
    expect(r.text).toContain('\nlistener: cannot tell: supervisord is on another host');
  });
});

describe('status, with supervisord unreachable', () => {
  const down = async (json: boolean) => {
    let text = '';
    const code = await status({
      config: config(),
      haproxies: [socket('/run/a.sock')],
      supervisor: {
        getAllProcessInfo: async () => {
          throw new Error('connect ENOENT /run/supervisor.sock');
        },
      },
      json,
      out: (t) => (text += t),
      now: () => 0,
    });
    return { code, text };
  };

  it("still shows HAProxy's view of the config's backends; exit 1", async () => {
    const r = await down(false);
    expect(r.code).toBe(1);
    expect(r.text).toBe(
      [
        'supervisord: connect ENOENT /run/supervisor.sock',
        "HAProxy alone (no answer from supervisord): the servers of the config's backends",
        'SERVER     SOCKET       HAPROXY  SESS',
        'site/web1  /run/a.sock  UP       0',
        'site/web2  /run/a.sock  UP       0',
        'pool/p0    /run/a.sock  UP       0',
        '',
      ].join('\n'),
    );
  });

  it('--json: the error and the servers', async () => {
    const r = await down(true);
    expect(JSON.parse(r.text)).toMatchObject({
      error: 'supervisord: connect ENOENT /run/supervisor.sock',
      sockets: [{ socket: '/run/a.sock', reachable: true, error: null }],
      servers: [{ backend: 'site', server: 'web1', socket: '/run/a.sock', status: 'UP', sessions: 0 }, {}, {}],
    });
  });
});
