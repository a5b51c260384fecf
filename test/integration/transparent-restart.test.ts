// `supervisorctl restart` as operators use it, with real haproxy and supervisord, under load: in service as
// soon as warm whatever startsecs is, warm means fast, a process that dies before RUNNING goes back to maint,
// back-to-back restarts never empty a backend, and the rolling `restart` is paced by warm-up.

import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { countingProgram, readVisits } from '../support/counting.js';
import { startHaproxy, type HaproxyInstance } from '../support/haproxy.js';
import { useStack } from '../support/hooks.js';
import { freePort } from '../support/ports.js';
import { appsListening, listenerLog, listenerProgram, waitForListenerSettled, waitForLog, writeListenerConfig } from '../support/programs.js';
import { startSupervisord, type SupervisordInstance } from '../support/supervisord.js';
import { makeTempDir, removeDir } from '../support/tmp.js';
import { startVisitors } from '../support/visitors.js';
import { waitFor } from '../support/wait.js';

// site: startsecs = 10, as Plone sites set it; pair: startsecs = 1 and a warm-up longer than that.
const SITE = ['web1', 'web2', 'flaky'] as const;
const PAIR = ['p1', 'p2'] as const;
const ALL = [...SITE, ...PAIR];

let dir: string;
let appDir: string;
let hap: HaproxyInstance;
let sup: SupervisordInstance;
let configPath: string;
const ports: Record<string, number> = {};

const status = (backend: string, server: string): Promise<string> => hap.serverStatus(backend, server);
const crash = (name: string, on: boolean): Promise<void> =>
  on ? writeFile(join(appDir, `${name}.crash`), '') : rm(join(appDir, `${name}.crash`), { force: true });

async function start(): Promise<void> {
  dir = await makeTempDir('sht-');
  appDir = join(dir, 'apps');
  await mkdir(appDir, { recursive: true });
  for (const n of [...ALL, 'fe', 'fe2']) ports[n] = await freePort();
  const check = (n: string) => ({ name: n, port: ports[n] as number, check: true, options: 'inter 500ms rise 1 fall 1' });
  hap = await startHaproxy({
    dir: join(dir, 'hap'),
    backends: [
      { name: 'site', options: ['option httpchk GET /'], servers: SITE.map(check) },
      { name: 'pair', options: ['option httpchk GET /'], servers: PAIR.map(check) },
    ],
    frontends: [
      { name: 'fe', port: ports['fe'] as number, backend: 'site' },
      { name: 'fe2', port: ports['fe2'] as number, backend: 'pair' },
    ],
    // What the README asks of haproxy.cfg: a request caught by an instance going away is retried elsewhere.
    defaults: ['option forwardfor', 'option redispatch', 'retries 3', 'retry-on conn-failure empty-response response-timeout'],
  });
  configPath = await writeListenerConfig(
    dir,
    `[haproxy]
socket = ${hap.sockets[0]}
heartbeat = 500ms

[supervisor]
url = unix://${join(dir, 'sup', 'supervisor.sock')}

[listener]
state_file = ${join(dir, 'listener-state.json')}

[warmup]
interval = 100ms
timeout = 2s
max_time = 200ms
deadline = 20s

[group:site]
servers = site/%(process_name)s
warmup = /site

[group:pair]
servers = pair/%(process_name)s
warmup = /site
`,
  );
  // Cold pages answer 200 slowly (400 ms): a visitor would get them; the warm-up's max_time does not pass them.
  const slowThenFast = { LISTEN_DELAY_MS: 300, WARM_AFTER_MS: 1500, COLD_STATUS: 200, COLD_DELAY_MS: 400 };
  const program = (name: string, env: Record<string, number>, extra: string[]) =>
    countingProgram(dir, appDir, name, ports[name] as number, env, extra);
  sup = await startSupervisord({
    dir: join(dir, 'sup'),
    programs: [
      // flaky, with its crash file, dies 3 s after opening its port: warm by then, and before startsecs.
      ...SITE.map((n) => program(n, { ...slowThenFast, EXIT_AFTER_MS: 3000 }, ['startsecs = 10', 'startretries = 1'])),
      `[group:site]\nprograms = ${SITE.join(',')}\n`,
      ...PAIR.map((n) => program(n, { LISTEN_DELAY_MS: 200, WARM_AFTER_MS: 4000, COLD_STATUS: 200, COLD_DELAY_MS: 300 }, ['startsecs = 1'])),
      `[group:pair]\nprograms = ${PAIR.join(',')}\n`,
      listenerProgram(dir, configPath),
    ].join('\n'),
  });
  await appsListening(dir, ALL, 30_000);
  // The site group becomes RUNNING only after startsecs = 10: wait for every server UP and the listener quiet.
  const allUp = async (): Promise<boolean> => {
    const s = await Promise.all([...SITE.map((n) => status('site', n)), ...PAIR.map((n) => status('pair', n))]);
    return s.every((x) => x.startsWith('UP'));
  };
  await waitForListenerSettled(join(dir, 'listener.log'), allUp, { quietMs: 1000, timeoutMs: 60_000 });
}

async function teardown(): Promise<void> {
  await sup?.stop();
  await hap?.stop();
  if (dir !== undefined) await removeDir(dir);
}

useStack(start, teardown, 120_000);

/** Polls the server's HAProxy status every 20 ms while `during` runs; the distinct statuses in order. */
async function watch(backend: string, server: string, during: Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  let done = false;
  void during.finally(() => (done = true));
  while (!done) {
    const s = (await status(backend, server)).split(' ')[0] as string;
    if (seen[seen.length - 1] !== s) seen.push(s);
    await new Promise((r) => setTimeout(r, 20));
  }
  return seen;
}

