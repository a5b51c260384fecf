import { describe, expect, it } from 'vitest';
import {
  DEFAULT_WARMUP,
  parseConfig,
  parseExpect,
  parseHeaders,
  parseRequests,
  parseServerTemplates,
} from '../../../src/config/parse.js';
import type { Config } from '../../../src/config/types.js';
import { BASE, contractExample, expectConfigError, ini, withBase, type Sections } from './fixtures.js';

const FILE = '/etc/supervisor-haproxy.ini';

const parse = (sections: Sections, env: Record<string, string | undefined> = {}): Config =>
  parseConfig(ini(sections), FILE, env);

describe('parseConfig: the contract example', () => {
  const env = {
    SUPERVISOR_SERVER_URL: 'unix:///ignored/because/the/file/says.sock',
    SUPERVISOR_USERNAME: 'alice',
    SUPERVISOR_PASSWORD: 'secret',
  };

  it('reads every section and key', () => {
    const config = parseConfig(contractExample(), FILE, env);
    expect(config.file).toBe(FILE);
    expect(config.haproxy.sockets).toHaveLength(1);
    expect(config.haproxy.sockets[0]).toMatchObject({ kind: 'unix', path: '/run/haproxy/admin.sock' });
    expect(config.haproxy.timeoutMs).toBe(2000);
    expect(config.haproxy.heartbeatMs).toBe(1000);
    expect(config.supervisor).toEqual({
      url: 'unix:///var/run/supervisor.sock',
      username: 'alice',
      password: 'secret',
      timeoutMs: 5000,
    });
    const common = {
      expect: [{ min: 200, max: 399 }],
      intervalMs: 1000,
      timeoutMs: 10_000,
      deadlineMs: 300_000,
      onDeadline: 'maint',
      maxTimeMs: null,
      passes: 1,
      neverEmpty: true,
    };
    expect(config.rules).toEqual([
      {
        section: 'program:instance1',
        match: { kind: 'process', group: null, process: 'instance1' },
        servers: ['plone/instance1'],
        warmup: { ...common, requests: ['/Plone', '/Plone/news'], headers: [['Host', 'www.example.org']] },
        onStopping: 'maint',
      },
      {
        section: 'group:app',
        match: { kind: 'group', group: 'app' },
        servers: ['plone/%(process_name)s'],
        warmup: { ...common, requests: ['/Plone'], headers: [] },
        onStopping: 'maint',
      },
    ]);
  });

  it('reads the same with CRLF line endings and a byte-order mark', () => {
    const crlf = `\uFEFF${contractExample().replace(/\n/g, '\r\n')}`;
    expect(parseConfig(crlf, FILE, env)).toEqual(parseConfig(contractExample(), FILE, env));
  });
});

