// Reads HAProxy runtime-API replies (pure): success vs error text, `show servers state`, `show info`, `show stat`.

import { HaproxyReplyError, quote } from '../errors.js';
import type { AdminState } from './types.js';

// ---- success and error text ------------------------------------------------------------------------

/**
 * For commands that print nothing on success (`set server`): HAProxy answers exactly "\n" and has no
 * status code, so any text at all is its error message. An empty reply is not success either: every
 * complete answer ends with a newline, and an unterminated command line gets '' and is not run.
 */
export function isSuccess(reply: string): boolean {
  return reply !== '' && reply.trim() === '';
}

// The error texts HAProxy sends instead of data, the same in 2.2, 2.6 and 3.0 (each answer ends with an empty
// line; only the help after `Unknown command` differs). An optional
// `[3]: ` / `[err]: ` prefix appears when `set severity-output` is on.
const ERROR_REPLY = new RegExp(
  '^(?:\\[[0-9a-z]+\\]: )?(?:' +
    [
      'No such ',
      "Can't find ",
      'Require ',
      "'set server ",
      'Permission denied',
      'Unknown command',
      'Proxy is disabled',
      'usage: ',
    ].join('|') +
    ')',
);

/**
 * The error text when `reply` is one of HAProxy's error messages rather than data, else null.
 * Data replies (`1`, `# pxname,…`, `Name: HAProxy`) never start like an error message.
 */
export function replyError(reply: string): string | null {
  const text = reply.trim();
  return ERROR_REPLY.test(text) ? text : null;
}

/**
 * The answers to `count` chained commands that print nothing on success (`set server …;set server …`):
 * each answer ends with an empty line, so success is a lone empty line and an error is its text, then an
 * empty line. Returns per command null (success) or the error text, in order, and what follows the
 * `count` answers (the output of a chained `show …`).
 */
export function readChainedReplies(reply: string, count: number): { answers: (string | null)[]; rest: string } {
  const lines = reply.split('\n');
  const answers: (string | null)[] = [];
  let i = 0;
  while (answers.length < count && i < lines.length - 1) {
    if (lines[i] === '') {
      answers.push(null);
      i += 1;
      continue;
    }
    const text: string[] = [];
    while (i < lines.length - 1 && lines[i] !== '') text.push(lines[i++] as string);
    if (i >= lines.length - 1) break; // the error text was not closed by its empty line: cut short
    answers.push(text.join('\n'));
    i += 1;
  }
  if (answers.length < count) {
    throw new HaproxyReplyError(`expected ${count} answers to chained commands, read ${answers.length} in ${quote(reply)}`);
  }
  return { answers, rest: lines.slice(i).join('\n') };
}

// ---- admin state -------------------------------------------------------------------------------------

/** srv_admin_state bits: FMAINT 0x01, IMAINT 0x02, CMAINT 0x04, FDRAIN 0x08, IDRAIN 0x10, RMAINT 0x20. */
export const ADMIN_BITS = {
  FMAINT: 0x01,
  IMAINT: 0x02,
  CMAINT: 0x04,
  FDRAIN: 0x08,
  IDRAIN: 0x10,
  RMAINT: 0x20,
} as const;

const MAINT_BITS = ADMIN_BITS.FMAINT | ADMIN_BITS.IMAINT | ADMIN_BITS.RMAINT;
const DRAIN_BITS = ADMIN_BITS.FDRAIN | ADMIN_BITS.IDRAIN;

/**
 * What `state` a server is in as far as `set server … state` goes. CMAINT (the `disabled` keyword) is
 * left out: it stays set after `state ready` although the server then takes traffic.
 */
export function adminStateOf(bits: number): AdminState {
  if (bits & MAINT_BITS) return 'maint';
  if (bits & DRAIN_BITS) return 'drain';
  return 'ready';
}

// ---- show servers state ------------------------------------------------------------------------------

