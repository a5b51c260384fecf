import { describe, expect, it } from 'vitest';
import { HaproxyReplyError } from '../../../src/errors.js';
import {
  ADMIN_BITS,
  adminStateOf,
  describeProcess,
  infoIdentity,
  isNewProcess,
  isSuccess,
  versionOf,
  versionSupport,
  parseCsv,
  parseInfo,
  parseServersState,
  parseShowStat,
  replyError,
  statusWord,
  type StatRow,
  readChainedReplies,
} from '../../../src/haproxy/replies.js';
import { ALL, ERROR_REPLIES, type FixtureVersion } from './fixtures.js';

const DATA_REPLIES = [
  'show-servers-state.txt',
  'show-servers-state-be.txt',
  'show-servers-state-user.txt',
  'show-stat.csv',
  'show-stat-be.csv',
  'show-info.txt',
];
const errorFiles = Object.entries(ERROR_REPLIES);

/** What differs between the versions' replies (read off the captures in test/fixtures/haproxy/<version>/). */
const SHAPES: Record<FixtureVersion, { stateFields: number; statColumns: number; dashAt: number | null; startTime: boolean }> = {
  // 2.2: no srv_use_ssl … srv_agent_port in show servers state, no module stats (and no `-`) in show stat,
  // no Start_time_sec in show info.
  '2.2': { stateFields: 20, statColumns: 99, dashAt: null, startTime: false },
  '2.6': { stateFields: 25, statColumns: 128, dashAt: 103, startTime: true },
  '3.0': { stateFields: 25, statColumns: 205, dashAt: 113, startTime: true },
};

