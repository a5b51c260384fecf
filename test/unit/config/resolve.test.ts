import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/parse.js';
import { findRule, resolveProcess, warmupSpecOf } from '../../../src/config/resolve.js';
import type { Config } from '../../../src/config/types.js';
import { ini, withBase, type Sections } from './fixtures.js';

const config = (sections: Sections): Config => parseConfig(ini(sections), 'test.ini', {});

describe('resolveProcess: which rule applies', () => {
  const c = config(
    withBase({
      'program:web': null,
      'group:app': { servers: 'plone/%(process_name)s' },
      'program:app_00': { servers: 'bare/app_00' },
      'program:app:app_00': { servers: 'exact/app_00' },
      'program:solo': { servers: 'be/solo' },
    }),
  );

  it('prefers [program:GROUP:PROCESS], then [program:PROCESS] in any group, then [group:GROUP]', () => {
    expect(findRule(c, { group: 'app', process: 'app_00' })?.section).toBe('program:app:app_00');
    expect(findRule(c, { group: 'other', process: 'app_00' })?.section).toBe('program:app_00');
    expect(findRule(c, { group: 'app', process: 'app_01' })?.section).toBe('group:app');
  });

  it('maps a plain program, whose group has its own name', () => {
    expect(resolveProcess(c, { group: 'solo', process: 'solo' })).toEqual({
      kind: 'mapped',
      rule: c.rules.find((r) => r.section === 'program:solo'),
      servers: [{ backend: 'be', server: 'solo' }],
    });
  });

  it('returns null for an unmapped process', () => {
    expect(resolveProcess(c, { group: 'listener', process: 'listener' })).toBeNull();
    // [program:solo] names a process, not a group: numprocs processes of a group "solo" need [group:solo].
    expect(resolveProcess(c, { group: 'solo', process: 'solo_00' })).toBeNull();
    // [program:app:app_00] is that one process only.
    expect(resolveProcess(c, { group: 'app2', process: 'app_00x' })).toBeNull();
  });

  it('fills in the templates per process', () => {
    expect(resolveProcess(c, { group: 'app', process: 'app_01' })).toMatchObject({
      kind: 'mapped',
      servers: [{ backend: 'plone', server: 'app_01' }],
    });
  });
});

describe('resolveProcess: templates', () => {
  it('substitutes process_name, group_name and program_name (= the group), and drops duplicates', () => {
    const c = config(
      withBase({
        'program:web': null,
        'group:g': {
          servers: '%(group_name)s/%(process_name)s, be/%(program_name)s-%(process_name)s, g/%(process_name)s',
        },
      }),
    );
    expect(resolveProcess(c, { group: 'g', process: 'p1' })).toMatchObject({
      kind: 'mapped',
      servers: [
        { backend: 'g', server: 'p1' },
        { backend: 'be', server: 'g-p1' },
      ],
    });
  });

  it('returns an error result, not a command, when a real name makes an invalid HAProxy name', () => {
    const c = config(withBase({ 'program:web': null, 'group:app': { servers: 'plone/%(process_name)s' } }));
    const resolved = resolveProcess(c, { group: 'app', process: 'café' });
    expect(resolved).toMatchObject({ kind: 'invalid', rule: { section: 'group:app' } });
    expect(resolved?.kind === 'invalid' && resolved.reason).toMatch(/\[group:app\].*plone\/café.*app:café/);
    const withSpace = resolveProcess(c, { group: 'app', process: 'a;show info' });
    expect(withSpace?.kind).toBe('invalid');
    const withSlash = resolveProcess(c, { group: 'app', process: 'a/b' });
    expect(withSlash?.kind).toBe('invalid');
  });
});

describe('warmupSpecOf', () => {
  it('is null when a rule has no requests', () => {
    const c = config(withBase({}));
    expect(warmupSpecOf(c.rules[0]!)).toBeNull();
  });

  it('carries every warm-up setting', () => {
    const c = config(
      withBase({
        warmup: { deadline: '1m', on_deadline: 'ready' },
        'program:web': { warmup: '/Plone, http://127.0.0.1:1/x', headers: 'Host: a', expect: '200', interval: '2s', timeout: '3s' },
      }),
    );
    expect(warmupSpecOf(c.rules[0]!)).toEqual({
      requests: ['/Plone', 'http://127.0.0.1:1/x'],
      headers: [['Host', 'a']],
      expect: [{ min: 200, max: 200 }],
      intervalMs: 2000,
      timeoutMs: 3000,
      deadlineMs: 60_000,
      onDeadline: 'ready',
      maxTimeMs: null,
      passes: 1,
      neverEmpty: true,
    });
  });
});
