// The agent's pure cores: the request line, the answer decisions, the log budget and the listen addresses.

import { describe, expect, it } from 'vitest';
import { parseAgentAddress, connectHost } from '../../../src/agent/address.js';
import { parseAddressList } from '../../../src/config/parse.js';
import { AgentAnswers, nextAnswer, NO_CHANGE, parseRequest, reply } from '../../../src/agent/answers.js';
import { LogLimit } from '../../../src/agent/server.js';
import { DesiredState } from '../../../src/reconcile/desired.js';

describe('parseRequest', () => {
  it.each([
    ['plone/instance1', { backend: 'plone', server: 'instance1' }],
    ['plone/instance1\r', { backend: 'plone', server: 'instance1' }],
    ['  be_1.x:y-z/srv_2  ', { backend: 'be_1.x:y-z', server: 'srv_2' }],
  ])('%j names a server', (line, ref) => {
    expect(parseRequest(line)).toEqual({ kind: 'server', ref });
  });

  it.each([
    ['', 'empty'],
    ['\r', 'empty'],
    ['   ', 'empty'],
  ])('%j is empty', (line, why) => {
    expect(parseRequest(line)).toEqual({ kind: 'invalid', why });
  });

  it.each([
    'plone',
    'plone/',
    '/instance1',
    'a/b/c',
    'plone/inst;ance1',
    'plone/instance 1',
    'plone/café',
    'pl\u0000one/x',
    '\ufffd\ufffd/\ufffd',
    `${'b'.repeat(256)}/x`,
    'GET / HTTP/1.1',
  ])('%j is malformed', (line) => {
    expect(parseRequest(line)).toEqual({ kind: 'invalid', why: 'malformed' });
  });
});

describe('answers', () => {
  it('drain only follows ready or drain: from maint, or as a first decision, it is maint', () => {
    expect(nextAnswer('ready', 'drain')).toBe('drain');
    expect(nextAnswer('drain', 'drain')).toBe('drain');
    expect(nextAnswer('maint', 'drain')).toBe('maint');
    expect(nextAnswer(undefined, 'drain')).toBe('maint');
    for (const prev of [undefined, 'maint', 'drain', 'ready'] as const) {
      expect(nextAnswer(prev, 'maint')).toBe('maint');
      expect(nextAnswer(prev, 'ready')).toBe('ready');
    }
  });

  it('follows every decision of the desired state, and has none for a server never decided', () => {
    const desired = new DesiredState();
    const answers = new AgentAnswers(desired);
    const a = { backend: 'be', server: 'a' };
    const b = { backend: 'be', server: 'b' };
    expect(answers.answerFor(a)).toBeNull();
    desired.set([a, b], 'maint', 'g:a');
    expect(answers.answerFor(a)).toBe('maint');
    desired.set([a], 'ready', 'g:a');
    expect(answers.answerFor(a)).toBe('ready');
    expect(answers.answerFor(b)).toBe('maint');
    desired.set([a, b], 'drain', 'g:a');
    expect(answers.answerFor(a)).toBe('drain');
    expect(answers.answerFor(b)).toBe('maint');
    answers.close();
    desired.set([a], 'ready', 'g:a');
    expect(answers.answerFor(a)).toBe('drain');
  });

  it('answers decisions made before it was created', () => {
    const desired = new DesiredState();
    desired.set([{ backend: 'be', server: 'a' }], 'ready', 'a');
    expect(new AgentAnswers(desired).answerFor({ backend: 'be', server: 'a' })).toBe('ready');
  });

  it('replies one line: the decision, or a line with no word (which changes nothing in HAProxy)', () => {
    const lookup = (ref: { server: string }) => (ref.server === 'known' ? ('ready' as const) : null);
    expect(reply(parseRequest('be/known'), lookup)).toEqual({ text: 'ready\n', state: 'ready', refusal: null });
    expect(reply(parseRequest('be/other'), lookup)).toEqual({ text: NO_CHANGE, state: null, refusal: 'unknown' });
    expect(reply(parseRequest(''), lookup)).toEqual({ text: NO_CHANGE, state: null, refusal: 'empty' });
    expect(reply(parseRequest('junk'), lookup)).toEqual({ text: NO_CHANGE, state: null, refusal: 'malformed' });
    // HAProxy takes everything after '#' as a description, and a line without a word as "no change".
    expect(NO_CHANGE.startsWith('#')).toBe(true);
    expect(NO_CHANGE.indexOf('\n')).toBe(NO_CHANGE.length - 1);
  });
});

describe('LogLimit', () => {
  it('allows perWindow lines per window and tells the next allowed line how many were dropped', () => {
    let now = 0;
    const limit = new LogLimit({ now: () => now }, 3, 60_000);
    expect([limit.take(), limit.take(), limit.take()]).toEqual([0, 0, 0]);
    expect(limit.take()).toBeNull();
    expect(limit.take()).toBeNull();
    now = 59_999;
    expect(limit.take()).toBeNull();
    now = 60_000;
    expect(limit.take()).toBe(3);
    expect(limit.take()).toBe(0);
  });
});

describe('[agent] listen addresses', () => {
  it.each([
    ['0.0.0.0:9707', { host: '0.0.0.0', port: 9707, label: '0.0.0.0:9707' }],
    ['127.0.0.1:1', { host: '127.0.0.1', port: 1, label: '127.0.0.1:1' }],
    ['[::]:9707', { host: '::', port: 9707, label: '[::]:9707' }],
    ['[::1]:65535', { host: '::1', port: 65535, label: '[::1]:65535' }],
  ])('%s', (text, want) => {
    expect(parseAgentAddress(text)).toEqual(want);
  });

  it.each([
    ['9707', 'expected HOST:PORT'],
    [':9707', 'not an IPv4 address'],
    ['localhost:9707', 'not an IPv4 address'],
    ['::1:9707', 'expected HOST:PORT'],
    ['[::1]', 'expected HOST:PORT'],
    ['[fe80::zz]:1', 'not an IPv6 address'],
    ['127.0.0.1:0', 'port must be 1-65535'],
    ['127.0.0.1:65536', 'port must be 1-65535'],
    ['127.0.0.1:123456', 'expected HOST:PORT'],
  ])('%j is refused: %s', (text, message) => {
    expect(() => parseAgentAddress(text)).toThrow(message);
  });

  it('takes several, refuses an empty entry and the same address twice', () => {
    expect(parseAddressList('0.0.0.0:9707, [::]:9707', parseAgentAddress).map((a) => a.label)).toEqual(['0.0.0.0:9707', '[::]:9707']);
    expect(() => parseAddressList('0.0.0.0:9707,', parseAgentAddress)).toThrow('empty entry');
    expect(() => parseAddressList('[::1]:1, [0:0::1]:1', parseAgentAddress)).toThrow('[::1]:1 is listed twice');
  });

  it('reaches a wildcard address through loopback', () => {
    expect(connectHost(parseAgentAddress('0.0.0.0:1'))).toBe('127.0.0.1');
    expect(connectHost(parseAgentAddress('[::]:1'))).toBe('::1');
    expect(connectHost(parseAgentAddress('10.1.2.3:1'))).toBe('10.1.2.3');
  });
});