describe.each(ALL)('captured from HAProxy $version', ({ version, reply, commandOf }) => {
  describe('isSuccess (commands that print nothing)', () => {
    it('is true for the captured reply to a successful set server', () => {
      expect(commandOf('set-server-ok.txt')).toMatch(/^set server /);
      expect(reply('set-server-ok.txt')).toBe('\n');
      expect(isSuccess(reply('set-server-ok.txt'))).toBe(true);
    });

    it.each(errorFiles)('is false for %s', (file) => {
      expect(isSuccess(reply(file))).toBe(false);
    });

    it('is false for an empty reply (HAProxy closed without answering)', () => {
      expect(isSuccess('')).toBe(false);
    });
  });

  describe('replyError', () => {
    it.each(errorFiles)('reads the error text of %s', (file, message) => {
      expect(replyError(reply(file))).toBe(message);
    });

    it.each([...DATA_REPLIES, 'set-server-ok.txt'])('is null for the data reply %s', (file) => {
      expect(replyError(reply(file))).toBeNull();
    });

    it('reads the help HAProxy sends for an unknown command as an error', () => {
      expect(replyError(reply('unknown-command.txt'))).toMatch(/^Unknown command/);
    });

    it('reads errors with a severity-output prefix', () => {
      expect(replyError(`[3]: ${reply('no-such-backend.txt')}`)).toBe('[3]: No such backend.');
      expect(replyError(`[err]: ${reply('permission-denied.txt')}`)).toBe('[err]: Permission denied');
    });
  });

  describe('parseServersState', () => {
    it('reads every server of every backend from the captured reply', () => {
      const rows = parseServersState(reply('show-servers-state.txt'));
      expect(rows.map((r) => `${r.backend}/${r.server}`)).toEqual(['be/s1', 'be/s2', 'be/s3', 'be/s4', 'be2/a']);
      expect(rows.map((r) => adminStateOf(r.adminState))).toEqual(['ready', 'drain', 'maint', 'maint', 'ready']);
      expect(rows.map((r) => r.adminState)).toEqual([0, 8, 1, 5, 0]);
      expect(rows.map((r) => r.opState)).toEqual([2, 2, 0, 0, 2]);
      expect(rows.map((r) => r.serverId)).toEqual([1, 2, 3, 4, 1]);
      const beIds = new Set(rows.filter((r) => r.backend === 'be').map((r) => r.backendId));
      expect(beIds.size).toBe(1);
      expect(beIds.has(rows[4]?.backendId ?? -1)).toBe(false);
    });

    it('reads addresses, ports and the check columns by header name', () => {
      const [s1, , s3] = parseServersState(reply('show-servers-state-be.txt'));
      expect(s1).toMatchObject({ addr: '127.0.0.1', port: expect.any(Number), checkStatus: 15, checkResult: 3 });
      expect(s1?.port).toBeGreaterThan(0);
      expect(s3).toMatchObject({
        backend: 'be',
        server: 's3',
        addr: '127.0.0.1',
        port: 18083,
        uweight: 1,
        iweight: 1,
        checkStatus: 1,
        checkState: 0,
        agentState: 0,
      });
      // srv_fqdn is `-`: left out rather than the string '-'.
      expect(s3).not.toHaveProperty('fqdn');
    });

    it(`has ${SHAPES[version].stateFields} fields in the header and on every line`, () => {
      const lines = reply('show-servers-state.txt').split('\n');
      expect((lines[1] as string).slice(2).split(' ')).toHaveLength(SHAPES[version].stateFields);
      expect(lines.slice(2).filter((l) => l !== '').every((l) => l.split(' ').length === SHAPES[version].stateFields)).toBe(true);
    });

    it('reads one backend, also from a level user socket', () => {
      expect(parseServersState(reply('show-servers-state-be.txt'))).toHaveLength(4);
      expect(parseServersState(reply('show-servers-state-user.txt'))).toMatchObject([
        { backend: 'be2', server: 'a', port: 18091, adminState: 0 },
      ]);
    });

    it('finds fields by name, whatever their order', () => {
      const lines = reply('show-servers-state-be.txt').split('\n');
      const swap = (line: string): string => {
        const cells = line.split(' ');
        [cells[1], cells[3]] = [cells[3] as string, cells[1] as string];
        return cells.join(' ');
      };
      // header `# be_id …`: the names start at cell 1, so swapping name cells 1 and 3 is be_name/srv_name
      const header = (lines[1] as string).slice(2).split(' ');
      [header[1], header[3]] = [header[3] as string, header[1] as string];
      const text = [lines[0], `# ${header.join(' ')}`, ...lines.slice(2).map((l) => (l === '' ? l : swap(l)))].join('\n');
      expect(parseServersState(text).map((r) => `${r.backend}/${r.server}`)).toEqual(
        parseServersState(reply('show-servers-state-be.txt')).map((r) => `${r.backend}/${r.server}`),
      );
    });

    it('reads a backend with no servers as no rows', () => {
      const [version, header] = reply('show-servers-state-be.txt').split('\n');
      expect(parseServersState(`${version}\n${header}\n\n`)).toEqual([]);
    });

    it('accepts \\r\\n line ends', () => {
      const text = reply('show-servers-state.txt').replaceAll('\n', '\r\n');
      expect(parseServersState(text)).toEqual(parseServersState(reply('show-servers-state.txt')));
    });

    it.each(errorFiles)('refuses the error reply %s with a HaproxyReplyError', (file) => {
      expect(() => parseServersState(reply(file))).toThrow(HaproxyReplyError);
    });

    it('refuses another format version', () => {
      const text = reply('show-servers-state.txt').replace(/^1\n/, '2\n');
      expect(() => parseServersState(text)).toThrow(/format version 2 is not supported/);
    });

    it('refuses a reply without the header', () => {
      const lines = reply('show-servers-state.txt').split('\n');
      expect(() => parseServersState([lines[0], ...lines.slice(2)].join('\n'))).toThrow(/expected a '# ' header/);
    });

    it('refuses a header without a field it needs', () => {
      const text = reply('show-servers-state.txt').replace(' srv_admin_state ', ' srv_admin_statex ');
      expect(() => parseServersState(text)).toThrow(/no 'srv_admin_state' column/);
    });

    it('refuses a reply cut anywhere inside a data line', () => {
      const text = reply('show-servers-state-be.txt');
      const dataStart = text.indexOf('\n', text.indexOf('# ')) + 1;
      const lastLineEnd = text.lastIndexOf('\n', text.length - 2);
      let refused = 0;
      for (let cut = dataStart + 1; cut < lastLineEnd; cut += 1) {
        if (text[cut - 1] === '\n' || text[cut] === '\n') continue; // a cut at a line end is a shorter, valid reply
        const cutText = text.slice(0, cut);
        const lastLine = cutText.slice(cutText.lastIndexOf('\n') + 1);
        // A cut inside the last field still leaves the right number of fields; everything else must fail.
        if (lastLine.split(' ').length === SHAPES[version].stateFields) continue;
        expect(() => parseServersState(cutText), `cut at ${cut}`).toThrow(HaproxyReplyError);
        refused += 1;
      }
      expect(refused).toBeGreaterThan(100);
    });

    it('refuses a number that is not one', () => {
      const lines = reply('show-servers-state-be.txt').split('\n');
      const cells = (lines[2] as string).split(' ');
      cells[5] = 'x'; // srv_op_state
      const text = [...lines.slice(0, 2), cells.join(' '), ...lines.slice(3)].join('\n');
      expect(() => parseServersState(text)).toThrow(/srv_op_state is not a number/);
    });
  });

  describe('parseInfo and infoIdentity', () => {
    const info = parseInfo(reply('show-info.txt'));

    it('reads every Key: value line, keys with spaces included', () => {
      expect(info['Name']).toBe('HAProxy');
      expect(info['Version']?.startsWith(`${version}.`)).toBe(true);
      expect(info['Pid']).toMatch(/^\d+$/);
      expect(info['Unstoppable Jobs']).toBe('0');
      expect(info['Build info']).toBe(info['Version']);
      expect(Object.keys(info).length).toBe(reply('show-info.txt').trim().split('\n').length);
    });

    it(`identifies the process by Pid and Uptime_sec${SHAPES[version].startTime ? ', and Start_time_sec' : ' (there is no Start_time_sec)'}`, () => {
      const id = infoIdentity(info);
      expect(id.pid).toBe(info['Pid']);
      expect(id.uptimeSec).toBe(Number(info['Uptime_sec']));
      expect('Start_time_sec' in info).toBe(SHAPES[version].startTime);
      if (SHAPES[version].startTime) expect(id.startTimeSec).toMatch(/^\d{10}$/);
      else expect(id.startTimeSec).toBeNull();
    });

    it('refuses an identity without Pid or Uptime_sec', () => {
      const { Pid: _pid, ...noPid } = info;
      const { Uptime_sec: _up, ...noUptime } = info;
      expect(() => infoIdentity(noPid)).toThrow(HaproxyReplyError);
      expect(() => infoIdentity(noPid)).toThrow(/no Pid/);
      expect(() => infoIdentity(noUptime)).toThrow(/no Uptime_sec/);
      expect(() => infoIdentity({ ...info, Uptime_sec: '1x' })).toThrow(/Uptime_sec is not a number/);
    });

    it('names a supported version', () => {
    const v = versionOf(info);
    expect(v).toMatchObject({ text: info['Version'], major: Number(version.split('.')[0]), minor: Number(version.split('.')[1]) });
    expect(versionSupport(v)).toEqual({ supported: true });
  });

  it('refuses a reply with no Key: value lines', () => {
      expect(() => parseInfo('')).toThrow(HaproxyReplyError);
      expect(() => parseInfo('\n')).toThrow(HaproxyReplyError);
    });
  });

  describe('parseCsv', () => {
    const { statColumns, dashAt } = SHAPES[version];

    it(`splits the captured header into ${statColumns} columns${dashAt === null ? '' : ', one named "-"'}, and a trailing empty cell`, () => {
      const [header] = parseCsv(reply('show-stat.csv'));
      expect(header).toHaveLength(statColumns + 1);
      expect(header?.indexOf('-')).toBe(dashAt ?? -1);
      expect(header?.[statColumns]).toBe('');
    });

    it('gives the same records for quoted and unquoted text', () => {
      const plain = reply('show-stat.csv');
      expect(parseCsv(plain.replace('be2,a,', '"be2",a,'))).toEqual(parseCsv(plain));
    });
  });

  describe('parseShowStat', () => {
    const expectedBe: Partial<StatRow>[] = [
      { proxy: 'be', server: 's1', status: 'UP', checkStatus: 'L7OK', scur: 0, qcur: 0, weight: 1 },
      { proxy: 'be', server: 's2', status: 'DRAIN', checkStatus: 'L7OK', scur: 0, qcur: 0 },
      // Checks pause in maint, so the check columns are empty.
      { proxy: 'be', server: 's3', status: 'MAINT', checkStatus: '', scur: 0, qcur: 0 },
      { proxy: 'be', server: 's4', status: 'MAINT', checkStatus: '', scur: 0, qcur: 0 },
    ];

    it("reads one backend's servers (show stat be 4 -1)", () => {
      expect(commandOf('show-stat-be.csv')).toBe('show stat be 4 -1');
      const rows = parseShowStat(reply('show-stat-be.csv'));
      expect(rows).toMatchObject(expectedBe);
      expect(rows[0]?.lastchg).toEqual(expect.any(Number));
    });

    it('keeps only server rows of the full show stat (no FRONTEND or BACKEND)', () => {
      const rows = parseShowStat(reply('show-stat.csv'));
      expect(rows.map((r) => `${r.proxy}/${r.server}`)).toEqual(['be/s1', 'be/s2', 'be/s3', 'be/s4', 'be2/a']);
      expect(rows[4]).toMatchObject({ status: 'no check', checkStatus: '' });
    });

    it('falls back to svname when there is no type column', () => {
      const records = parseCsv(reply('show-stat.csv'));
      const typeAt = (records[0] as string[]).indexOf('type');
      expect(typeAt).toBeGreaterThan(0);
      const text = records.map((r) => r.filter((_c, i) => i !== typeAt).join(',')).join('\n') + '\n';
      expect(parseShowStat(text)).toEqual(parseShowStat(reply('show-stat.csv')));
    });

    it('strips the "* " of a check that is running', () => {
      const text = reply('show-stat-be.csv').replace(',L7OK,', ',* L7OK,');
      expect(text).not.toBe(reply('show-stat-be.csv'));
      expect(parseShowStat(text)[0]?.checkStatus).toBe('L7OK');
    });

    it('keeps columns in place when a description is quoted', () => {
      const text = reply('show-stat-be.csv').replace(',Layer7 check passed,', ',"Layer7, ""quoted"" passed",');
      expect(text).not.toBe(reply('show-stat-be.csv'));
      expect(parseShowStat(text)).toEqual(parseShowStat(reply('show-stat-be.csv')));
    });

    it.each(errorFiles)('refuses the error reply %s', (file) => {
      expect(() => parseShowStat(reply(file))).toThrow(HaproxyReplyError);
    });

    it('refuses an empty reply', () => {
      expect(() => parseShowStat('')).toThrow(/expected a '# pxname,…' header/);
    });

    it('refuses a non-numeric counter', () => {
      const text = reply('show-stat-be.csv').replace('be,s1,0,0,0,', 'be,s1,0,0,x,');
      expect(() => parseShowStat(text)).toThrow(/scur is not a number/);
    });
  });

  describe('statusWord', () => {
    it('reads the captured statuses', () => {
      expect(parseShowStat(reply('show-stat.csv')).map((r) => statusWord(r.status))).toEqual([
        'UP',
        'DRAIN',
        'MAINT',
        'MAINT',
        'no check',
      ]);
    });
  });

  describe('readChainedReplies', () => {
    it('reads the answers of chained set server commands', () => {
      expect(readChainedReplies(reply('set-server-chained.txt'), 5).answers).toEqual([null, 'No such backend.', null, 'No such server.', null]);
    });
  });
});