describe('parseConfig: defaults', () => {
  it('fills in every default for the smallest config', () => {
    const config = parse(BASE);
    expect(config.haproxy.timeoutMs).toBe(2000);
    expect(config.haproxy.heartbeatMs).toBe(1000);
    expect(config.supervisor).toEqual({ url: null, username: null, password: null, timeoutMs: 5000 });
    expect(config.rules).toEqual([
      {
        section: 'program:web',
        match: { kind: 'process', group: null, process: 'web' },
        servers: ['be/web1'],
        warmup: {
          requests: [],
          headers: [],
          expect: [{ min: 200, max: 399 }],
          intervalMs: 1000,
          timeoutMs: 10_000,
          deadlineMs: 300_000,
          onDeadline: 'maint',
          maxTimeMs: null,
          passes: 1,
          neverEmpty: true,
        },
        onStopping: 'maint',
      },
    ]);
    expect(config.rules[0]?.warmup).toEqual(DEFAULT_WARMUP);
  });

  it('takes the supervisord url and credentials from the environment supervisord sets', () => {
    const config = parse(BASE, {
      SUPERVISOR_SERVER_URL: 'http://127.0.0.1:9001',
      SUPERVISOR_USERNAME: 'alice',
      SUPERVISOR_PASSWORD: 'secret',
    });
    expect(config.supervisor).toMatchObject({ url: 'http://127.0.0.1:9001', username: 'alice', password: 'secret' });
  });

  it('treats empty environment values as unset', () => {
    const config = parse(BASE, { SUPERVISOR_SERVER_URL: '', SUPERVISOR_USERNAME: '', SUPERVISOR_PASSWORD: '' });
    expect(config.supervisor).toMatchObject({ url: null, username: null, password: null });
  });

  it('prefers the file over the environment, key by key', () => {
    const config = parse(
      withBase({ supervisor: { url: 'unix:///run/s.sock', username: 'bob', timeout: '7s' } }),
      { SUPERVISOR_SERVER_URL: 'http://127.0.0.1:9001', SUPERVISOR_USERNAME: 'alice', SUPERVISOR_PASSWORD: 'secret' },
    );
    expect(config.supervisor).toEqual({ url: 'unix:///run/s.sock', username: 'bob', password: 'secret', timeoutMs: 7000 });
  });

  it('reads [listener] state_file (none by default)', () => {
    expect(parse(BASE).listener).toEqual({ stateFile: null });
    expect(parse(withBase({ listener: { state_file: '/run/sh/state.json' } })).listener).toEqual({ stateFile: '/run/sh/state.json' });
  });

  it('reads [haproxy] timeout, heartbeat and several sockets', () => {
    const config = parse(
      withBase({ haproxy: { socket: '/run/a.sock, tcp://127.0.0.1:9999', timeout: '500ms', heartbeat: '10s' } }),
    );
    expect(config.haproxy.sockets).toHaveLength(2);
    expect(config.haproxy.sockets[0]).toMatchObject({ kind: 'unix', path: '/run/a.sock' });
    expect(config.haproxy.sockets[1]).toMatchObject({ kind: 'tcp', host: '127.0.0.1', port: 9999 });
    expect(config.haproxy.timeoutMs).toBe(500);
    expect(config.haproxy.heartbeatMs).toBe(10_000);
  });

  it('gives programs the [warmup] defaults, and lets each override every one', () => {
    const config = parse(
      withBase({
        warmup: {
          warmup: '/Plone',
          headers: 'Host: a.example',
          expect: '200',
          interval: '2s',
          timeout: '3s',
          deadline: '1m',
          on_deadline: 'ready',
        },
        'program:other': {
          servers: 'be/other',
          warmup: 'http://127.0.0.1:8080/x',
          headers: 'Host: b.example',
          expect: '200-204, 302',
          interval: '100ms',
          timeout: '1s',
          deadline: '30s',
          on_deadline: 'maint',
          on_stopping: 'drain',
        },
      }),
    );
    expect(config.rules[0]?.warmup).toEqual({
      requests: ['/Plone'],
      headers: [['Host', 'a.example']],
      expect: [{ min: 200, max: 200 }],
      intervalMs: 2000,
      timeoutMs: 3000,
      deadlineMs: 60_000,
      onDeadline: 'ready',
      maxTimeMs: null,
      passes: 1,
      neverEmpty: true,
    });
    expect(config.rules[0]?.onStopping).toBe('maint');
    expect(config.rules[1]?.warmup).toEqual({
      requests: ['http://127.0.0.1:8080/x'],
      headers: [['Host', 'b.example']],
      expect: [
        { min: 200, max: 204 },
        { min: 302, max: 302 },
      ],
      intervalMs: 100,
      timeoutMs: 1000,
      deadlineMs: 30_000,
      onDeadline: 'maint',
      maxTimeMs: null,
      passes: 1,
      neverEmpty: true,
    });
    expect(config.rules[1]?.onStopping).toBe('drain');
  });

  it('lets a program opt out of the default warm-up and headers with an empty value', () => {
    const config = parse(
      withBase({ warmup: { warmup: '/Plone', headers: 'Host: a' }, 'program:web': { warmup: '', headers: '' } }),
    );
    expect(config.rules[0]?.warmup.requests).toEqual([]);
    expect(config.rules[0]?.warmup.headers).toEqual([]);
  });

  it('reads warm means fast (max_time, passes), never_empty and concurrency; a program overrides the first three', () => {
    const config = parse(
      withBase({
        warmup: { max_time: '800ms', passes: '2', never_empty: 'no', concurrency: '3' },
        'program:web': { never_empty: 'yes', passes: '3', max_time: '1.5s' },
      }),
    );
    expect(config.warmupConcurrency).toBe(3);
    expect(config.rules[0]?.warmup).toMatchObject({ maxTimeMs: 1500, passes: 3, neverEmpty: true });
    expect(parse(withBase({ warmup: { max_time: '800ms', passes: '2', never_empty: 'off' } })).rules[0]?.warmup).toMatchObject({
      maxTimeMs: 800,
      passes: 2,
      neverEmpty: false,
    });
    expect(parse(BASE).warmupConcurrency).toBeNull();
  });

  it('reads the [warmup] section wherever it is in the file', () => {
    const config = parse({ ...BASE, warmup: { warmup: '/late' } });
    expect(config.rules[0]?.warmup.requests).toEqual(['/late']);
  });
});

