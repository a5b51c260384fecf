// The listener as a non-root user, as the examples document it: a system user whose supplementary group owns
// HAProxy's `mode 660` admin socket, and whose own group may use supervisord's socket (chown root:USER,
// chmod 0770). It must set servers through that socket. Creates a throwaway user and group: needs root.

import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startHaproxy, type HaproxyInstance } from '../support/haproxy.js';
import { freePort } from '../support/ports.js';
import { runCaptured } from '../support/process.js';
import { appProgram, listenerProgram, waitForListenerSettled, writeListenerConfig } from '../support/programs.js';
import { startSupervisord, type SupervisordInstance } from '../support/supervisord.js';
import { makeTempDir, removeDir } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';

const suffix = randomBytes(3).toString('hex');
/** Stands for Debian's `haproxy` group, which owns the socket. */
const GROUP = `shg${suffix}`;
/** Stands for `haproxy-sync`, the listener's own user (and group, by --user-group). */
const USER = `shu${suffix}`;
const created: { group: boolean; user: boolean } = { group: false, user: false };

let dir: string;
let hap: HaproxyInstance;
let sup: SupervisordInstance;
let configPath: string;
let uid: number;
let gid: number;
let port: number;

async function must(cmd: string, args: readonly string[]): Promise<string> {
  const r = await runCaptured(cmd, args, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

const listenerLog = (): Promise<string> => readFile(join(dir, 'listener.log'), 'utf8').catch(() => '');

beforeAll(async () => {
  if (process.getuid?.() !== 0) {
    throw new Error('nonroot.test.ts creates a throwaway user and group with useradd: run the tests as root (CI does)');
  }
  await must('groupadd', ['--system', GROUP]);
  created.group = true;
  // As the README's `useradd --system --no-create-home --shell /usr/sbin/nologin --user-group --groups haproxy haproxy-sync`.
  await must('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', '--groups', GROUP, USER]);
  created.user = true;
  uid = Number(await must('id', ['-u', USER]));
  gid = Number((await must('getent', ['group', GROUP])).split(':')[2]);

  dir = await makeTempDir('shn-');
  // mkdtemp makes it 0700: the listener's user must reach its config and HAProxy's socket below it.
  await chmod(dir, 0o755);
  port = await freePort();
  hap = await startHaproxy({
    dir: join(dir, 'hap'),
    backends: [{ name: 'site', servers: [{ name: 'web1', port }] }],
    sockets: [{ kind: 'unix', level: 'admin', mode: '660', group: GROUP }],
  });
  const stateDir = join(dir, 'state');
  await mkdir(stateDir);
  await chown(stateDir, uid, uid);
  const supDir = join(dir, 'sup');
  configPath = await writeListenerConfig(
    dir,
    `[haproxy]
socket = ${hap.sockets[0]}
timeout = 1s

[supervisor]
url = unix://${join(supDir, 'supervisor.sock')}

[listener]
state_file = ${join(stateDir, 'state.json')}

[warmup]
interval = 100ms
timeout = 2s
deadline = 30s

[program:web1]
servers = site/web1
warmup = /site
`,
  );
  sup = await startSupervisord({
    dir: supDir,
    socketLines: [`chown = root:${USER}`, 'chmod = 0770'],
    programs: [
      appProgram(dir, 'web1', { PORT: port, COLD_MS: 200, WARM_AFTER: 2 }),
      listenerProgram(dir, configPath, { name: 'haproxy-sync', extra: [`user = ${USER}`] }),
    ].join('\n'),
  });
}, 60_000);

afterAll(async () => {
  await sup?.stop();
  await hap?.stop();
  if (dir !== undefined) await removeDir(dir);
  // userdel also removes the user's own group (--user-group).
  if (created.user) await runCaptured('userdel', [USER], { timeoutMs: 30_000 });
  if (created.group) await runCaptured('groupdel', [GROUP], { timeoutMs: 30_000 });
});

describe('the listener as a non-root user in the socket group', () => {
  it("HAProxy's socket is root-owned, mode 660, group-owned: the user reaches it only through its group", async () => {
    const st = await stat(hap.sockets[0] as string);
    expect({ uid: st.uid, gid: st.gid, mode: st.mode & 0o777 }).toEqual({ uid: 0, gid, mode: 0o660 });
  });

  it('runs as that user with the group, asks supervisord for the truth, and sets servers through the socket', async () => {
    // Resynced at start-up (web1 found STARTING and warmed, or found RUNNING and UP and left so), then quiet.
    await waitForListenerSettled(join(dir, 'listener.log'), async () => (await hap.serverStatus('site', 'web1')) === 'no check', {
      quietMs: 1000,
      timeoutMs: 30_000,
    });
    const pid = Number((await sup.ctl('pid', 'haproxy-sync')).stdout.trim());
    const procStatus = await readFile(`/proc/${pid}/status`, 'utf8');
    expect(procStatus).toMatch(new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s`, 'm'));
    expect(/^Groups:\s*(.*)$/m.exec(procStatus)?.[1]?.split(/\s+/)).toContain(String(gid));

    const warmed = async () => ((await listenerLog()).match(/msg="warm-up passed" process=web1:web1/g) ?? []).length;
    const before = await warmed();
    expect((await sup.ctl('stop', 'web1')).code).toBe(0);
    await hap.waitStatus('site', 'web1', 'MAINT', 5000);
    expect((await sup.ctl('start', 'web1')).code).toBe(0);
    await waitFor(async () => (await warmed()) > before || undefined, {
      timeoutMs: 30_000,
      what: 'the listener to warm web1 again',
    });
    await hap.waitStatus('site', 'web1', 'no check', 10_000);
    const log = await listenerLog();
    expect(log).toMatch(/msg=resync reason=start-up/);
    expect(log).toMatch(/msg="server state set" socket=\S+ server=site\/web1 state=maint/);
    expect(log).not.toMatch(/Permission denied|EACCES|level=error/);
  });

  it('writes its state file as that user; status (as root) sees it running', async () => {
    expect((await stat(join(dir, 'state', 'state.json'))).uid).toBe(uid);
    const r = await runCli(['status', '--config', configPath]);
    expect(r.stdout).toMatch(/\nlistener: running under supervisord as haproxy-sync:haproxy-sync, pid \d+/);
    expect(r.code).toBe(0);
  });
});

describe('check, run as root', () => {
  it("judges the state file as the listener's user, not as root", async () => {
    const r = await runCli(['check', '--config', configPath]);
    const stateDir = join(dir, 'state');
    expect(r.stdout).toContain(
      `ok   listener state_file: ${join(stateDir, 'state.json')}: ${stateDir} writable by ${USER} (the listener's user)\n`,
    );
    expect(r.code).toBe(0);
  });
});

describe('check, run as root, while the listener is stopped', () => {
  it("judges the state file as the user= of the listener's section in supervisord's config", async () => {
    expect((await sup.ctl('stop', 'haproxy-sync')).code).toBe(0);
    try {
      const r = await runCli(['check', '--config', configPath]);
      const stateDir = join(dir, 'state');
      expect(r.stdout).toMatch(/\nWARN listener: not running: /);
      expect(r.stdout).toContain(
        `ok   listener state_file: ${join(stateDir, 'state.json')}: ${stateDir} writable by ${USER} (user= of its section in ${sup.confPath})\n`,
      );
    } finally {
      expect((await sup.ctl('start', 'haproxy-sync')).code).toBe(0);
    }
  });
});