describe('adminStateOf', () => {
  it.each([
    [0, 'ready'],
    [ADMIN_BITS.FMAINT, 'maint'],
    [ADMIN_BITS.IMAINT, 'maint'],
    [ADMIN_BITS.FMAINT | ADMIN_BITS.IMAINT, 'maint'],
    [ADMIN_BITS.RMAINT, 'maint'],
    // `disabled` in the config: 5 until `state ready`, then 4, and the server takes traffic.
    [ADMIN_BITS.CMAINT | ADMIN_BITS.FMAINT, 'maint'],
    [ADMIN_BITS.CMAINT, 'ready'],
    [ADMIN_BITS.FDRAIN, 'drain'],
    [ADMIN_BITS.IDRAIN, 'drain'],
    [ADMIN_BITS.CMAINT | ADMIN_BITS.FDRAIN, 'drain'],
    [ADMIN_BITS.FMAINT | ADMIN_BITS.FDRAIN, 'maint'],
  ] as const)('%i → %s', (bits, state) => {
    expect(adminStateOf(bits)).toBe(state);
  });
});

describe('versionOf and versionSupport', () => {
  it.each([
    ['2.2.9-2+deb11u6', 2, 2, true],
    ['2.4.22-0ubuntu0.22.04.3', 2, 4, true],
    ['3.2.4', 3, 2, true],
    ['3.3-dev2', 3, 3, true],
    ['2.0.33-1', 2, 0, false],
    ['1.8.19-1+deb10u5', 1, 8, false],
    ['4.0.1', 4, 0, false],
  ] as const)('%s → %i.%i, supported: %s', (text, major, minor, supported) => {
    const v = versionOf({ Version: text });
    expect(v).toEqual({ text, major, minor });
    expect(versionSupport(v).supported).toBe(supported);
  });

  it('says why a version is outside the range, naming it', () => {
    expect(versionSupport(versionOf({ Version: '2.0.33-1' }))).toEqual({
      supported: false,
      why: 'older',
      reason: 'HAProxy 2.0.33-1 is older than 2.2, the oldest supported (HAProxy 2.2 to 3.x)',
    });
    expect(versionSupport(versionOf({ Version: '4.0.1' }))).toMatchObject({ why: 'newer', reason: 'HAProxy 4.0.1 is newer than tested (HAProxy 2.2 to 3.x)' });
  });

  it('is null without a readable Version, and that is not called supported', () => {
    expect(versionOf({})).toBeNull();
    expect(versionOf({ Version: 'dev' })).toBeNull();
    expect(versionSupport(null)).toMatchObject({ supported: false, why: 'unknown' });
  });
});