describe('parseConfig: section names', () => {
  it('keeps a dotted section name whole (ini would nest it)', () => {
    const config = parse(
      withBase({
        'program:site.example': { servers: 'be.example/site.example' },
        'group:web.v2': { servers: 'be/%(process_name)s' },
        'program:shop.example:inst.1': { servers: 'shop/one' },
      }),
    );
    expect(config.rules.map((r) => [r.section, r.match])).toEqual([
      ['program:web', { kind: 'process', group: null, process: 'web' }],
      ['program:site.example', { kind: 'process', group: null, process: 'site.example' }],
      ['group:web.v2', { kind: 'group', group: 'web.v2' }],
      ['program:shop.example:inst.1', { kind: 'process', group: 'shop.example', process: 'inst.1' }],
    ]);
    expect(config.rules[1]?.servers).toEqual(['be.example/site.example']);
  });

  it('accepts non-ASCII supervisord names', () => {
    const config = parse(withBase({ 'program:café': { servers: 'be/cafe' }, 'group:crème': { servers: 'be/creme' } }));
    expect(config.rules.map((r) => r.match)).toContainEqual({ kind: 'process', group: null, process: 'café' });
    expect(config.rules.map((r) => r.match)).toContainEqual({ kind: 'group', group: 'crème' });
  });

  it('accepts comments after a section header, with ; or #', () => {
    const text = ['[haproxy] ; the load balancer', 'socket = /run/a.sock', '[program:web]   # the site', 'servers = be/s'];
    const config = parseConfig(text.join('\n'), FILE, {});
    expect(config.rules).toHaveLength(1);
    expect(config.rules[0]?.servers).toEqual(['be/s']);
  });
});

describe('parseConfig: ini values', () => {
  it('strips inline comments after whitespace and keeps escaped or quoted ; and #', () => {
    const text = ini(BASE).concat(
      '[program:shop]\n',
      'servers = be/shop ; a comment\n',
      'warmup = /search?a=1\\;b=2, /next\\#frag\n',
      'headers = "Cookie: a=1; b=2"\n',
    );
    const rule = parseConfig(text, FILE, {}).rules[1];
    expect(rule?.servers).toEqual(['be/shop']);
    expect(rule?.warmup.requests).toEqual(['/search?a=1;b=2', '/next#frag']);
    expect(rule?.warmup.headers).toEqual([['Cookie', 'a=1; b=2']]);
  });
});

