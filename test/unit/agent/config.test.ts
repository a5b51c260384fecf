// [agent] and `address` in the INI contract: agent only, sockets only or both, and warm-up without a socket.

import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/parse.js';
import { warmupSpecOf } from '../../../src/config/resolve.js';
import type { Config } from '../../../src/config/types.js';
import { expectConfigError, ini, withBase, type Sections } from '../config/fixtures.js';

const FILE = '/etc/supervisor-haproxy.ini';
const parse = (sections: Sections): Config => parseConfig(ini(sections), FILE, {});

describe('[agent]', () => {
  it('is absent unless given; sockets alone work as before', () => {
    expect(parse(withBase({})).agent).toBeUndefined();
  });

  it('listens on the given addresses beside the sockets', () => {
    const config = parse(withBase({ agent: { listen: '0.0.0.0:9707, [::]:9707' } }));
    expect(config.agent?.listen.map((a) => a.label)).toEqual(['0.0.0.0:9707', '[::]:9707']);
    expect(config.haproxy.sockets).toHaveLength(1);
  });

  it('makes [haproxy] optional: agent only', () => {
    const config = parse(withBase({ haproxy: null, agent: { listen: '127.0.0.1:9707' } }));
    expect(config.haproxy.sockets).toEqual([]);
    expect(config.agent?.listen).toHaveLength(1);
  });

  it.each([
    ['neither [haproxy] nor [agent]', withBase({ haproxy: null }), 'haproxy', 'socket', 'is required'],
    ['[agent] without listen', withBase({ agent: {} }), 'agent', 'listen', 'is required'],
    ['a host name', withBase({ agent: { listen: 'lb.example:9707' } }), 'agent', 'listen', 'not an IPv4 address'],
    ['an unbracketed IPv6 address', withBase({ agent: { listen: '::1:9707' } }), 'agent', 'listen', 'expected HOST:PORT'],
    ['a misspelt [agent] key', withBase({ agent: { port: '9707' } }), 'agent', 'port', 'unknown key'],
  ])('%s is an error naming the section and key', (_name, sections, section, key, detail) => {
    expectConfigError(() => parse(sections), { file: FILE, section, key, detail });
  });
});

describe('warm-up without a socket', () => {
  const agentOnly = (program: Record<string, string | null>, more: Sections = {}): Sections =>
    withBase({ haproxy: null, agent: { listen: '127.0.0.1:9707' }, 'program:web': program, ...more });

  it('takes absolute URLs as they are', () => {
    const config = parse(agentOnly({ warmup: 'http://127.0.0.1:8080/Plone' }));
    expect(config.rules[0]?.address).toBeUndefined();
  });

  it('sends relative paths to the program\'s address', () => {
    const config = parse(agentOnly({ warmup: '/Plone', address: '127.0.0.1:8080' }));
    const rule = config.rules[0];
    expect(rule?.address).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(rule === undefined ? null : warmupSpecOf(rule)?.address).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parse(agentOnly({ warmup: '/Plone', address: '[::1]:8080' })).rules[0]?.address).toEqual({ host: '::1', port: 8080 });
    expect(parse(agentOnly({ warmup: '/Plone', address: 'app1.internal:8080' })).rules[0]?.address).toEqual({
      host: 'app1.internal',
      port: 8080,
    });
  });

  it('refuses relative paths with no address, naming the program and warmup, [warmup] defaults included', () => {
    expectConfigError(() => parse(agentOnly({ warmup: '/Plone' })), {
      file: FILE,
      section: 'program:web',
      key: 'warmup',
      detail: /relative path '\/Plone' needs the server's address: .*address = HOST:PORT/,
    });
    expectConfigError(() => parse(agentOnly({}, { warmup: { warmup: '/Plone' } })), {
      file: FILE,
      section: 'program:web',
      key: 'warmup',
      detail: 'relative path',
    });
  });

  it('with a socket as well, address is optional and wins when given', () => {
    expect(parse(withBase({ 'program:web': { warmup: '/Plone' } })).rules[0]?.address).toBeUndefined();
    expect(parse(withBase({ 'program:web': { warmup: '/Plone', address: '127.0.0.1:81' } })).rules[0]?.address).toEqual({
      host: '127.0.0.1',
      port: 81,
    });
  });

  it.each([
    ['a bad address', { 'program:web': { address: '127.0.0.1' } }, 'program:web', 'address', 'expected HOST:PORT'],
    ['a port out of range', { 'program:web': { address: 'h:0' } }, 'program:web', 'address', 'expected HOST:PORT'],
    [
      'an address for a group',
      { 'group:app': { servers: 'be/%(process_name)s', address: '127.0.0.1:8080' } },
      'group:app',
      'address',
      "a group's processes listen on different ports",
    ],
  ])('%s is an error naming the section and key', (_name, changes, section, key, detail) => {
    expectConfigError(() => parse(withBase(changes)), { file: FILE, section, key, detail });
  });
});