describe('supervisorctl restart, transparent', () => {
  it('startsecs = 10: UP again before RUNNING, once warm; no visitor request served cold or failed', async () => {
    const coldBefore = (await readVisits(appDir, 'web1')).length;
    const visitors = startVisitors(`http://127.0.0.1:${ports['fe']}/site`, { clients: 4, timeoutMs: 5000 });
    const restart = sup.ctl('restart', 'site:web1');
    await hap.waitStatus('site', 'web1', 'MAINT', 10_000);
    await hap.waitStatus('site', 'web1', 'UP', 15_000);
    // In service while supervisord still counts its startsecs.
    const when = await sup.ctl('status', 'site:web1');
    expect(when.stdout).toMatch(/STARTING/);
    const r = await restart;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const result = await visitors.stop();
    expect(result.failures).toEqual({});
    expect(result.requests).toBeGreaterThan(100);
    const visits = (await readVisits(appDir, 'web1')).slice(coldBefore);
    expect(visits.filter((v) => v.cold)).toEqual([]);
    expect((await readVisits(appDir, 'web2')).filter((v) => v.cold)).toEqual([]);
    // Warm means fast: the slow (cold) answers failed the warm-up, each with its reason.
    const log = await waitForLog(dir, /msg="warm-up passed/, 'the warm-up of web1 passing');
    expect(log).toMatch(/msg="warm-up probe" process=site:web1 url=\S+ attempt=\d+ ok=false status=200 error="slow: \d+ms > max_time 200ms"/);
  });

  it('a process that dies before startsecs goes back to maint; its STARTING→BACKOFF loop leaves no warm-up running', async () => {
    await crash('flaky', true);
    try {
      const from = (await listenerLog(dir)).length;
      const restart = sup.ctl('restart', 'site:flaky');
      const seen = await watch('site', 'flaky', restart);
      await waitFor(async () => ((await sup.ctl('status', 'site:flaky')).stdout.includes('FATAL') ? true : undefined), {
        timeoutMs: 30_000,
        what: 'flaky to go FATAL',
      });
      const log = await waitForLog(dir, /event=PROCESS_STATE_FATAL process=site:flaky/, 'the FATAL of flaky', from, 20_000);
      expect(await status('site', 'flaky')).toMatch(/^MAINT/);
      // Warm before it died: in service, then out again at BACKOFF; it never stays ready.
      expect(seen).toContain('UP');
      expect(seen[seen.length - 1]).toBe('MAINT');
      // Every STARTING began a warm-up and every BACKOFF ended the one in progress or took the server out.
      const starts = log.match(/event=PROCESS_STATE_STARTING process=site:flaky/g)?.length ?? 0;
      expect(starts).toBe(2);
      expect(log.match(/msg="warm-up started" process=site:flaky/g)?.length).toBe(starts);
      // Nothing probes flaky after FATAL.
      const fatalAt = log.search(/event=PROCESS_STATE_FATAL process=site:flaky/);
      await new Promise((r) => setTimeout(r, 1000));
      const after = (await listenerLog(dir)).slice(from + fatalAt);
      expect(after).not.toMatch(/msg="warm-up probe" process=site:flaky/);
      expect(await status('site', 'flaky')).toMatch(/^MAINT/);
    } finally {
      await crash('flaky', false);
      await sup.ctl('start', 'site:flaky');
      await hap.waitStatus('site', 'flaky', 'UP', 20_000);
    }
  });

  it('supervisorctl restart p1; supervisorctl restart p2 under load: no 503, the backend is never empty', async () => {
    const from = (await listenerLog(dir)).length;
    // retryReused: a request that failed unanswered on a reused keep-alive connection is sent again, as browsers do.
    const visitors = startVisitors(`http://127.0.0.1:${ports['fe2']}/site`, { clients: 4, timeoutMs: 5000, retryReused: true });
    // supervisorctl restart returns at RUNNING (startsecs = 1), before p1's warm-up (4 s) has passed.
    expect((await sup.ctl('restart', 'pair:p1')).code).toBe(0);
    expect((await sup.ctl('restart', 'pair:p2')).code).toBe(0);
    await hap.waitStatus('pair', 'p1', 'UP', 15_000);
    await hap.waitStatus('pair', 'p2', 'UP', 15_000);
    const result = await visitors.stop();
    expect(result.failures).toEqual({});
    expect(result.requests).toBeGreaterThan(50);
    const log = await waitForLog(dir, /msg="backend would have no server in service/, 'the stopgap', from);
    expect(log).toMatch(/level=warn msg="backend would have no server in service: ready before warm \(its port answers\)" process=pair:p1 backend=pair/);
  });
});

describe('the rolling restart command', () => {
  it('moves on once an instance is UP; one that then dies before RUNNING stops it, exit 1, saying which', async () => {
    await crash('flaky', true);
    try {
      const r = await runCli(['restart', '--config', configPath, 'site:flaky', 'site:web2', '--ready-timeout', '1m'], { timeoutMs: 90_000 });
      expect(r.stdout).toMatch(/site:flaky: UP on every socket/);
      expect(r.stdout).toMatch(/site:flaky went (BACKOFF|FATAL|STARTING again \(pid \d+ died; supervisord retries\)) after it was back in service, before supervisord counted it RUNNING/);
      expect(r.code).toBe(1);
      expect(await status('site', 'flaky')).toMatch(/^MAINT/);
    } finally {
      await crash('flaky', false);
      await sup.ctl('start', 'site:flaky');
      await hap.waitStatus('site', 'flaky', 'UP', 30_000);
    }
  });
});