describe('parseConfig: what bad input gets', () => {
  const cases: [string, Sections, string | null, string | null, string | RegExp][] = [
    // [haproxy]
    ['no [haproxy] section', withBase({ haproxy: null }), 'haproxy', 'socket', 'is required'],
    ['an empty socket', withBase({ haproxy: { socket: '' } }), 'haproxy', 'socket', 'is required'],
    ['an empty socket entry', withBase({ haproxy: { socket: '/run/a.sock,,/run/b.sock' } }), 'haproxy', 'socket', 'empty entry'],
    ['the same socket twice', withBase({ haproxy: { socket: '/run/a.sock, /run/a.sock' } }), 'haproxy', 'socket', 'listed twice'],
    ['a timeout without unit', withBase({ haproxy: { timeout: '2' } }), 'haproxy', 'timeout', 'expected a duration like 500ms, 2s or 5m'],
    ['a zero timeout', withBase({ haproxy: { timeout: '0s' } }), 'haproxy', 'timeout', 'longer than 0'],
    ['a bad heartbeat', withBase({ haproxy: { heartbeat: 'often' } }), 'haproxy', 'heartbeat', 'expected a duration'],
    ['a misspelt [haproxy] key', withBase({ haproxy: { sockets: '/run/b.sock' } }), 'haproxy', 'sockets', 'unknown key'],
    // [supervisor]
    ['a url without port', withBase({ supervisor: { url: 'http://localhost' } }), 'supervisor', 'url', 'expected unix:///'],
    ['an https url', withBase({ supervisor: { url: 'https://h:9001' } }), 'supervisor', 'url', 'https is not supported'],
    ['a relative unix url', withBase({ supervisor: { url: 'unix://run/s.sock' } }), 'supervisor', 'url', 'absolute'],
    ['credentials in the url', withBase({ supervisor: { url: 'http://a:b@h:9001' } }), 'supervisor', 'url', 'username / password'],
    ['a url port out of range', withBase({ supervisor: { url: 'http://h:70000' } }), 'supervisor', 'url', '1-65535'],
    ['an empty url', withBase({ supervisor: { url: '' } }), 'supervisor', 'url', 'expected unix:///'],
    ['a bad supervisor timeout', withBase({ supervisor: { timeout: '-1s' } }), 'supervisor', 'timeout', 'expected a duration'],
    ['a misspelt [supervisor] key', withBase({ supervisor: { user: 'x' } }), 'supervisor', 'user', 'unknown key'],
    ['a relative state_file', withBase({ listener: { state_file: 'run/sh.json' } }), 'listener', 'state_file', 'absolute path'],
    ['a misspelt [listener] key', withBase({ listener: { statefile: '/run/x' } }), 'listener', 'statefile', 'unknown key'],
    // [warmup]
    ['a bad interval', withBase({ warmup: { interval: '1' } }), 'warmup', 'interval', 'expected a duration'],
    ['a bad warm-up timeout', withBase({ warmup: { timeout: '1h' } }), 'warmup', 'timeout', 'expected a duration'],
    ['a zero deadline', withBase({ warmup: { deadline: '0m' } }), 'warmup', 'deadline', 'longer than 0'],
    ['an open range', withBase({ warmup: { expect: '200-' } }), 'warmup', 'expect', 'expected a status'],
    ['a status below 100', withBase({ warmup: { expect: '099-200' } }), 'warmup', 'expect', '100-599'],
    ['a status above 599', withBase({ warmup: { expect: '200-600' } }), 'warmup', 'expect', '100-599'],
    ['a backwards range', withBase({ warmup: { expect: '399-200' } }), 'warmup', 'expect', 'backwards'],
    ['an empty expect', withBase({ warmup: { expect: '' } }), 'warmup', 'expect', 'empty entry'],
    ['an unknown on_deadline', withBase({ warmup: { on_deadline: 'drain' } }), 'warmup', 'on_deadline', 'expected maint or ready'],
    ['a request that is no path', withBase({ warmup: { warmup: 'Plone' } }), 'warmup', 'warmup', 'starting with /'],
    ['an https request', withBase({ warmup: { warmup: '/a, https://x.example/' } }), 'warmup', 'warmup', 'https is not supported'],
    ['a request with a space', withBase({ warmup: { warmup: '/a b' } }), 'warmup', 'warmup', 'spaces'],
    ['a request URL without host', withBase({ warmup: { warmup: 'http://:80/' } }), 'warmup', 'warmup', 'not a valid URL'],
    ['a header without colon', withBase({ warmup: { headers: 'Host www.example.org' } }), 'warmup', 'headers', 'Name: value'],
    ['a header name with a space', withBase({ warmup: { headers: 'X Y: z' } }), 'warmup', 'headers', 'Name: value'],
    ['a header value with CR LF', withBase({ warmup: { headers: '"X: a\\r\\nY: b"' } }), 'warmup', 'headers', 'CR, LF'],
    ['servers in [warmup]', withBase({ warmup: { servers: 'be/x' } }), 'warmup', 'servers', 'unknown key'],
    ['a max_time without unit', withBase({ warmup: { max_time: '500' } }), 'warmup', 'max_time', 'expected a duration'],
    ['a max_time over timeout', withBase({ warmup: { max_time: '5s', timeout: '2s' } }), 'warmup', 'max_time', 'longer than timeout'],
    ['a program timeout under the default max_time', withBase({ warmup: { max_time: '2s' }, 'program:web': { timeout: '1s' } }), 'program:web', 'timeout', 'longer than timeout'],
    ['zero passes', withBase({ warmup: { passes: '0' } }), 'warmup', 'passes', 'whole number from 1'],
    ['passes that are no number', withBase({ warmup: { passes: 'two' } }), 'warmup', 'passes', 'whole number from 1'],
    ['a never_empty that is no yes/no', withBase({ warmup: { never_empty: 'maybe' } }), 'warmup', 'never_empty', 'expected yes or no'],
    ['a zero concurrency', withBase({ warmup: { concurrency: '0' } }), 'warmup', 'concurrency', 'whole number from 1'],
    ['concurrency in a program', withBase({ 'program:web': { concurrency: '2' } }), 'program:web', 'concurrency', 'unknown key'],
    // [program:…] / [group:…]
    ['a program without servers', withBase({ 'program:web': { servers: null, warmup: '/' } }), 'program:web', 'servers', 'is required'],
    ['a server without backend', withBase({ 'program:web': { servers: 'web1' } }), 'program:web', 'servers', 'expected backend/server'],
    ['a server with two slashes', withBase({ 'program:web': { servers: 'be/a/b' } }), 'program:web', 'servers', 'expected backend/server'],
    ['an empty server name', withBase({ 'program:web': { servers: 'be/' } }), 'program:web', 'servers', 'not a valid HAProxy name'],
    ['a backend with a command separator', withBase({ 'program:web': { servers: 'be\\;x/s' } }), 'program:web', 'servers', 'not a valid HAProxy name'],
    ['a server with a space', withBase({ 'program:web': { servers: 'be/a b' } }), 'program:web', 'servers', 'not a valid HAProxy name'],
    ['an empty server entry', withBase({ 'program:web': { servers: 'be/a,,be/b' } }), 'program:web', 'servers', 'empty entry'],
    ['an unknown template', withBase({ 'group:g': { servers: 'be/%(host_node_name)s' } }), 'group:g', 'servers', 'unknown template'],
    ['a numeric template', withBase({ 'group:g': { servers: 'be/s%(process_num)02d' } }), 'group:g', 'servers', 'unknown template'],
    ['a template with a %d', withBase({ 'group:g': { servers: 'be/%(process_name)d' } }), 'group:g', 'servers', 'unknown template'],
    ['a template that makes a bad name', withBase({ 'program:café': { servers: 'be/%(process_name)s' } }), 'program:café', 'servers', '"café" is not a valid HAProxy name'],
    ['an unknown on_stopping', withBase({ 'program:web': { on_stopping: 'ready' } }), 'program:web', 'on_stopping', 'expected maint or drain'],
    ['a misspelt program key', withBase({ 'program:web': { server: 'be/x' } }), 'program:web', 'server', 'unknown key'],
    ['a supervisord key in a program', withBase({ 'program:web': { command: '/bin/true' } }), 'program:web', 'command', 'unknown key'],
    ['a bad program interval', withBase({ 'program:web': { interval: 'soon' } }), 'program:web', 'interval', 'expected a duration'],
    ['a bad program expect', withBase({ 'group:g': { servers: 'be/x', expect: '2xx' } }), 'group:g', 'expect', 'expected a status'],
    ['a bad program on_deadline', withBase({ 'program:web': { on_deadline: 'up' } }), 'program:web', 'on_deadline', 'expected maint or ready'],
    ['a bad program warmup', withBase({ 'program:web': { warmup: 'https://x/' } }), 'program:web', 'warmup', 'https'],
    ['a bad program header', withBase({ 'program:web': { headers: ': x' } }), 'program:web', 'headers', 'Name: value'],
    // section names
    ['an empty program name', withBase({ 'program:': { servers: 'be/x' } }), 'program:', null, 'not a supervisord name'],
    ['a program name with a space', withBase({ 'program:a b': { servers: 'be/x' } }), 'program:a b', null, 'not a supervisord name'],
    ['a program name with two colons', withBase({ 'program:a:b:c': { servers: 'be/x' } }), 'program:a:b:c', null, 'GROUP:PROCESS'],
    ['a group name with a colon', withBase({ 'group:a:b': { servers: 'be/x' } }), 'group:a:b', null, '[group:NAME]'],
    ['an unknown section', withBase({ 'groups:x': { servers: 'be/x' } }), 'groups:x', null, 'unknown section'],
    ['a capitalised section', withBase({ Program: { servers: 'be/x' } }), 'Program', null, 'unknown section'],
    ['a supervisord section', withBase({ 'eventlistener:x': { command: 'y' } }), 'eventlistener:x', null, 'unknown section'],
  ];

  it.each(cases)('%s', (_what, sections, section, key, detail) => {
    expectConfigError(() => parse(sections), { file: FILE, section, key, detail });
  });

  it('reports a bad $SUPERVISOR_SERVER_URL under [supervisor] url', () => {
    expectConfigError(() => parse(BASE, { SUPERVISOR_SERVER_URL: 'localhost:9001' }), {
      file: FILE,
      section: 'supervisor',
      key: 'url',
      detail: /^from \$SUPERVISOR_SERVER_URL: 'localhost:9001': expected/,
    });
  });

  it('reads [haproxy] server_state_file: one item per socket, empty for none (none by default)', () => {
    expect(parse(BASE).haproxy.serverStateFiles).toEqual([]);
    const two = { socket: '/run/a.sock, tcp://127.0.0.1:9999' };
    expect(parse(withBase({ haproxy: { ...two, server_state_file: '/var/lib/haproxy/state,' } })).haproxy.serverStateFiles).toEqual([
      '/var/lib/haproxy/state',
      null,
    ]);
    expect(parse(withBase({ haproxy: { socket: '/run/a.sock', server_state_file: '/x/s' } })).haproxy.serverStateFiles).toEqual(['/x/s']);
  });

  it.each([
    ['/x/s', 'give one per socket'],
    ['/x/s, relative', 'expected an absolute path'],
    ['/x/s, /x/s', 'the same file is named for two sockets'],
  ])('refuses server_state_file = %j for two sockets', (value, detail) => {
    expectConfigError(() => parse(withBase({ haproxy: { socket: '/run/a.sock, /run/b.sock', server_state_file: value } })), {
      file: FILE,
      section: 'haproxy',
      key: 'server_state_file',
      detail: new RegExp(detail),
    });
  });

  it('reports an unusable socket address', () => {
    expectConfigError(() => parse(withBase({ haproxy: { socket: 'tcp://127.0.0.1' } })), {
      file: FILE,
      section: 'haproxy',
      key: 'socket',
      detail: /.+/,
    });
  });

  it('needs at least one program or group', () => {
    expectConfigError(() => parse(withBase({ 'program:web': null, warmup: { warmup: '/' } })), {
      file: FILE,
      section: null,
      key: null,
      detail: 'no [program:NAME] or [group:NAME] section',
    });
  });

  it('refuses a section written twice (ini would merge them)', () => {
    const text = `${ini(BASE)}\n[program:web]\nservers = be/web2\n`;
    expectConfigError(() => parseConfig(text, FILE, {}), {
      file: FILE,
      section: 'program:web',
      key: null,
      detail: /^line 7: section appears a second time/,
    });
  });

  it('allows two sections to map the same server', () => {
    const config = parse(withBase({ 'program:web2': { servers: 'be/web1' } }));
    expect(config.rules.map((r) => r.servers)).toEqual([['be/web1'], ['be/web1']]);
  });

  it('refuses a key given twice (ini would keep the last)', () => {
    const text = `${ini(BASE)}servers = be/web2\n`;
    expectConfigError(() => parseConfig(text, FILE, {}), {
      file: FILE,
      section: 'program:web',
      key: 'servers',
      detail: 'more than once',
    });
  });

  it('refuses a key outside any section', () => {
    expectConfigError(() => parseConfig(ini(BASE, ['socket = /run/a.sock']), FILE, {}), {
      file: FILE,
      section: null,
      key: 'socket',
      detail: 'outside any section',
    });
  });

  it('refuses a line without "=", such as a wrapped value', () => {
    const text = `${ini(BASE)}warmup = /Plone,\n    /Plone/news\n`;
    expectConfigError(() => parseConfig(text, FILE, {}), {
      file: FILE,
      section: 'program:web',
      key: null,
      detail: /^line 7: expected "key = value", got "\/Plone\/news"/,
    });
  });

  it('refuses a ; or # glued to a value, which ini would take for a comment', () => {
    const text = `${ini(BASE)}warmup = /search?a=1;b=2\n`;
    expectConfigError(() => parseConfig(text, FILE, {}), {
      file: FILE,
      section: 'program:web',
      key: 'warmup',
      detail: /starts a comment here.*\\;/,
    });
    expectConfigError(() => parseConfig(`${ini(BASE)}warmup = /Plone#top\n`, FILE, {}), {
      file: FILE,
      section: 'program:web',
      key: 'warmup',
      detail: /'#' starts a comment/,
    });
  });

  it('refuses a malformed or empty section header', () => {
    expectConfigError(() => parseConfig(`${ini(BASE)}[program:x\n`, FILE, {}), {
      file: FILE,
      section: null,
      key: null,
      detail: /^line 6: malformed section header "\[program:x"/,
    });
    expectConfigError(() => parseConfig(`${ini(BASE)}[ ]\n`, FILE, {}), {
      file: FILE,
      section: null,
      key: null,
      detail: 'empty section name',
    });
  });

  it('refuses true/false/null where a value is expected (ini would make them JSON)', () => {
    expectConfigError(() => parse(withBase({ 'program:web': { on_stopping: 'true' } })), {
      file: FILE,
      section: 'program:web',
      key: 'on_stopping',
      detail: "'true': expected maint or drain",
    });
  });
});