describe('isNewProcess', () => {
  const id = (pid: string, uptimeSec: number, startTimeSec: string | null = null) => ({ pid, uptimeSec, startTimeSec });

  it.each([
    ['the same process, later', id('10', 5), id('10', 6), false],
    ['the same process, the same second', id('10', 5), id('10', 5), false],
    ['the same process with Start_time_sec', id('10', 5, '1700000000'), id('10', 9, '1700000000'), false],
    ['a reload or restart: a new Pid', id('10', 50), id('11', 0), true],
    ['a new Pid with a longer uptime (its start was missed)', id('10', 0), id('11', 7), true],
    // 2.2 has no Start_time_sec: a restart that got the same pid back shows only in Uptime_sec.
    ['a pid reused by a restart, told by Uptime_sec', id('10', 50), id('10', 2), true],
    ['a pid reused by a restart, told by Start_time_sec', id('10', 3, '1700000000'), id('10', 4, '1700000004'), true],
    ['Start_time_sec on one side only (an upgrade to a version that has it)', id('10', 3), id('10', 4, '1700000004'), false],
  ] as const)('%s → %s', (_what, was, now, expected) => {
    expect(isNewProcess(was, now)).toBe(expected);
  });

  it('names a process by pid and uptime in logs', () => {
    expect(describeProcess(id('4242', 17))).toBe('pid 4242, up 17 s');
  });
});

