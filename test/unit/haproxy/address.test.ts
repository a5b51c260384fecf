import { describe, expect, it } from 'vitest';
import { parseSocketAddress } from '../../../src/haproxy/address.js';

describe('parseSocketAddress', () => {
  it.each([
    ['/run/haproxy/admin.sock', '/run/haproxy/admin.sock'],
    ['unix:///run/haproxy/admin.sock', '/run/haproxy/admin.sock'],
    ['/tmp/a b.sock', '/tmp/a b.sock'],
  ])('reads the unix socket %s', (text, path) => {
    expect(parseSocketAddress(text)).toEqual({ kind: 'unix', path, label: path });
  });

  it.each([
    ['tcp://127.0.0.1:9999', '127.0.0.1', 9999, 'tcp://127.0.0.1:9999'],
    ['tcp://localhost:1', 'localhost', 1, 'tcp://localhost:1'],
    ['tcp://lb-1.example.com:65535', 'lb-1.example.com', 65535, 'tcp://lb-1.example.com:65535'],
    ['tcp://[::1]:8801', '::1', 8801, 'tcp://[::1]:8801'],
    ['tcp://[2001:db8::10]:443', '2001:db8::10', 443, 'tcp://[2001:db8::10]:443'],
  ])('reads the tcp address %s', (text, host, port, label) => {
    expect(parseSocketAddress(text)).toEqual({ kind: 'tcp', host, port, label });
  });

  it('labels the same unix socket the same however it is written', () => {
    expect(parseSocketAddress('unix:///run/a.sock').label).toBe(parseSocketAddress('/run/a.sock').label);
  });

  it.each([
    ['tcp://127.0.0.1', /^"tcp:\/\/127\.0\.0\.1": expected tcp:\/\/host:port/],
    ['tcp://:9999', /host is missing/],
    ['tcp://127.0.0.1:0', /port 0 is not in 1-65535/],
    ['tcp://127.0.0.1:65536', /port 65536 is not in 1-65535/],
    ['tcp://127.0.0.1:123456', /not in 1-65535/],
    ['tcp://127.0.0.1:99/', /expected tcp:\/\/host:port/],
    ['tcp://127.0.0.1:abc', /expected tcp:\/\/host:port/],
    ['tcp://::1:9999', /expected tcp:\/\/host:port/],
    ['tcp://[nope]:9999', /not an IPv6 address/],
    ['tcp://bad_host!:9999', /not a host name or IPv4 address/],
    ['tcp://-lead:9999', /not a host name/],
    ['run/haproxy.sock', /must be absolute/],
    ['admin.sock', /must be absolute/],
    ['./admin.sock', /must be absolute/],
    ['unix://run/haproxy.sock', /expected unix:\/\/\/absolute\/path/],
    ['unix://', /expected unix:\/\/\/absolute\/path/],
    ['http://127.0.0.1:9999', /expected an absolute unix socket path, unix:\/\/\/path or tcp:\/\/host:port/],
    ['ipv4@127.0.0.1:9999', /expected an absolute unix socket path/],
    ['127.0.0.1:9999', /expected an absolute unix socket path/],
    ['', /expected an absolute unix socket path/],
    ['/', /must name a file/],
    ['/run/haproxy/', /must name a file/],
    ['/run/a\nb.sock', /control characters/],
  ])('refuses %j', (text, message) => {
    expect(() => parseSocketAddress(text)).toThrow(message);
  });

  it('throws a plain Error that quotes the text (the config parser adds file, section and key)', () => {
    let caught: unknown;
    try {
      parseSocketAddress('tcp://127.0.0.1');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(Error);
    expect((caught as Error).constructor).toBe(Error);
    expect((caught as Error).message).toBe('"tcp://127.0.0.1": expected tcp://host:port');
  });

  it('escapes control characters in the message instead of breaking the line', () => {
    expect(() => parseSocketAddress('/a\nb')).toThrow('"/a\\nb": control characters in a unix socket path');
  });
});
