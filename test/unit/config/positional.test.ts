import { describe, expect, it } from 'vitest';
import { DEFAULT_WARMUP } from '../../../src/config/parse.js';
import { COMMAND_LINE, parsePositional } from '../../../src/config/positional.js';
import { resolveProcess, warmupSpecOf } from '../../../src/config/resolve.js';
import { expectConfigError } from './fixtures.js';

describe('parsePositional: the Python tool\'s command line', () => {
  it('reads its README example', () => {
    const config = parsePositional(
      ['tcp://127.0.0.1:8801', 'instance1:plone01/plone0101', 'instance2:plone01/plone0102'],
      {},
    );
    expect(config.file).toBe(COMMAND_LINE);
    expect(config.haproxy.sockets).toHaveLength(1);
    expect(config.haproxy.sockets[0]).toMatchObject({ kind: 'tcp', host: '127.0.0.1', port: 8801 });
    expect(config.haproxy.timeoutMs).toBe(2000);
    expect(config.haproxy.heartbeatMs).toBe(1000);
    expect(config.supervisor).toEqual({ url: null, username: null, password: null, timeoutMs: 5000 });
    expect(config.rules).toEqual([
      {
        section: 'program:instance1',
        match: { kind: 'process', group: null, process: 'instance1' },
        servers: ['plone01/plone0101'],
        warmup: DEFAULT_WARMUP,
        onStopping: 'maint',
      },
      {
        section: 'program:instance2',
        match: { kind: 'process', group: null, process: 'instance2' },
        servers: ['plone01/plone0102'],
        warmup: DEFAULT_WARMUP,
        onStopping: 'maint',
      },
    ]);
  });

  it('has no warm-up: ready as soon as RUNNING', () => {
    const config = parsePositional(['tcp://localhost:8801', 'instance1:plone04/plone0401'], {});
    const resolved = resolveProcess(config, { group: 'instance1', process: 'instance1' });
    expect(resolved).toMatchObject({ kind: 'mapped', servers: [{ backend: 'plone04', server: 'plone0401' }] });
    expect(warmupSpecOf(config.rules[0]!)).toBeNull();
  });

  it('matches a bare program in any group, like the Python tool (it matched on processname)', () => {
    const config = parsePositional(['/run/haproxy.sock', 'web1:be/s1'], {});
    expect(resolveProcess(config, { group: 'web', process: 'web1' })).toMatchObject({ kind: 'mapped' });
  });

  it('splits at the last ":" before the first "/", so a program may be group:process', () => {
    const config = parsePositional(['/run/haproxy.sock', 'app:app_00:plone/app00', 'inst:be/srv:1'], {});
    expect(config.rules.map((r) => [r.match, r.servers])).toEqual([
      [{ kind: 'process', group: 'app', process: 'app_00' }, ['plone/app00']],
      [{ kind: 'process', group: null, process: 'inst' }, ['be/srv:1']],
    ]);
  });

  it('takes several sockets, several servers, repeated programs and templates', () => {
    const config = parsePositional(
      ['/run/a.sock,tcp://10.0.0.2:9999', 'web:be/a,be2/a', 'web:be3/a', 'web:be/a', 'app:plone/%(process_name)s'],
      {},
    );
    expect(config.haproxy.sockets).toHaveLength(2);
    expect(config.rules.map((r) => [r.section, r.servers])).toEqual([
      ['program:web', ['be/a', 'be2/a', 'be3/a']],
      ['program:app', ['plone/%(process_name)s']],
    ]);
  });

  it('takes the supervisord url and credentials from the environment', () => {
    const config = parsePositional(['/run/a.sock', 'web:be/a'], {
      SUPERVISOR_SERVER_URL: 'unix:///run/supervisor.sock',
      SUPERVISOR_USERNAME: 'alice',
      SUPERVISOR_PASSWORD: 'secret',
    });
    expect(config.supervisor).toEqual({
      url: 'unix:///run/supervisor.sock',
      username: 'alice',
      password: 'secret',
      timeoutMs: 5000,
    });
  });

  const where = (key: string | null, detail: string | RegExp) => ({ file: COMMAND_LINE, section: null, key, detail });

  it('needs a socket and at least one mapping', () => {
    expectConfigError(() => parsePositional([], {}), where(null, 'expected SOCKET PROGRAM:BACKEND/SERVER'));
    expectConfigError(() => parsePositional(['tcp://127.0.0.1:8801'], {}), where('tcp://127.0.0.1:8801', 'at least one'));
  });

  it.each([
    ['instance1', 'expected PROGRAM:BACKEND/SERVER'],
    ['instance1/plone', 'expected PROGRAM:BACKEND/SERVER'],
    [':plone/s', 'expected PROGRAM:BACKEND/SERVER'],
    ['instance1:plone01', 'expected PROGRAM:BACKEND/SERVER'],
    ['instance1:plone01/', 'not a valid HAProxy name'],
    ['instance1:be;x/s', 'not a valid HAProxy name'],
    ['instance1:be/s;show info', 'not a valid HAProxy name'],
    ['a b:be/s', 'not a supervisord name'],
    ['a:b:c:be/s', 'PROCESS or GROUP:PROCESS'],
    ['app:be/%(host_node_name)s', 'unknown template'],
  ])('refuses the mapping %j, naming it', (arg, detail) => {
    expectConfigError(() => parsePositional(['/run/a.sock', 'ok:be/s', arg], {}), where(arg, detail));
  });

  it('refuses a bad socket, naming it', () => {
    expectConfigError(() => parsePositional(['/run/a.sock,,/run/b.sock', 'ok:be/s'], {}), where('/run/a.sock,,/run/b.sock', 'empty entry'));
  });

  it('refuses a bad $SUPERVISOR_SERVER_URL', () => {
    expectConfigError(
      () => parsePositional(['/run/a.sock', 'ok:be/s'], { SUPERVISOR_SERVER_URL: 'ftp://x' }),
      where('$SUPERVISOR_SERVER_URL', 'expected unix:///'),
    );
  });
});
