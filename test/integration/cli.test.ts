// The built listener as supervisord runs it, driven over its pipes: exact protocol bytes, exit codes, stderr logs.

import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { frame } from '../support/frames.js';
import { requireBuiltCli, ROOT } from '../support/paths.js';
import { makeTempDir, removeDir } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';

let dir: string;
let configPath: string;

beforeAll(async () => {
  dir = await makeTempDir('shi-');
  configPath = join(dir, 'listener.ini');
  // The socket does not exist: the listener logs the outage and keeps acknowledging events.
  await writeFile(configPath, `[haproxy]\nsocket = ${join(dir, 'none.sock')}\n\n[program:café]\nservers = site/cafe\n`);
});

afterAll(async () => {
  if (dir !== undefined) await removeDir(dir);
});

interface Session {
  readonly stdout: () => string;
  readonly stderr: () => string;
  write(data: string | Buffer): void;
  end(): void;
  kill(signal: NodeJS.Signals): void;
  /** Closes our end of its stdout or stderr, as a supervisord that went away would. */
  close(which: 'stdout' | 'stderr'): void;
  waitFor(text: string): Promise<void>;
  /** Bytes the process has read from any fd so far (Linux /proc/PID/io `rchar`). */
  readBytes(): number;
  readonly exit: Promise<number | null>;
}

function startListener(): Session {
  const child = spawn(process.execPath, [requireBuiltCli(), '--config', configPath], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, SUPERVISOR_SERVER_URL: '', SUPERVISOR_PROCESS_NAME: 'listener', SUPERVISOR_GROUP_NAME: 'listener' },
  });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    stdout: () => out,
    stderr: () => err,
    write: (data) => child.stdin.write(data),
    end: () => child.stdin.end(),
    kill: (signal) => child.kill(signal),
    close: (which) => child[which].destroy(),
    readBytes: () => Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${child.pid}/io`, 'utf8'))?.[1] ?? NaN),
    async waitFor(text) {
      const deadline = Date.now() + 10_000;
      while (!out.includes(text)) {
        if (Date.now() > deadline) throw new Error(`no ${JSON.stringify(text)} on stdout; got ${JSON.stringify(out)}\n${err}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
    exit,
  };
}

const ACK = 'RESULT 2\nOKREADY\n';
const event = (state: string, from: string, serial: number, name = 'café') =>
  frame(`PROCESS_STATE_${state}`, `processname:${name} groupname:${name} from_state:${from} pid:42`, { serial, poolserial: serial });

