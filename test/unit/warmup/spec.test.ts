import { describe, expect, it } from 'vitest';
import { DEFAULT_WARMUP } from '../../../src/config/parse.js';
import { isRelative, resolveRequests, statusAccepted, type WarmupSpec } from '../../../src/warmup/spec.js';

const spec = (requests: string[]): WarmupSpec => ({ ...DEFAULT_WARMUP, requests });

const hrefs = (urls: URL[]) => urls.map((u) => u.href);

describe('resolveRequests', () => {
  const a = { host: '127.0.0.1', port: 8081 };
  const b = { host: '10.0.0.2', port: 8082 };

  it('sends a relative path to the target address', () => {
    expect(hrefs(resolveRequests(spec(['/Plone']), [a]))).toEqual(['http://127.0.0.1:8081/Plone']);
  });

  it('keeps request order, and for each request every target', () => {
    expect(hrefs(resolveRequests(spec(['/Plone', '/Plone/news']), [a, b]))).toEqual([
      'http://127.0.0.1:8081/Plone',
      'http://10.0.0.2:8082/Plone',
      'http://127.0.0.1:8081/Plone/news',
      'http://10.0.0.2:8082/Plone/news',
    ]);
  });

  it('uses absolute URLs once, as given, in their place in the order', () => {
    expect(
      hrefs(resolveRequests(spec(['/a', 'https://www.example.org/x?y=1', '/b']), [a, b])),
    ).toEqual([
      'http://127.0.0.1:8081/a',
      'http://10.0.0.2:8082/a',
      'https://www.example.org/x?y=1',
      'http://127.0.0.1:8081/b',
      'http://10.0.0.2:8082/b',
    ]);
  });

  it('brackets IPv6 hosts', () => {
    const urls = resolveRequests(spec(['/p']), [{ host: '::1', port: 9000 }, { host: 'fd00::5', port: 80 }]);
    expect(hrefs(urls)).toEqual(['http://[::1]:9000/p', 'http://[fd00::5]/p']);
    expect(urls[0]?.hostname).toBe('[::1]');
  });

  it('does not double-bracket an IPv6 host that already has brackets', () => {
    expect(hrefs(resolveRequests(spec(['/p']), [{ host: '[::1]', port: 9000 }]))).toEqual(['http://[::1]:9000/p']);
  });

  it('keeps query strings, and never reads a "//" path as a host', () => {
    expect(hrefs(resolveRequests(spec(['/a?b=c&d', '//evil.example/x']), [a]))).toEqual([
      'http://127.0.0.1:8081/a?b=c&d',
      'http://127.0.0.1:8081//evil.example/x',
    ]);
  });

  it('accepts host names as targets', () => {
    expect(hrefs(resolveRequests(spec(['/']), [{ host: 'app1.internal', port: 8080 }]))).toEqual([
      'http://app1.internal:8080/',
    ]);
  });

  it('gives nothing for no requests, and only absolute URLs when there are no targets', () => {
    expect(resolveRequests(spec([]), [a])).toEqual([]);
    expect(hrefs(resolveRequests(spec(['/a', 'http://h/x']), []))).toEqual(['http://h/x']);
  });

  it('throws on a request that is neither a path nor an absolute URL', () => {
    expect(() => resolveRequests(spec(['Plone']), [a])).toThrow(TypeError);
  });
});

describe('isRelative', () => {
  it('is true only for paths', () => {
    expect(isRelative('/x')).toBe(true);
    expect(isRelative('http://h/x')).toBe(false);
  });
});

describe('statusAccepted', () => {
  const ranges = [
    { min: 200, max: 299 },
    { min: 401, max: 401 },
  ];
  it.each([
    [199, false],
    [200, true],
    [299, true],
    [300, false],
    [400, false],
    [401, true],
    [402, false],
    [503, false],
  ])('%i → %s', (status, accepted) => {
    expect(statusAccepted(status, ranges)).toBe(accepted);
  });

  it('accepts nothing when there are no ranges', () => {
    expect(statusAccepted(200, [])).toBe(false);
  });
});
