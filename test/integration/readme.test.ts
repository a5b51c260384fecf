// The errors the README shows are the ones the tool prints: each is produced here by the built CLI from the
// config the README describes, and must appear in README.md word for word.

import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { ROOT } from '../support/paths.js';
import { makeTempDir, removeDir } from '../support/tmp.js';

/** The path the README's examples use for the config. */
const README_CONFIG = '/etc/supervisor-haproxy.ini';
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
let dir: string;

beforeAll(async () => {
  dir = await makeTempDir('shreadme-');
});
afterAll(async () => {
  if (dir !== undefined) await removeDir(dir);
});

/** What `check --config FILE` prints on stderr for `text`, with FILE written as the README's path. */
async function configError(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  const r = await runCli(['check', '--config', path]);
  expect(r.code).toBe(2);
  return r.stderr.trimEnd().split(path).join(README_CONFIG);
}

const program = (servers: string): string =>
  `[haproxy]\nsocket = /run/haproxy/admin.sock\n\n[program:instance1]\nservers = ${servers}\n`;

describe('README: bad configuration', () => {
  it.each([
    ['a ; in a server name', 'semicolon.ini', program('plone/inst;ance1')],
    ['an escaped \\; in a server name', 'escaped.ini', program('plone/inst\\;ance1')],
  ])('%s: the line shown is the line printed', async (_what, name, text) => {
    const line = await configError(name, text);
    expect(line).toMatch(/^supervisor-haproxy: \/etc\/supervisor-haproxy\.ini: \[program:instance1\] servers: /);
    expect(readme).toContain(`\n${line}\n`);
  });

  it('the refused SIGHUP reload shows the error the config gets', async () => {
    const line = await configError('duration.ini', program('plone/instance1').replace('socket = /run/haproxy/admin.sock', 'socket = /run/haproxy/admin.sock\ntimeout = 2'));
    const error = line.replace(/^supervisor-haproxy: /, '');
    expect(readme).toContain(
      `level=error msg="config reload refused; the listener goes on with the config it has" config=${README_CONFIG} error="${error}"\n`,
    );
  });
});
