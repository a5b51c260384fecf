import { describe, expect, it } from 'vitest';
import { parseSupervisordConf, stanzaUser } from '../../../src/commands/listener-user.js';

const CONF = `; supervisord.conf
[unix_http_server]
file = /run/supervisor.sock   ; the socket

[include]
files = /etc/supervisor/conf.d/*.conf

[eventlistener:haproxy-sync]
command = /usr/bin/supervisor-haproxy
    --config /etc/supervisor-haproxy.ini
user: haproxy-sync
# a comment
[eventlistener:other]
command = /usr/bin/other --config /etc/other.ini
`;

describe('parseSupervisordConf', () => {
  it('reads sections, = and : keys, inline ; comments, # comments and continuation lines', () => {
    const sections = parseSupervisordConf(CONF);
    expect(sections.map((s) => s.name)).toEqual(['unix_http_server', 'include', 'eventlistener:haproxy-sync', 'eventlistener:other']);
    expect(sections[0]?.keys.get('file')).toBe('/run/supervisor.sock');
    expect(Object.fromEntries(sections[2]?.keys ?? [])).toEqual({
      command: '/usr/bin/supervisor-haproxy --config /etc/supervisor-haproxy.ini',
      user: 'haproxy-sync',
    });
  });
});

describe('stanzaUser', () => {
  const same = (p: string) => p;
  it("the user= of the listener section whose command names this config", () => {
    expect(stanzaUser(parseSupervisordConf(CONF), '/etc/supervisor-haproxy.ini', same)).toBe('haproxy-sync');
  });
  it('null when that section has no user= (supervisord runs it as itself); undefined when none names the config', () => {
    expect(stanzaUser(parseSupervisordConf(CONF), '/etc/other.ini', same)).toBeNull();
    expect(stanzaUser(parseSupervisordConf(CONF), '/etc/third.ini', same)).toBeUndefined();
  });
});