describe('the listener over its pipes', () => {
  it('answers READY, then exactly RESULT 2\\nOK per event (non-ASCII names included); exits 0 on EOF', async () => {
    const l = startListener();
    await l.waitFor('READY\n');
    l.write(event('STOPPING', 'RUNNING', 1));
    await l.waitFor(`READY\n${ACK}`);
    // Split mid-character and across frames, as a pipe may deliver it.
    const two = Buffer.from(event('STOPPED', 'STOPPING', 2) + event('STARTING', 'STOPPED', 3, 'other'));
    const cut = two.indexOf(Buffer.from('é')) + 1; // inside the two bytes of é
    const read = l.readBytes();
    l.write(two.subarray(0, cut));
    // The rest only once the listener has read this part, so that it sees the split.
    await waitFor(() => l.readBytes() >= read + cut || undefined, { timeoutMs: 10_000, what: 'the listener to read the first part' });
    l.write(two.subarray(cut));
    await l.waitFor(`READY\n${ACK}${ACK}${ACK}`);
    l.end();
    expect(await l.exit).toBe(0);
    expect(l.stdout()).toBe(`READY\n${ACK}${ACK}${ACK}`);
    expect(l.stderr()).toMatch(/level=info msg="event received" event=PROCESS_STATE_STOPPING process="café:café" from=RUNNING serial=1/);
    expect(l.stderr()).not.toMatch(/level=error msg="malformed/);
  });

  it('ignores its own events', async () => {
    const l = startListener();
    await l.waitFor('READY\n');
    l.write(event('RUNNING', 'STARTING', 1, 'listener'));
    await l.waitFor(ACK);
    l.end();
    expect(await l.exit).toBe(0);
    expect(l.stderr()).not.toContain('process=listener:listener');
  });

  it('a malformed frame: one line on stderr, exit 1, nothing more on stdout', async () => {
    const l = startListener();
    await l.waitFor('READY\n');
    l.write('this is not a header\n');
    expect(await l.exit).toBe(1);
    expect(l.stdout()).toBe('READY\n');
    expect(l.stderr().split('\n').filter((line) => line.includes('malformed'))).toHaveLength(1);
    expect(l.stderr()).toMatch(/level=error msg="malformed input from supervisord; exiting so it restarts the listener" reason=malformed/);
    expect(l.stderr()).toMatch(/msg="listener stopped" exit_code=1\n$/);
  });

  it('SIGTERM: exits 0', async () => {
    const l = startListener();
    await l.waitFor('READY\n');
    l.kill('SIGTERM');
    expect(await l.exit).toBe(0);
    expect(l.stderr()).toMatch(/msg="listener stopping" reason=SIGTERM/);
    expect(l.stdout()).toBe('READY\n');
  });

  it('stdout closed (EPIPE: supervisord gone): its own line on stderr, exit 1', async () => {
    const l = startListener();
    await l.waitFor('READY\n');
    l.close('stdout');
    l.write(event('STOPPING', 'RUNNING', 1));
    expect(await l.exit).toBe(1);
    expect(l.stderr()).toMatch(/level=error msg="stdout closed: supervisord is gone; listener stopping" reason=stdout error="[^"]*EPIPE/);
    expect(l.stderr()).not.toMatch(/malformed|internal error|unexpected error/);
  });

  it('stderr closed: lines are lost, the listener goes on acknowledging, and exits 0 at EOF', async () => {
    const l = startListener();
    await l.waitFor('READY\n');
    l.close('stderr');
    for (let serial = 1; serial <= 3; serial++) {
      l.write(event(serial % 2 === 1 ? 'STOPPING' : 'RUNNING', serial % 2 === 1 ? 'RUNNING' : 'STOPPING', serial));
      await l.waitFor(`READY\n${ACK.repeat(serial)}`);
    }
    l.end();
    expect(await l.exit).toBe(0);
    expect(l.stdout()).toBe(`READY\n${ACK.repeat(3)}`);
  });

  it('reads events from a stdin that is a file, not a pipe (run by hand), and exits 0 at its end', async () => {
    const input = join(dir, 'events.bin');
    await writeFile(input, event('STOPPING', 'RUNNING', 1) + event('STOPPED', 'STOPPING', 2) + event('STARTING', 'STOPPED', 3, 'other'));
    const fd = openSync(input, 'r');
    const child = spawn(process.execPath, [requireBuiltCli(), '--config', configPath], {
      stdio: [fd, 'pipe', 'pipe'],
      env: { ...process.env, SUPERVISOR_SERVER_URL: '' },
    });
    closeSync(fd);
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (err += c));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, err).toBe(0);
    expect(out).toBe(`READY\n${ACK}${ACK}${ACK}`);
    expect(err).toMatch(/msg="event received" event=PROCESS_STATE_STOPPED process="café:café" from=STOPPING serial=2/);
  });

  it('runs as the installed bin: its first line is `#!/usr/bin/env node`, no runtime flags', async () => {
    expect(readFileSync(requireBuiltCli(), 'utf8').split('\n', 1)[0]).toBe('#!/usr/bin/env node');
    const child = spawn(requireBuiltCli(), ['--config', configPath], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, SUPERVISOR_SERVER_URL: '' } });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.stdin.end(event('STOPPING', 'RUNNING', 1));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, err).toBe(0);
    expect(out).toBe(`READY\n${ACK}`);
    expect(err).toMatch(/msg="listener starting"[^\n]*\n[\s\S]*msg="stdin closed: supervisord is gone; listener stopping" reason=eof[\s\S]*msg="listener stopped" exit_code=0\n$/);
  });

  it('a config error: file, section and key on stderr, exit 2, stdout untouched', async () => {
    const bad = join(dir, 'bad.ini');
    await writeFile(bad, `[haproxy]\nsocket = ${join(dir, 'none.sock')}\n\n[program:web]\nservers = site/inst ance1\n`);
    const r = await runCli(['--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toMatch(new RegExp(`^supervisor-haproxy: ${bad}: \\[program:web\\] servers: .*inst ance1.*not a valid HAProxy name`));
  });

  it('the positional form of the Python tool starts like the config form', async () => {
    const r = await runCli([`unix://${join(dir, 'none.sock')}`, 'instance1:plone01/plone0101', '--log-level', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--log-level must be one of debug, info, warn, error, not 'nope'");
  });
});

describe('--version and --help', () => {
  it('--version and -V: the version of package.json on stdout, exit 0', async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect(r, flag).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it('--help, -h: the overview on stdout, exit 0', async () => {
    for (const argv of [['--help'], ['-h']]) {
      const r = await runCli(argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^usage:\n/);
      expect(r.stdout).toContain('supervisor-haproxy status --config FILE');
    }
  });

  it("COMMAND --help: that command's own help on stdout, exit 0", async () => {
    for (const [command, flag] of [['check', '--help'], ['status', '-h'], ['restart', '--help'], ['listen', '--help']] as const) {
      const r = await runCli([command, flag]);
      expect(r.code, command).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(new RegExp(`^usage: supervisor-haproxy ${command === 'listen' ? '\\[listen\\]' : command} --config FILE`));
      expect(r.stdout).not.toContain('  check    validate');
    }
  });

  it('a usage error: the error and the usage on stderr, exit 2, nothing on stdout', async () => {
    const r = await runCli(['status', '--nope']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^supervisor-haproxy: unknown option --nope\nusage:\n/);
  });
});
