// The listener end to end: real supervisord runs the built dist/cli.js as [eventlistener:x] and real
// slow-starting apps; two real HAProxy instances (unix and tcp sockets) must follow.

import { readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHaproxy, type HaproxyInstance } from '../support/haproxy.js';
import { useStack } from '../support/hooks.js';
import { freePort } from '../support/ports.js';
import { appsListening, waitForLog } from '../support/programs.js';
import { startSupervisord, type SupervisordInstance } from '../support/supervisord.js';
import { makeTempDir, removeDir } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';
import { listenerCommand, listenerNode, slowAppPath } from '../support/paths.js';

const LISTENER = listenerCommand().join(' ');
const APP = slowAppPath();

let dir: string;
let hapA: HaproxyInstance;
let hapB: HaproxyInstance;
let sup: SupervisordInstance;
const ports: Record<string, number> = {};

// Health checks as a real site has them: /health answers at once, long before the site path is warm.
const CHECKS = ['option httpchk GET /health'];
const INTER = 'inter 500ms rise 2 fall 2';

async function statusOn(hap: HaproxyInstance, server: string): Promise<string> {
  return hap.serverStatus(server.startsWith('app_') ? 'grp' : 'site', server);
}

/** Both HAProxy instances show `prefix` for the server. */
async function bothShow(server: string, prefix: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(
    async () => {
      const [a, b] = await Promise.all([statusOn(hapA, server), statusOn(hapB, server)]);
      return a.startsWith(prefix) && b.startsWith(prefix) ? true : undefined;
    },
    { timeoutMs, intervalMs: 20, what: `${server} ${prefix} on both haproxy instances` },
  );
}

async function listenerLog(): Promise<string> {
  return readFile(join(dir, 'listener.log'), 'utf8');
}

/** Starts the file's haproxy, supervisord, apps and listener on ports picked now. */
async function start(): Promise<void> {
  dir = await makeTempDir('shl-');
  for (const name of ['web1', 'never', 'forced', 'cafe']) ports[name] = await freePort();
  // numprocs programs need consecutive ports: a base whose two ports are free.
  ports['app_00'] = await freePort();
  ports['app_01'] = await freePort();
  const backends = [
    {
      name: 'site',
      options: CHECKS,
      servers: ['web1', 'never', 'forced', 'cafe'].map((s) => ({ name: s, port: ports[s] as number, check: true, options: INTER })),
    },
    {
      name: 'grp',
      options: CHECKS,
      servers: ['app_00', 'app_01'].map((s) => ({ name: s, port: ports[s] as number, check: true, options: INTER })),
    },
  ];
  hapA = await startHaproxy({ dir: join(dir, 'a'), backends, sockets: [{ kind: 'unix', level: 'admin' }] });
  hapB = await startHaproxy({ dir: join(dir, 'b'), backends, sockets: [{ kind: 'tcp', level: 'admin' }] });
  const config = `
[haproxy]
socket = ${hapA.sockets[0]}, ${hapB.sockets[0]}
timeout = 1s
heartbeat = 1s

[warmup]
interval = 100ms
timeout = 800ms
deadline = 20s

[program:web1]
servers = site/web1
warmup = /site, /site/news

[program:never]
servers = site/never
warmup = /site
deadline = 2s

[program:forced]
servers = site/forced
warmup = /site
deadline = 2s
on_deadline = ready

[program:café]
servers = site/cafe

[group:grp]
servers = grp/%(process_name)s
warmup = /site
`;
  const configPath = join(dir, 'listener.ini');
  await (await import('node:fs/promises')).writeFile(configPath, config);
  const app = (name: string, env: string, extra = '', startsecs = 1) => `
[program:${name}]
command = ${process.execPath} ${APP}
environment = ${env}
startsecs = ${startsecs}
stopwaitsecs = 5
autorestart = true
stdout_logfile = ${join(dir, `${name}.out`)}
stderr_logfile = ${join(dir, `${name}.err`)}
${extra}`;
  const cold = 'LISTEN_DELAY_MS="300",COLD_MS="1500",WARM_AFTER="2"';
  const programs = [
    app('web1', `PORT="${ports['web1']}",${cold}`),
    // The listener must find `never` still STARTING at its start-up resync (a program found RUNNING and
    // ready is left as it is, and `never` is then never warmed up): room for a slow start on a loaded machine.
    app('never', `PORT="${ports['never']}",NEVER_WARM="1"`, '', 4),
    app('forced', `PORT="${ports['forced']}",NEVER_WARM="1"`),
    app('café', `PORT="${ports['cafe']}"`),
    `
[group:grp]
programs = app_00,app_01
`,
    app('app_00', `PORT="${ports['app_00']}",${cold}`),
    app('app_01', `PORT="${ports['app_01']}",${cold}`),
    `
[eventlistener:listener]
command = ${LISTENER} --config ${configPath}
events = PROCESS_STATE,PROCESS_GROUP
buffer_size = 100
autorestart = true
stdout_logfile = ${join(dir, 'listener-stdout.log')}
stderr_logfile = ${join(dir, 'listener.log')}
`,
  ].join('\n');
  sup = await startSupervisord({ dir: join(dir, 'sup'), programs });
  await appsListening(dir, ['web1', 'never', 'forced', 'café', 'app_00', 'app_01']);
}

async function teardown(): Promise<void> {
  await sup?.stop();
  await hapA?.stop();
  await hapB?.stop();
  if (dir !== undefined) await removeDir(dir);
}

useStack(start, teardown);

