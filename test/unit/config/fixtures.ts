// Builders for config tests: the contract example of PRODUCT.md, INI text from data, and error capture.

import { expect } from 'vitest';
import { ConfigError } from '../../../src/errors.js';

/** The example of PRODUCT.md "Configuration contract", verbatim (inline comments on headers included). */
export function contractExample(): string {
  return [
    '[haproxy]',
    'socket = /run/haproxy/admin.sock          ; unix path or tcp://host:port; several, comma-separated',
    'timeout = 2s',
    '',
    '[supervisor]',
    'url = unix:///var/run/supervisor.sock     ; default: $SUPERVISOR_SERVER_URL, which supervisord sets',
    '                                          ; credentials: $SUPERVISOR_USERNAME / $SUPERVISOR_PASSWORD',
    '[warmup]                                  ; defaults for every program',
    'interval = 1s',
    'timeout = 10s',
    'deadline = 5m',
    'expect = 200-399',
    'on_deadline = maint                       ; or ready',
    '',
    '[program:instance1]                       ; supervisord name: process, or group:process',
    'servers = plone/instance1                 ; backend/server; several, comma-separated',
    'warmup = /Plone, /Plone/news              ; each must pass, in order',
    'headers = Host: www.example.org',
    'on_stopping = maint                       ; or drain',
    '',
    '[group:app]                               ; every process of group app (numprocs)',
    'servers = plone/%(process_name)s',
    'warmup = /Plone',
    '',
  ].join('\n');
}

export type Sections = Record<string, Record<string, string>>;

/** INI text for `sections`, in insertion order; `preamble` lines go before the first header. */
export function ini(sections: Sections, preamble: readonly string[] = []): string {
  const lines = [...preamble];
  for (const [name, keys] of Object.entries(sections)) {
    lines.push(`[${name}]`);
    for (const [k, v] of Object.entries(keys)) lines.push(`${k} = ${v}`);
    lines.push('');
  }
  return lines.join('\n');
}

/** The smallest valid config: one socket, one program. */
export const BASE: Sections = {
  haproxy: { socket: '/run/haproxy/admin.sock' },
  'program:web': { servers: 'be/web1' },
};

/**
 * BASE with `changes` applied per section: a key set to null is removed, a section set to null is removed,
 * new sections are appended.
 */
export function withBase(changes: Record<string, Record<string, string | null> | null>): Sections {
  const out: Sections = {};
  for (const [name, keys] of Object.entries(BASE)) out[name] = { ...keys };
  for (const [name, keys] of Object.entries(changes)) {
    if (keys === null) {
      delete out[name];
      continue;
    }
    const section = (out[name] ??= {});
    for (const [k, v] of Object.entries(keys)) {
      if (v === null) delete section[k];
      else section[k] = v;
    }
  }
  return out;
}

/** Runs `fn`, expects a ConfigError, checks its code and where it points, and returns it. */
export function expectConfigError(
  fn: () => unknown,
  where: { file: string; section: string | null; key: string | null; detail: string | RegExp },
): ConfigError {
  let caught: unknown = null;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  const err = caught as ConfigError;
  expect(err.code).toBe('CONFIG');
  expect({ file: err.file, section: err.section, key: err.key }).toEqual({
    file: where.file,
    section: where.section,
    key: where.key,
  });
  expect(err.detail).toMatch(where.detail);
  // The message names all three, in the form the operator reads on stderr.
  const prefix = `${where.file}${where.section === null ? '' : `: [${where.section}]`}${where.key === null ? '' : ` ${where.key}`}: `;
  expect(err.message.startsWith(prefix)).toBe(true);
  return err;
}
