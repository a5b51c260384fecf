// The listener never makes things looser than they should be, with real haproxy and supervisord:
// `restart` and the listener do not fight, a warm-up that throws ends (and follows on_deadline), and the
// server state file follows every change.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { useStack } from '../support/hooks.js';
import { requireBuiltCli, ROOT } from '../support/paths.js';
import { listenerLog as readLog, waitForListenerSettled, waitForLog } from '../support/programs.js';
import { startStack, type Stack } from '../support/stack.js';
import { Teardown } from '../support/teardown.js';
import { makeTempDir, removeDir } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';

const INJECT = join(ROOT, 'test', 'support', 'inject', 'url-throws.mjs');

let dir: string | undefined;
let stack: Stack;
let teardownStack: Teardown;
let stateFile: string;

const listenerLog = (): Promise<string> => readLog(stack.listenerDir());
const shows = (server: string, prefix: string): Promise<void> => stack.hap.waitStatus('site', server, prefix, 20_000);
const logged = (re: RegExp, what: string): Promise<string> => waitForLog(stack.listenerDir(), re, what, 0, 20_000);
const configPath = (): string => join(stack.listenerDir(), 'listener.ini');

async function start(): Promise<void> {
  dir = await makeTempDir('shs-');
  stateFile = join(dir, 'server-state');
  teardownStack = new Teardown();
  const quick = { COLD_MS: 50, WARM_AFTER: 1 };
  const mapping: Record<string, readonly string[]> = {
    web: ['warmup = /site', 'on_stopping = drain'],
    other: ['warmup = /site'],
    boom: ['warmup = /__throw__'],
    boomready: ['warmup = /__throw__', 'on_deadline = ready'],
  };
  stack = await startStack(
    {
      dir,
      apps: [
        // A Zope takes seconds to exit after SIGTERM: STOPPING lasts, and so would a drain.
        { name: 'web', env: { ...quick, EXIT_DELAY_MS: 1500 } },
        { name: 'other', env: quick },
        { name: 'boom', env: quick },
        { name: 'boomready', env: quick },
      ],
      check: 'inter 500ms rise 1 fall 1',
      listeners: [
        {
          haproxy: [`server_state_file = ${stateFile}`],
          // runCli runs the CLI outside supervisord: it needs the url.
          sections: ['[supervisor]', `url = unix://${join(dir, 'supervisor', 'supervisor.sock')}`, ''],
          warmup: ['interval = 100ms', 'timeout = 2s', 'deadline = 10s'],
          mapping: (app) => mapping[app] ?? [],
          // The built listener with a fault injected (see INJECT), whatever $SUPERVISOR_HAPROXY_LISTENER says.
          command: [process.execPath, '--import', INJECT, requireBuiltCli()],
        },
      ],
    },
    teardownStack,
  );
  // Health checks show UP before the listener has done its start-up warm-ups: wait until it has gone quiet.
  const up = async (n: string): Promise<boolean> => (await stack.hap.serverStatus('site', n)).startsWith('UP');
  await waitForListenerSettled(stack.listenerLog(), async () => (await up('web')) && (await up('other')), {
    quietMs: 1000,
    timeoutMs: 30_000,
  });
}

async function teardown(): Promise<void> {
  await teardownStack?.run();
  if (dir !== undefined) await removeDir(dir);
}

useStack(start, teardown);

describe('restart and the listener', () => {
  it('restart --maint: the STOPPING it causes never puts the server back to drain (on_stopping = drain)', async () => {
    const before = (await listenerLog()).length;
    const r = await runCli(['restart', '--config', configPath(), '--maint', 'web', '--ready-timeout', '30s']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await shows('web', 'UP');
    const log = await waitForLog(stack.listenerDir(), /msg="server state set" \S+ server=site\/web state=ready/, 'web set ready', before);
    const lines = log.split('\n').filter((l) => l.includes('server=site/web') || l.includes('process=web:web'));
    const kept = lines.findIndex((l) => l.includes('msg="server state kept"') && l.includes('state=maint') && l.includes('instead_of=drain'));
    const ready = lines.findIndex((l) => l.includes('msg="server state set"') && l.includes('state=ready'));
    expect(kept, log).toBeGreaterThanOrEqual(0);
    expect(ready).toBeGreaterThan(kept);
    expect(lines.some((l) => l.includes('msg="server state set"') && l.includes('state=drain'))).toBe(false);
  });
});

describe('a warm-up that throws', () => {
  it('ends as failed, says why, and leaves the servers in maint (on_deadline = maint)', async () => {
    // Restarted, so that the listener warms them up (at its start it may find them running and ready).
    expect((await stack.sup.ctl('restart', 'boom', 'boomready')).code).toBe(0);
    await logged(/level=error msg="warm-up failed" process=boom:boom error="injected fault: [^"]*__throw__" then="servers stay in maint"/, 'the failed warm-up of boom');
    expect(await stack.hap.serverStatus('site', 'boom')).toMatch(/^MAINT/);
  });

  it('follows on_deadline = ready', async () => {
    await logged(/msg="warm-up failed" process=boomready:boomready .*then="ready \(on_deadline = ready\)"/, 'the failed warm-up of boomready');
    await shows('boomready', 'UP');
  });

  it('the listener goes on: a later stop of another program still takes it out', async () => {
    expect((await stack.sup.ctl('stop', 'other')).code).toBe(0);
    await shows('other', 'MAINT');
    expect((await stack.sup.ctl('status', 'listener')).stdout).toMatch(/RUNNING/);
    expect(await listenerLog()).not.toMatch(/unexpected error|unhandled/i);
    expect((await stack.sup.ctl('start', 'other')).code).toBe(0);
    await shows('other', 'UP');
  });
});

describe('[haproxy] server_state_file', () => {
  it("holds HAProxy's own `show servers state` after each change", async () => {
    expect((await stack.sup.ctl('stop', 'other')).code).toBe(0);
    await shows('other', 'MAINT');
    // srv_admin_state (7th field) has the forced-maint bit for `other`, and the file is HAProxy's format.
    const row = async () => (await readFile(stateFile, 'utf8')).split('\n').find((l) => / site \d+ other /.test(l));
    await waitFor(async () => ((await row())?.split(' ')[6] === '1' ? true : undefined), { timeoutMs: 10_000, what: 'other in maint in the state file' });
    expect((await readFile(stateFile, 'utf8')).startsWith('1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state')).toBe(true);
    expect((await stack.sup.ctl('start', 'other')).code).toBe(0);
    await shows('other', 'UP');
    await waitFor(async () => ((await row())?.split(' ')[6] === '0' ? true : undefined), { timeoutMs: 10_000, what: 'other ready in the state file' });
  });
});