export interface ServerStateRow {
  readonly backendId: number;
  readonly backend: string;
  readonly serverId: number;
  readonly server: string;
  /** The address HAProxy connects to; '' if it has none (`-`). */
  readonly addr: string;
  /** srv_port; null when HAProxy does not say. 0 means the config gave no port. */
  readonly port: number | null;
  /** srv_op_state: 0 stopped, 1 starting, 2 running, 3 stopping. */
  readonly opState: number;
  /** srv_admin_state bitmask; see adminStateOf. */
  readonly adminState: number;
  // The rest only when the reply has the column and a value (older HAProxy versions have fewer columns).
  readonly uweight?: number;
  readonly iweight?: number;
  readonly timeSinceLastChange?: number;
  readonly checkStatus?: number;
  readonly checkResult?: number;
  readonly checkHealth?: number;
  readonly checkState?: number;
  readonly agentState?: number;
  readonly fqdn?: string;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const REQUIRED_STATE_FIELDS = [
  'be_id',
  'be_name',
  'srv_id',
  'srv_name',
  'srv_addr',
  'srv_op_state',
  'srv_admin_state',
] as const;

const OPTIONAL_NUMBERS = {
  uweight: 'srv_uweight',
  iweight: 'srv_iweight',
  timeSinceLastChange: 'srv_time_since_last_change',
  checkStatus: 'srv_check_status',
  checkResult: 'srv_check_result',
  checkHealth: 'srv_check_health',
  checkState: 'srv_check_state',
  agentState: 'srv_agent_state',
} as const;

/**
 * Parses `show servers state [B]`: a version line `1`, a `# ` header naming space-separated fields, one
 * line per server (`-` = empty), then an empty line. Fields are found by header name, not position.
 */
export function parseServersState(text: string): ServerStateRow[] {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const version = lines[0];
  if (version !== '1') {
    throw new HaproxyReplyError(
      version !== undefined && /^\d+$/.test(version)
        ? `show servers state: format version ${version} is not supported (expected 1)`
        : `show servers state: expected the version line '1', got ${quote(text)}`,
    );
  }
  const header = lines[1];
  if (header === undefined || !header.startsWith('# ')) {
    throw new HaproxyReplyError(`show servers state: expected a '# ' header line, got ${quote(header ?? '')}`);
  }
  const names = header.slice(2).trim().split(/ +/);
  const col = new Map(names.map((name, i) => [name, i]));
  for (const field of REQUIRED_STATE_FIELDS) {
    if (!col.has(field)) throw new HaproxyReplyError(`show servers state: no '${field}' column in the header`);
  }
  const rows: ServerStateRow[] = [];
  lines.slice(2).forEach((line, i) => {
    if (line.trim() === '') return;
    const cells = line.trim().split(/ +/);
    if (cells.length !== names.length) {
      throw new HaproxyReplyError(
        `show servers state: line ${i + 3} has ${cells.length} fields, the header ${names.length}: ${quote(line)}`,
      );
    }
    const raw = (field: string): string | undefined => {
      const at = col.get(field);
      const cell = at === undefined ? undefined : cells[at];
      return cell === '-' ? undefined : cell;
    };
    const int = (field: string): number | undefined => {
      const cell = raw(field);
      if (cell === undefined) return undefined;
      if (!/^-?\d+$/.test(cell)) {
        throw new HaproxyReplyError(`show servers state: line ${i + 3}: ${field} is not a number: ${quote(cell)}`);
      }
      return Number(cell);
    };
    const need = (field: string): number => {
      const n = int(field);
      if (n === undefined) throw new HaproxyReplyError(`show servers state: line ${i + 3}: ${field} is empty`);
      return n;
    };
    const backend = raw('be_name');
    const server = raw('srv_name');
    if (backend === undefined || server === undefined) {
      throw new HaproxyReplyError(`show servers state: line ${i + 3}: no backend or server name`);
    }
    const row: Mutable<ServerStateRow> = {
      backendId: need('be_id'),
      backend,
      serverId: need('srv_id'),
      server,
      addr: raw('srv_addr') ?? '',
      port: int('srv_port') ?? null,
      opState: need('srv_op_state'),
      adminState: need('srv_admin_state'),
    };
    for (const key of Object.keys(OPTIONAL_NUMBERS) as (keyof typeof OPTIONAL_NUMBERS)[]) {
      const n = int(OPTIONAL_NUMBERS[key]);
      if (n !== undefined) row[key] = n;
    }
    const fqdn = raw('srv_fqdn');
    if (fqdn !== undefined) row.fqdn = fqdn;
    rows.push(row);
  });
  return rows;
}

// ---- show info ---------------------------------------------------------------------------------------

/** Parses `show info`: one `Key: value` per line; keys may hold spaces (`Build info`). */
export function parseInfo(text: string): Record<string, string> {
  const info: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    info[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  if (Object.keys(info).length === 0) {
    throw new HaproxyReplyError(`show info: no 'Key: value' lines in ${quote(text)}`);
  }
  return info;
}

/** What tells one running HAProxy process from the next, from its `show info`. */
export interface ProcessIdentity {
  /** The worker's Pid: it changes on every reload and restart. */
  readonly pid: string;
  /** Uptime_sec: starts again from 0 in a new process. */
  readonly uptimeSec: number;
  /** Start_time_sec (epoch seconds); null where the version has none (2.2 has none; 2.6 and 3.0 have it). */
  readonly startTimeSec: string | null;
}

/**
 * The identity of the process that answered `show info`. Only Pid and Uptime_sec are required: every
 * supported version (2.2 on) has them, while Start_time_sec came later and is used only when there.
 */
export function infoIdentity(info: Record<string, string>): ProcessIdentity {
  const pid = info['Pid'];
  if (pid === undefined || pid === '') throw new HaproxyReplyError('show info: no Pid field');
  const uptime = info['Uptime_sec'];
  if (uptime === undefined || !/^\d+$/.test(uptime)) {
    throw new HaproxyReplyError(
      uptime === undefined ? 'show info: no Uptime_sec field' : `show info: Uptime_sec is not a number: ${quote(uptime)}`,
    );
  }
  const start = info['Start_time_sec'];
  return { pid, uptimeSec: Number(uptime), startTimeSec: start === undefined || start === '' ? null : start };
}

/**
 * Whether `now` is another HAProxy process than `was`: a new Pid (every reload and restart makes one), or,
 * for a pid reused by a restart, an uptime that went back or, where both have it, another Start_time_sec.
 */
export function isNewProcess(was: ProcessIdentity, now: ProcessIdentity): boolean {
  if (was.pid !== now.pid) return true;
  if (now.uptimeSec < was.uptimeSec) return true;
  return was.startTimeSec !== null && now.startTimeSec !== null && was.startTimeSec !== now.startTimeSec;
}

/** How logs name a process: `pid 1234, up 56 s`. */
export const describeProcess = (id: ProcessIdentity): string => `pid ${id.pid}, up ${id.uptimeSec} s`;

/** An HAProxy version as `show info` names it: `2.2.9-2+deb11u6`, `3.0.11-1+deb13u4`, `3.1-dev5`. */
interface HaproxyVersion {
  readonly text: string;
  readonly major: number;
  readonly minor: number;
}

/**
 * The supported range: Debian 11's 2.2 (the oldest HAProxy a supported distribution ships) to 3.x, each
 * end tested with Debian's own builds (2.2, 2.6 and 3.0).
 */
export const SUPPORTED_VERSIONS = { oldest: { major: 2, minor: 2 }, newestMajor: 3, text: '2.2 to 3.x' } as const;

/** The `Version:` of `show info`; null when it is missing or does not start with MAJOR.MINOR. */
export function versionOf(info: Record<string, string>): HaproxyVersion | null {
  const text = info['Version'];
  const m = text === undefined ? null : /^(\d+)\.(\d+)/.exec(text);
  if (text === undefined || m === null) return null;
  return { text, major: Number(m[1]), minor: Number(m[2]) };
}

/**
 * Whether the version is in the supported range; if not, why, naming the version. `older` versions are
 * not supported; `newer` ones are untested; `unknown` means `show info` named none.
 */
export function versionSupport(
  v: HaproxyVersion | null,
): { readonly supported: true } | { readonly supported: false; readonly why: 'older' | 'newer' | 'unknown'; readonly reason: string } {
  const range = SUPPORTED_VERSIONS.text;
  if (v === null) return { supported: false, why: 'unknown', reason: `show info names no version; supported: HAProxy ${range}` };
  const { oldest, newestMajor } = SUPPORTED_VERSIONS;
  if (v.major < oldest.major || (v.major === oldest.major && v.minor < oldest.minor)) {
    return { supported: false, why: 'older', reason: `HAProxy ${v.text} is older than ${oldest.major}.${oldest.minor}, the oldest supported (HAProxy ${range})` };
  }
  if (v.major > newestMajor) {
    return { supported: false, why: 'newer', reason: `HAProxy ${v.text} is newer than tested (HAProxy ${range})` };
  }
  return { supported: true };
}

// ---- show stat ---------------------------------------------------------------------------------------

export interface StatRow {
  /** pxname: the backend. */
  readonly proxy: string;
  /** svname: the server. */
  readonly server: string;
  /** As HAProxy shows it: `UP`, `UP 1/2`, `DRAIN (agent)`, `MAINT (via be/s1)`, `no check`…; see statusWord. */
  readonly status: string;
  /** Current sessions; drained when scur and qcur are 0. */
  readonly scur: number;
  readonly qcur: number;
  readonly weight: number | null;
  /** Seconds since the last UP/DOWN change; null when not reported. */
  readonly lastchg: number | null;
  /** e.g. `L7OK`, `L4CON`; '' when there is no check or it is paused (maint). A running check's `* ` is removed. */
  readonly checkStatus: string;
  readonly agentStatus: string;
  /** last_chk: the last check's detail, e.g. `Connection refused`. */
  readonly lastCheck: string;
}

/** stats `type` column: 0 frontend, 1 backend, 2 server, 3 listener. */
const TYPE_SERVER = '2';

/**
 * Parses `show stat` CSV by header name (2.6 has 128 columns, one literally named `-`, and every line
 * ends in a comma) and returns the server rows only.
 */
export function parseShowStat(csv: string): StatRow[] {
  const records = parseCsv(csv);
  const first = records[0];
  if (first === undefined || first[0] === undefined || !first[0].startsWith('# ')) {
    throw new HaproxyReplyError(`show stat: expected a '# pxname,…' header, got ${quote(csv)}`);
  }
  const names = [first[0].slice(2), ...first.slice(1)];
  const col = new Map<string, number>();
  names.forEach((name, i) => {
    if (name !== '' && !col.has(name)) col.set(name, i);
  });
  for (const field of ['pxname', 'svname', 'status', 'scur', 'qcur']) {
    if (!col.has(field)) throw new HaproxyReplyError(`show stat: no '${field}' column in the header`);
  }
  const rows: StatRow[] = [];
  records.slice(1).forEach((cells, i) => {
    if (cells.length === 1 && cells[0] === '') return; // the empty line that ends every reply
    const cell = (field: string): string => {
      const at = col.get(field);
      return at === undefined ? '' : (cells[at] ?? '');
    };
    const server = cell('svname');
    const isServer = col.has('type') ? cell('type') === TYPE_SERVER : server !== 'FRONTEND' && server !== 'BACKEND';
    if (!isServer) return;
    const int = (field: string): number | null => {
      const text = cell(field);
      if (text === '') return null;
      if (!/^-?\d+$/.test(text)) {
        throw new HaproxyReplyError(`show stat: record ${i + 2}: ${field} is not a number: ${quote(text)}`);
      }
      return Number(text);
    };
    rows.push({
      proxy: cell('pxname'),
      server,
      status: cell('status'),
      scur: int('scur') ?? 0,
      qcur: int('qcur') ?? 0,
      weight: int('weight'),
      lastchg: int('lastchg'),
      checkStatus: stripRunning(cell('check_status')),
      agentStatus: stripRunning(cell('agent_status')),
      lastCheck: cell('last_chk'),
    });
  });
  return rows;
}

// While a check runs, its status is shown as `* L7OK`.
const stripRunning = (s: string): string => (s.startsWith('* ') ? s.slice(2) : s);

/**
 * Splits CSV into records. HAProxy quotes a field only when it holds `,`, `"` or a line break
 * (doubling inner quotes), which check descriptions from agents may.
 */
export function parseCsv(text: string): string[][] {
  // The usual case, and a large reply on a big config: nothing quoted, split plainly.
  if (!text.includes('"')) {
    const lines = text.split(/\r?\n/);
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.map((line) => line.split(','));
  }
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
    } else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else if (c !== '\r' || text[i + 1] !== '\n') {
      field += c;
    }
    i += 1;
  }
  if (quoted) throw new HaproxyReplyError('show stat: unterminated quoted field');
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

type StatusWord = 'UP' | 'DOWN' | 'DRAIN' | 'MAINT' | 'NOLB' | 'no check';

const STATUS_WORDS: readonly StatusWord[] = ['no check', 'MAINT', 'DRAIN', 'NOLB', 'DOWN', 'UP'];

/** The leading word of a `status` (`UP 1/2` → UP, `MAINT (via be/s1)` → MAINT); null for others (`OPEN`). */
export function statusWord(status: string): StatusWord | null {
  for (const word of STATUS_WORDS) {
    if (status === word || status.startsWith(`${word} `)) return word;
  }
  return null;
}

/** What the operator can do about a refused `set server`, where HAProxy's text tells; undefined otherwise. */
export function refusalFix(refusal: string, server: string, socket: string): string | undefined {
  if (refusal.includes('Permission denied')) {
    return `give the stats socket ${socket} 'level admin' in haproxy.cfg (the default level, operator, cannot set server states)`;
  }
  if (refusal.includes('No such backend') || refusal.includes('No such server')) {
    return `no such server ${server} on ${socket}: make the listener's servers = match haproxy.cfg, then run supervisor-haproxy check`;
  }
  return undefined;
}