describe('value parsers', () => {
  it.each([
    ['200-399', [{ min: 200, max: 399 }]],
    ['200', [{ min: 200, max: 200 }]],
    ['200 - 204 , 301,302-302', [{ min: 200, max: 204 }, { min: 301, max: 301 }, { min: 302, max: 302 }]],
    ['100-599', [{ min: 100, max: 599 }]],
  ])('expect %j', (text, ranges) => {
    expect(parseExpect(text)).toEqual(ranges);
  });

  it.each(['2000', '20', '200-3999', '200,,300', 'abc', '-200', '600'])('expect %j is refused', (text) => {
    expect(() => parseExpect(text)).toThrow();
  });

  it.each([
    ['Host: www.example.org', [['Host', 'www.example.org']]],
    ['Accept: a, b', [['Accept', 'a, b']]],
    ['Host: x, X-Forwarded-Proto: https', [['Host', 'x'], ['X-Forwarded-Proto', 'https']]],
    ['Accept: text/html, application/xhtml+xml,Host:y', [['Accept', 'text/html, application/xhtml+xml'], ['Host', 'y']]],
    ['Cookie: a=1, b=2', [['Cookie', 'a=1, b=2']]],
    ['Link: <a>, http://b.example/', [['Link', '<a>, http://b.example/']]],
    ['X-Empty:', [['X-Empty', '']]],
    ["X-Odd_!#$%&'*+.^`|~: v", [["X-Odd_!#$%&'*+.^`|~", 'v']]],
    ['X-Tab: a\tb', [['X-Tab', 'a\tb']]],
    ['', []],
  ])('headers %j', (text, headers) => {
    expect(parseHeaders(text)).toEqual(headers);
  });

  it.each(['Host', 'Host : x', 'X(y): z', 'X: a\nY: b', 'X: a\rb', 'X: a\0'])(
    'headers %j are refused',
    (text) => {
      expect(() => parseHeaders(text)).toThrow();
    },
  );

  it.each([
    ['/Plone, /Plone/news', ['/Plone', '/Plone/news']],
    ['/a,/b', ['/a', '/b']],
    ['/search?q=a,b', ['/search?q=a,b']],
    ['/', ['/']],
    ['http://www.example.org/Plone, /x', ['http://www.example.org/Plone', '/x']],
    ['HTTP://127.0.0.1:8080/', ['HTTP://127.0.0.1:8080/']],
    ['/café', ['/café']],
    ['', []],
  ])('warmup %j', (text, requests) => {
    expect(parseRequests(text)).toEqual(requests);
  });

  it.each(['Plone', '/a, Plone', 'https://x/', 'HTTPS://x/', 'ftp://x/', '/a\tb', 'http://', 'http:///Plone', 'http://[::1/'])(
    'warmup %j is refused',
    (text) => {
      expect(() => parseRequests(text)).toThrow();
    },
  );

  it('checks server templates with the names a section fixes and a sample for the rest', () => {
    expect(parseServerTemplates('be/%(process_name)s, %(group_name)s/%(program_name)s_1', { group: 'x', process: 'x' })).toEqual([
      'be/%(process_name)s',
      '%(group_name)s/%(program_name)s_1',
    ]);
    expect(() => parseServerTemplates('be/%(process_name)s', { group: 'x', process: 'a b' })).toThrow(
      'not a valid HAProxy name',
    );
    expect(() => parseServerTemplates('be/%(process_name)', { group: 'x', process: 'x' })).toThrow('unknown template');
    expect(() => parseServerTemplates('be/%x', { group: 'x', process: 'x' })).toThrow('not a valid HAProxy name');
  });
});

describe('upper bounds of durations', () => {
  it.each([
    ['haproxy', 'timeout', '61s', '1m'],
    ['haproxy', 'heartbeat', '2m', '1m'],
    ['supervisor', 'timeout', '10m', '1m'],
    ['warmup', 'interval', '6m', '5m'],
    ['warmup', 'timeout', '11m', '10m'],
    ['warmup', 'deadline', '1441m', '1440m'],
  ])('[%s] %s = %s is refused (at most %s)', (section, key, value, max) => {
    expectConfigError(() => parse(withBase({ [section]: { [key]: value } })), {
      file: FILE,
      section,
      key,
      detail: `'${value}': at most ${max}`,
    });
  });

  it('accepts each bound itself', () => {
    const config = parse(
      withBase({ haproxy: { timeout: '1m', heartbeat: '60s' }, supervisor: { timeout: '1m' }, warmup: { interval: '5m', timeout: '10m', deadline: '1440m' } }),
    );
    expect(config.haproxy.timeoutMs).toBe(60_000);
    expect(config.rules[0]?.warmup.deadlineMs).toBe(24 * 60 * 60_000);
  });
});
