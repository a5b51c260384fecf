import { describe, expect, it } from 'vitest';
import { parseArgs, USAGE } from '../../src/args.js';
import { UsageError } from '../../src/errors.js';

describe('parseArgs', () => {
  it('defaults to listen with --config', () => {
    const a = parseArgs(['--config', '/etc/x.ini', '--dry-run', '--log-level=debug']);
    expect(a).toMatchObject({ command: 'listen', config: '/etc/x.ini', dryRun: true, logLevel: 'debug', positional: [] });
    expect(parseArgs(['listen', '-c', 'x.ini']).command).toBe('listen');
  });

  it('takes the positional form of the Python tool', () => {
    const a = parseArgs(['tcp://127.0.0.1:8801', 'instance1:plone01/plone0101']);
    expect(a).toMatchObject({ command: 'listen', config: null, positional: ['tcp://127.0.0.1:8801', 'instance1:plone01/plone0101'] });
  });

  it('reads check, status and restart options', () => {
    expect(parseArgs(['check', '-c', 'x', '--probe'])).toMatchObject({ command: 'check', probe: true });
    expect(parseArgs(['status', '-c', 'x', '--json'])).toMatchObject({ command: 'status', json: true });
    expect(
      parseArgs(['restart', '-c', 'x', 'web1', 'grp:*', '--drain-timeout', '10s', '--ready-timeout=2m', '--pause', '500ms', '--maint'])
        .restart,
    ).toEqual({ all: false, names: ['web1', 'grp:*'], drainTimeoutMs: 10_000, readyTimeoutMs: 120_000, pauseMs: 500, takeOut: 'maint' });
    expect(parseArgs(['restart', '-c', 'x', '--all']).restart).toEqual({
      all: true,
      names: [],
      drainTimeoutMs: 30_000,
      readyTimeoutMs: 300_000,
      pauseMs: 0,
      takeOut: 'drain',
    });
  });

  it('--help and --version need nothing else, with or without a command', () => {
    for (const argv of [['--help'], ['-h'], ['check', '--help'], ['restart', '-h'], ['status', '--help', '--json']]) {
      expect(parseArgs(argv)).toMatchObject({ help: true, version: false });
    }
    for (const argv of [['--version'], ['-V'], ['status', '--version']]) {
      expect(parseArgs(argv)).toMatchObject({ help: false, version: true });
    }
    expect(parseArgs(['-c', 'x'])).toMatchObject({ help: false, version: false });
  });

  it('the usage names every command and --version', () => {
    for (const word of ['listen', 'check', 'status', 'restart', '--version', '--help']) expect(USAGE).toContain(word);
  });

  it.each([
    [[], '--config FILE is required'],
    [['--verison'], 'unknown option --verison'],
    [['--config'], '--config needs a value'],
    [['--nope', '-c', 'x'], 'unknown option --nope'],
    [['-c', 'x', 'extra'], "unexpected argument 'extra' with --config"],
    [['--log-level', 'loud', '-c', 'x'], "--log-level must be one of debug, info, warn, error, not 'loud'"],
    [['status'], 'status: --config FILE is required'],
    [['status', '-c', 'x', '--probe'], '--probe does not apply to status'],
    [['check', '-c', 'x', 'web1'], "check: unexpected argument 'web1'"],
    [['restart', '-c', 'x'], 'restart: give --all or at least one NAME'],
    [['restart', '-c', 'x', '--all', 'web1'], 'restart: give --all or names, not both'],
    [['restart', '-c', 'x', 'web1', '--pause', '5'], "--pause: '5': expected a duration like 500ms, 2s or 5m"],
    [['listen', '-c', 'x', '--all'], '--all does not apply to listen'],
  ])('%j → %s', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });
});

describe('--help after a command', () => {
  it.each(['listen', 'check', 'status', 'restart'] as const)('%s --help: that command\'s own help', (command) => {
    const usage = parseArgs([command, '--help']).usage;
    expect(usage).not.toBe(USAGE);
    expect(usage.startsWith(`usage: supervisor-haproxy ${command === 'listen' ? '[listen]' : command} `)).toBe(true);
  });

  it('--help alone: the overview of every command', () => {
    expect(parseArgs(['--help']).usage).toBe(USAGE);
  });
});
