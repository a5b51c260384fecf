import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { contractExample, expectConfigError } from './fixtures.js';

const ROOT_DIR = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'sh-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadConfig', () => {
  it('reads and parses the file, naming it in the Config', () => {
    const path = join(dir, 'ok.ini');
    writeFileSync(path, contractExample());
    const config = loadConfig(path, {});
    expect(config.file).toBe(path);
    expect(config.rules.map((r) => r.section)).toEqual(['program:instance1', 'group:app']);
  });

  it('names the file in parse errors', () => {
    const path = join(dir, 'bad.ini');
    writeFileSync(path, contractExample().replace('on_stopping = maint', 'on_stopping = up'));
    expectConfigError(() => loadConfig(path, {}), {
      file: path,
      section: 'program:instance1',
      key: 'on_stopping',
      detail: 'expected maint or drain',
    });
  });

  it('reports a missing file with the OS error', () => {
    const path = join(dir, 'missing.ini');
    expectConfigError(() => loadConfig(path, {}), { file: path, section: null, key: null, detail: /ENOENT/ });
  });

  it('reports a directory with the OS error', () => {
    expectConfigError(() => loadConfig(dir, {}), { file: dir, section: null, key: null, detail: /EISDIR/ });
  });
});

describe('the shipped example', () => {
  it('supervisor-haproxy.ini.example loads as it is', () => {
    const config = loadConfig(resolve(ROOT_DIR, 'supervisor-haproxy.ini.example'), {});
    expect(config.rules.map((r) => r.section)).toEqual(['program:instance1', 'program:instance2']);
    expect(config.rules[1]?.onStopping).toBe('drain');
  });
});