describe('parseCsv', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks', () => {
    expect(parseCsv('a,"b,c","say ""hi""",\n"x\ny",z\n')).toEqual([
      ['a', 'b,c', 'say "hi"', ''],
      ['x\ny', 'z'],
    ]);
  });

  it('refuses an unterminated quote', () => {
    expect(() => parseCsv('a,"b\n')).toThrow(HaproxyReplyError);
  });
});

describe('statusWord', () => {
  it.each([
    ['UP', 'UP'],
    ['UP 1/2', 'UP'],
    ['UP 1/3', 'UP'],
    ['DOWN', 'DOWN'],
    ['DOWN 1/2', 'DOWN'],
    ['DOWN (agent)', 'DOWN'],
    ['DRAIN', 'DRAIN'],
    ['DRAIN 1/2', 'DRAIN'],
    ['DRAIN (agent)', 'DRAIN'],
    ['MAINT', 'MAINT'],
    ['MAINT (via be/s1)', 'MAINT'],
    ['NOLB', 'NOLB'],
    ['no check', 'no check'],
    ['OPEN', null],
    ['UPSIDE', null],
    ['', null],
  ] as const)('%j → %j', (status, word) => {
    expect(statusWord(status)).toBe(word);
  });
});

describe('readChainedReplies', () => {
  const splitChainedReplies = (reply: string, count: number) => readChainedReplies(reply, count).answers;

  it.each([
    ['\n', 1, [null]],
    ['\n\n\n', 3, [null, null, null]],
    ['Permission denied\n\n\n', 2, ['Permission denied', null]],
  ])('%j × %i', (text, count, expected) => {
    expect(splitChainedReplies(text, count)).toEqual(expected);
  });

  it.each([
    ['', 1],
    ['\n', 2],
    ['No such server.\n', 1],
  ])('a short answer %j for %i commands is an error', (text, count) => {
    expect(() => splitChainedReplies(text, count)).toThrow(HaproxyReplyError);
  });
});