describe('listener with real supervisord and two haproxy instances', () => {
  it('runs on the node it was given (Node 18 under `npm run test:installed`)', async () => {
    const pid = Number((await sup.ctl('pid', 'listener')).stdout.trim());
    expect(pid).toBeGreaterThan(0);
    expect(await realpath(`/proc/${pid}/exe`)).toBe(await realpath(listenerNode()));
  });

  it('brings every program to its final state at start-up', async () => {
    await bothShow('web1', 'UP');
    await bothShow('cafe', 'UP');
    await bothShow('app_00', 'UP');
    await bothShow('app_01', 'UP');
    await bothShow('forced', 'UP');
    await bothShow('never', 'MAINT');
  });

  it('names the HAProxy version of each socket once, within the supported range', async () => {
    for (const hap of [hapA, hapB]) {
      const line = `msg="haproxy version" socket=${hap.sockets[0]} version=${hap.version} supported="2.2 to 3.x"`;
      const log = await waitForLog(dir, new RegExp(line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), `the version of ${hap.sockets[0]}`);
      expect(log.split(line).length - 1).toBe(1);
    }
  });

  it('supervisorctl stop → MAINT on both at once; start → UP only after warm-up', async () => {
    await bothShow('web1', 'UP');
    const stop = await sup.ctl('stop', 'web1');
    expect(stop.code).toBe(0);
    await bothShow('web1', 'MAINT', 2000);
    const start = await sup.ctl('start', 'web1');
    expect(start.code).toBe(0);
    // RUNNING has been reached (supervisorctl start waits for it), the app is still cold: still MAINT.
    expect(await statusOn(hapA, 'web1')).toMatch(/^MAINT/);
    expect(await statusOn(hapB, 'web1')).toMatch(/^MAINT/);
    await bothShow('web1', 'UP', 20_000);
    await waitForLog(dir, /msg="warm-up passed" process=web1:web1 elapsed_ms=\d+ tries=\d+/, "web1's warm-up");
  });

  it('supervisorctl restart → MAINT, still MAINT while cold after RUNNING, UP once warm', async () => {
    await bothShow('web1', 'UP');
    const seen: string[] = [];
    let watching = true;
    // Samples every state HAProxy shows until told to stop.
    const watcher = waitFor(
      async () => {
        const s = await statusOn(hapA, 'web1');
        if (seen[seen.length - 1] !== s) seen.push(s);
        return !watching || undefined;
      },
      { timeoutMs: 60_000, intervalMs: 20, what: 'the restart to be over (watcher of web1)' },
    );
    const restart = await sup.ctl('restart', 'web1');
    expect(restart.code).toBe(0);
    expect(await statusOn(hapA, 'web1')).toMatch(/^MAINT/);
    await bothShow('web1', 'UP', 20_000);
    watching = false;
    await watcher;
    // The watcher may have stopped before its next look: the state bothShow saw counts too.
    const last = await statusOn(hapA, 'web1');
    if (seen[seen.length - 1] !== last) seen.push(last);
    // UP → MAINT → UP (`UP 1/2` right after maint, then `UP`), never UP in between.
    const words = seen.map((s) => s.split(' ')[0]).filter((w, i, all) => i === 0 || all[i - 1] !== w);
    expect(words).toEqual(['UP', 'MAINT', 'UP']);
    // The app was warm when HAProxy got it back: its site path says so.
    const res = await fetch(`http://127.0.0.1:${ports['web1']}/site`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-slow-app')).toBe('warm');
  });

  it('a warm-up that never passes keeps the server in MAINT after the deadline', async () => {
    await sup.ctl('restart', 'never');
    await waitFor(async () => ((await listenerLog()).match(/deadline passed; server stays in maint" process=never:never/g) ?? []).length >= 2 || undefined, {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'second deadline log line for never',
    });
    expect(await statusOn(hapA, 'never')).toMatch(/^MAINT/);
    expect(await statusOn(hapB, 'never')).toMatch(/^MAINT/);
  });

  it('on_deadline = ready makes it UP after the deadline', async () => {
    await sup.ctl('restart', 'forced');
    await bothShow('forced', 'MAINT', 2000);
    await bothShow('forced', 'UP', 10_000);
    await waitForLog(dir, /ready anyway \(on_deadline = ready\)" process=forced:forced/, 'ready anyway for forced');
  });

  it('maps a [group:…] with %(process_name)s', async () => {
    await bothShow('app_01', 'UP');
    await sup.ctl('stop', 'grp:app_01');
    await bothShow('app_01', 'MAINT', 2000);
    expect(await statusOn(hapA, 'app_00')).toMatch(/^UP/);
    await sup.ctl('start', 'grp:app_01');
    expect(await statusOn(hapA, 'app_01')).toMatch(/^MAINT/);
    await bothShow('app_01', 'UP', 20_000);
  });

  it('a non-ASCII program name does not desynchronise the listener', async () => {
    await sup.ctl('stop', 'café');
    await bothShow('cafe', 'MAINT', 2000);
    await sup.ctl('start', 'café');
    await bothShow('cafe', 'UP', 5000);
    // Events after the non-ASCII ones are still understood.
    await sup.ctl('stop', 'web1');
    await bothShow('web1', 'MAINT', 2000);
    await sup.ctl('start', 'web1');
    await bothShow('web1', 'UP', 20_000);
  });

  it("the listener's stdout held nothing but protocol", async () => {
    const out = await readFile(join(dir, 'listener-stdout.log'), 'utf8');
    expect(out.length).toBeGreaterThan(0);
    expect(out).toMatch(/^READY\n(RESULT 2\nOKREADY\n)+$/);
    const log = await listenerLog();
    expect(log).not.toMatch(/malformed|unexpected error|internal error|unhandled rejection|could not be decoded/);
  });
});
