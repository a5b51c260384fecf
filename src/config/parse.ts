// The INI contract read into a validated Config (pure): every problem is a ConfigError naming file, section and key.

import { parse as parseIni } from 'ini';
import { parseAgentAddress } from '../agent/address.js';
import { ConfigError, errorText, quote } from '../errors.js';
import { parseSocketAddress } from '../haproxy/address.js';
import { isValidName } from '../haproxy/commands.js';
import type { SocketAddress } from '../haproxy/types.js';
import type { OnDeadline, ProbeTarget, StatusRange } from '../warmup/spec.js';
import type { Config, OnStopping, ProcessMatch, ProgramRule, WarmupSettings } from './types.js';

type Env = Record<string, string | undefined>;

export const DEFAULT_HAPROXY_TIMEOUT_MS = 2_000;
export const DEFAULT_HEARTBEAT_MS = 1_000;
export const DEFAULT_SUPERVISOR_TIMEOUT_MS = 5_000;

/** [warmup] when the file says nothing: no requests (ready on RUNNING), 2xx/3xx pass. */
export const DEFAULT_WARMUP: WarmupSettings = {
  requests: [],
  headers: [],
  expect: [{ min: 200, max: 399 }],
  intervalMs: 1_000,
  timeoutMs: 10_000,
  deadlineMs: 5 * 60_000,
  onDeadline: 'maint',
  maxTimeMs: null,
  passes: 1,
  neverEmpty: true,
};

const HAPROXY_KEYS = ['socket', 'timeout', 'heartbeat', 'server_state_file'] as const;
const SUPERVISOR_KEYS = ['url', 'username', 'password', 'timeout'] as const;
const LISTENER_KEYS = ['state_file'] as const;
const WARMUP_KEYS = ['warmup', 'headers', 'expect', 'interval', 'timeout', 'deadline', 'on_deadline', 'max_time', 'passes', 'never_empty'] as const;
const PROGRAM_KEYS = ['servers', 'on_stopping', 'address', ...WARMUP_KEYS] as const;
/** Keys of [warmup] alone: they are about all warm-ups together, not one program's. */
const WARMUP_ONLY_KEYS = ['concurrency'] as const;
const AGENT_KEYS = ['listen'] as const;

/**
 * Parses `text` (the content of `file`). `env` supplies what supervisord passes its listeners
 * (SUPERVISOR_SERVER_URL, and SUPERVISOR_USERNAME / SUPERVISOR_PASSWORD when the operator adds them).
 *
 * Several sections may map the same backend/server: precedence (see resolve.ts) and templates make it
 * impossible to tell from the file alone whether two rules ever meet the same process, so that is allowed.
 * The same section written twice is an error, though: ini would silently merge the two.
 */
export function parseConfig(text: string, file: string, env: Env): Config {
  const [preamble, ...sections] = splitSections(text, file);
  const stray = [...keysOf(file, preamble as RawSection).keys()][0];
  if (stray !== undefined) {
    const where = '[haproxy], [agent], [supervisor], [listener], [warmup] or a [program:…]';
    throw new ConfigError(file, null, stray, `is outside any section; put it under ${where}`);
  }

  const named = new Map<string, ReadonlyMap<string, string>>();
  const programs: { section: string; match: ProcessMatch; values: ReadonlyMap<string, string> }[] = [];
  for (const section of sections) {
    const name = section.name as string;
    const values = keysOf(file, section);
    if (name === 'haproxy' || name === 'agent' || name === 'supervisor' || name === 'warmup' || name === 'listener') {
      named.set(name, values);
    } else {
      programs.push({ section: name, match: sectionMatch(file, name), values });
    }
  }

  // Checked in the order an operator reads the file: [haproxy], [supervisor], [warmup], then the programs.
  const a = new Reader(file, 'agent', named.get('agent'), AGENT_KEYS);
  const agent = named.has('agent') ? { listen: a.required('listen', (v) => parseAddressList(v, parseAgentAddress)) } : null;
  const h = new Reader(file, 'haproxy', named.get('haproxy'), HAPROXY_KEYS);
  // With [agent], HAProxy may know the listener only through agent-check: no socket at all.
  const sockets = agent === null ? h.required('socket', parseSockets) : h.optional('socket', parseSockets, []);
  const haproxy: Config['haproxy'] = {
    sockets,
    timeoutMs: h.optional('timeout', upTo(MAX_HAPROXY_TIMEOUT_MS), DEFAULT_HAPROXY_TIMEOUT_MS),
    heartbeatMs: h.optional('heartbeat', upTo(MAX_HEARTBEAT_MS), DEFAULT_HEARTBEAT_MS),
    serverStateFiles: h.optional('server_state_file', (v) => parseStateFiles(v, sockets.length), []),
  };

  const s = new Reader(file, 'supervisor', named.get('supervisor'), SUPERVISOR_KEYS);
  const supervisor: Config['supervisor'] = {
    url: s.optional('url', parseSupervisorUrl, null) ?? s.wrap('url', () => supervisorUrlFromEnv(env)),
    username: s.optional('username', (v) => v, nonEmpty(env.SUPERVISOR_USERNAME)),
    password: s.optional('password', (v) => v, nonEmpty(env.SUPERVISOR_PASSWORD)),
    timeoutMs: s.optional('timeout', upTo(MAX_SUPERVISOR_TIMEOUT_MS), DEFAULT_SUPERVISOR_TIMEOUT_MS),
  };

  const l = new Reader(file, 'listener', named.get('listener'), LISTENER_KEYS);
  const listener: Config['listener'] = { stateFile: l.optional('state_file', parseAbsolutePath, null) };

  const w = new Reader(file, 'warmup', named.get('warmup'), [...WARMUP_KEYS, ...WARMUP_ONLY_KEYS]);
  const defaults = readWarmup(w, DEFAULT_WARMUP);
  const warmupConcurrency = w.optional('concurrency', parsePositiveInteger, null);
  const rules = programs.map(({ section, match, values }): ProgramRule => {
    const r = new Reader(file, section, values, PROGRAM_KEYS);
    const rule: ProgramRule = {
      section,
      match,
      servers: r.required('servers', (v) => parseServerTemplates(v, sampleNames(match))),
      warmup: readWarmup(r, defaults),
      onStopping: r.optional('on_stopping', parseOnStopping, 'maint'),
    };
    const address = r.optional('address', (v) => parseProbeAddress(v, match), null);
    checkRelativeWarmup(file, rule, address, sockets.length);
    return address === null ? rule : { ...rule, address };
  });
  if (rules.length === 0) {
    throw new ConfigError(file, null, null, 'no [program:NAME] or [group:NAME] section: nothing to mirror to HAProxy');
  }
  return { file, haproxy, supervisor, listener, rules, warmupConcurrency, ...(agent === null ? {} : { agent }) };
}

/**
 * Relative warm-up paths go to `address`, or else to the address HAProxy shows for the server: without a
 * socket (agent only) nothing could tell where they go, so that is a config error, not a warm-up that
 * waits until its deadline. The error names the program's section and its `warmup`, where the fix goes
 * (the paths may come from [warmup]).
 */
function checkRelativeWarmup(file: string, rule: ProgramRule, address: ProbeTarget | null, sockets: number): void {
  const relative = rule.warmup.requests.find((r) => r.startsWith('/'));
  if (relative === undefined || address !== null || sockets > 0) return;
  throw new ConfigError(
    file,
    rule.section,
    'warmup',
    `relative path '${relative}' needs the server's address: with no [haproxy] socket, give address = HOST:PORT ` +
      'in this section, or warm up with absolute http:// URLs',
  );
}

/**
 * `address = HOST:PORT` of one process: a host name, IPv4 address or bracketed IPv6 address. Refused in a
 * [group:…] section, whose processes listen on different ports.
 */
function parseProbeAddress(text: string, match: ProcessMatch): ProbeTarget {
  if (match.kind === 'group') {
    throw new Error(
      "a group's processes listen on different ports: give each its own [program:GROUP:PROCESS] section with address, " +
        'or warm up with absolute http:// URLs',
    );
  }
  let parsed;
  try {
    parsed = parseSocketAddress(`tcp://${text}`);
  } catch {
    throw new Error(`'${text}': expected HOST:PORT (an IPv6 address in brackets: [::1]:8080)`);
  }
  if (parsed.kind !== 'tcp') throw new Error(`'${text}': expected HOST:PORT`);
  return { host: parsed.host, port: parsed.port };
}

function readWarmup(r: Reader, base: WarmupSettings): WarmupSettings {
  // A program's own `warmup` / `headers` replace the defaults rather than add to them, so `warmup =`
  // (empty) is how one program opts out of a default warm-up.
  const settings: WarmupSettings = {
    requests: r.optional('warmup', parseRequests, base.requests),
    headers: r.optional('headers', parseHeaders, base.headers),
    expect: r.optional('expect', parseExpect, base.expect),
    intervalMs: r.optional('interval', upTo(MAX_WARMUP_INTERVAL_MS), base.intervalMs),
    timeoutMs: r.optional('timeout', upTo(MAX_WARMUP_TIMEOUT_MS), base.timeoutMs),
    deadlineMs: r.optional('deadline', upTo(MAX_WARMUP_DEADLINE_MS), base.deadlineMs),
    onDeadline: r.optional('on_deadline', parseOnDeadline, base.onDeadline),
    maxTimeMs: r.optional('max_time', parsePositiveDuration, base.maxTimeMs),
    passes: r.optional('passes', parsePositiveInteger, base.passes),
    neverEmpty: r.optional('never_empty', parseBoolean, base.neverEmpty),
  };
  // Checked per section once its own keys and the defaults are merged: the pair may come from two places.
  if (settings.maxTimeMs !== null && settings.maxTimeMs > settings.timeoutMs) {
    const key = r.has('max_time') ? 'max_time' : 'timeout';
    r.wrap(key, () => {
      throw new Error(`max_time (${settings.maxTimeMs}ms) is longer than timeout (${settings.timeoutMs}ms): a request is abandoned at timeout`);
    });
  }
  return settings;
}

// ---------------------------------------------------------------------------------------------------------
// Sections and keys

interface RawSection {
  /** null for the lines before the first section header. */
  readonly name: string | null;
  readonly lines: { readonly no: number; readonly text: string }[];
}

/**
 * Splits the file at section headers ourselves and gives ini one section body at a time, because ini 6
 * (a) nests a section whose name has a dot ([program:site.example] became {"program:site": {example: …}}) and
 * (b) does not recognise a header followed by an inline comment (`[warmup]  ; defaults` became a key
 * "[warmup]" of the previous section) — and the contract's own example has such comments.
 */
function splitSections(text: string, file: string): RawSection[] {
  const out: RawSection[] = [{ name: null, lines: [] }];
  const seen = new Set<string>();
  text
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\r|\n/)
    .forEach((line, i) => {
      const no = i + 1;
      if (!/^\s*\[/.test(line)) {
        (out[out.length - 1] as RawSection).lines.push({ no, text: line });
        return;
      }
      const m = /^\s*\[([^\]]*)\]\s*(?:[;#].*)?$/.exec(line);
      if (m === null) {
        throw new ConfigError(file, null, null, `line ${no}: malformed section header ${quote(line.trim())}`);
      }
      const name = (m[1] as string).trim();
      if (name === '') throw new ConfigError(file, null, null, `line ${no}: empty section name []`);
      if (seen.has(name)) {
        throw new ConfigError(file, name, null, `line ${no}: section appears a second time; merge the two`);
      }
      seen.add(name);
      out.push({ name, lines: [] });
    });
  return out;
}

/** The key/value pairs of one section, read by ini after checks that keep ini from guessing. */
function keysOf(file: string, section: RawSection): Map<string, string> {
  const body: string[] = [];
  for (const { no, text } of section.lines) {
    const t = text.trim();
    if (t === '' || t.startsWith(';') || t.startsWith('#')) continue;
    // ini turns a line without "=" into `key = true`; a wrapped value's second line would become a key.
    if (t.indexOf('=') <= 0) {
      throw new ConfigError(file, section.name, null, `line ${no}: expected "key = value", got ${quote(t)}`);
    }
    const key = t.slice(0, t.indexOf('=')).trim();
    const glued = gluedComment(t.slice(t.indexOf('=') + 1).trim());
    if (glued !== null) {
      throw new ConfigError(
        file,
        section.name,
        key,
        `line ${no}: '${glued}' starts a comment here and would cut the value short; ` +
          `write \\${glued} for a literal '${glued}', or put a space before a comment`,
      );
    }
    body.push(t);
  }
  // bracketedArray: false makes a repeated key an array (detected below) instead of "last one wins".
  const parsed = parseIni(body.join('\n'), { bracketedArray: false }) as Record<string, unknown>;
  const values = new Map<string, string>();
  for (const [key, value] of Object.entries(parsed)) {
    if (Array.isArray(value)) throw new ConfigError(file, section.name, key, 'is given more than once');
    // ini reads true/false/null as JSON; none is valid for our keys, so keep the text for the message.
    values.set(key, typeof value === 'string' ? value : String(value));
  }
  return values;
}

/**
 * ini ends an unquoted value at the first unescaped `;` or `#`, even in the middle of a word
 * ("/search?a=1;b=2" would silently become "/search?a=1"). A comment must follow whitespace.
 */
function gluedComment(value: string): string | null {
  if (value.length > 1 && /^(".*"|'.*')$/.test(value)) return null; // quoted: ini keeps it whole
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '\\') {
      i++;
    } else if (c === ';' || c === '#') {
      return i > 0 && !/\s/.test(value[i - 1] as string) ? c : null;
    }
  }
  return null;
}

/** Reads typed keys of one section; unknown keys are errors (a typo must not silently mean "default"). */
class Reader {
  private readonly values: ReadonlyMap<string, string>;

  constructor(
    private readonly file: string,
    private readonly section: string,
    values: ReadonlyMap<string, string> | undefined,
    allowed: readonly string[],
  ) {
    this.values = values ?? new Map();
    for (const key of this.values.keys()) {
      if (!allowed.includes(key)) {
        throw new ConfigError(file, section, key, `unknown key; expected one of: ${allowed.join(', ')}`);
      }
    }
  }

  optional<T, D = T>(key: string, parse: (text: string) => T, fallback: D): T | D {
    const text = this.values.get(key);
    return text === undefined ? fallback : this.wrap(key, () => parse(text));
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  required<T>(key: string, parse: (text: string) => T): T {
    const text = this.values.get(key);
    if (text === undefined || text === '') throw new ConfigError(this.file, this.section, key, 'is required');
    return this.wrap(key, () => parse(text));
  }

  wrap<T>(key: string, fn: () => T): T {
    return inKey(this.file, this.section, key, fn);
  }
}

/** Runs a parser of plain Errors, turning what it throws into a ConfigError naming file, section and key. */
export function inKey<T>(file: string, section: string | null, key: string | null, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new ConfigError(file, section, key, errorText(err));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Section names

/**
 * A supervisord program or group name as it appears in events: non-empty, no whitespace or control
 * characters, no ':' (supervisord's group:process separator). Non-ASCII is fine: supervisord runs [program:café].
 */
const SUPERVISOR_NAME_RE = /^[^\s:\p{Cc}]+$/u;

/** What a program name matches: "PROCESS" (in any group) or "GROUP:PROCESS". Throws a plain Error. */
export function parseProgramName(name: string): Extract<ProcessMatch, { kind: 'process' }> {
  const parts = name.split(':');
  if (parts.length > 2) throw new Error(`'${name}': expected PROCESS or GROUP:PROCESS`);
  for (const part of parts) {
    if (!SUPERVISOR_NAME_RE.test(part)) {
      throw new Error(
        `${quote(part)} is not a supervisord name (non-empty, no spaces, no ':' except between group and process)`,
      );
    }
  }
  return parts.length === 1
    ? { kind: 'process', group: null, process: parts[0] as string }
    : { kind: 'process', group: parts[0] as string, process: parts[1] as string };
}

function sectionMatch(file: string, section: string): ProcessMatch {
  if (section.startsWith('program:')) return inKey(file, section, null, () => parseProgramName(section.slice('program:'.length)));
  if (section.startsWith('group:')) {
    return inKey(file, section, null, (): ProcessMatch => {
      const group = parseProgramName(section.slice('group:'.length));
      if (group.group !== null) throw new Error('expected [group:NAME], without a process');
      return { kind: 'group', group: group.process };
    });
  }
  throw new ConfigError(
    file,
    section,
    null,
    'unknown section; expected [haproxy], [agent], [supervisor], [listener], [warmup], [program:NAME], [program:GROUP:NAME] or [group:NAME]',
  );
}

// ---------------------------------------------------------------------------------------------------------
// Values: each parser throws a plain Error saying what is wrong; the Reader adds file, section and key.

/** Comma-separated items, trimmed; an empty item is most likely a lost name, so it is an error. */
function splitList(text: string, separator: RegExp | string = ','): string[] {
  const items = text.split(separator).map((s) => s.trim());
  if (items.some((s) => s === '')) throw new Error(`empty entry in ${quote(text)}`);
  return items;
}

/** A file path the listener and the operator commands agree on whatever their working directory. */
function parseAbsolutePath(text: string): string {
  if (!text.startsWith('/')) throw new Error(`'${text}': expected an absolute path`);
  if (/[\x00-\x1f]/.test(text)) throw new Error(`${quote(text)}: control characters in a path`);
  return text;
}

/**
 * One path per socket, in the order of `socket`; an empty item for a socket that has none (another socket
 * of the same HAProxy, or a remote one: the file must be on the host where that HAProxy runs).
 */
function parseStateFiles(text: string, sockets: number): (string | null)[] {
  const items = text.split(',').map((item) => item.trim());
  if (items.length !== sockets) {
    throw new Error(`${items.length} item(s) for ${sockets} socket(s): give one per socket, in the order of socket (empty for none)`);
  }
  const paths = items.map((item) => (item === '' ? null : parseAbsolutePath(item)));
  const named = paths.filter((p): p is string => p !== null);
  if (new Set(named).size !== named.length) throw new Error('the same file is named for two sockets');
  return paths;
}

/** Durations as the config writes them ("500ms", "2s", "1.5s", "5m"). */
const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m)$/;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 };

/** Node's timers overflow above 2^31-1 ms and then fire after 1 ms; a longer duration would mean "at once". */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const DURATION_FORMS = 'expected a duration like 500ms, 2s or 5m';

/**
 * Milliseconds in `text` (rounded to a whole millisecond). A unit is required: a bare "5" could mean
 * seconds or milliseconds, and guessing wrong is a 1000× error. Throws a plain Error saying what is expected.
 */
export function parseDuration(text: string): number {
  const m = DURATION_RE.exec(text.trim());
  if (m === null) throw new Error(`'${text}': ${DURATION_FORMS}`);
  const ms = Math.round(Number(m[1]) * (UNIT_MS[m[2] as string] as number));
  if (ms > MAX_DURATION_MS) throw new Error(`'${text}': too long (at most 24 days)`);
  return ms;
}

function parsePositiveDuration(text: string): number {
  const ms = parseDuration(text);
  if (ms <= 0) throw new Error(`'${text}': must be longer than 0`);
  return ms;
}

/**
 * Upper bounds of the durations. Beyond them a value is a slip (`2m` for `2s`) that would make the
 * listener wait that long where it should act: on a stalled HAProxy, on a silent supervisord.
 */
const MAX_HAPROXY_TIMEOUT_MS = 60_000;
const MAX_HEARTBEAT_MS = 60_000;
const MAX_SUPERVISOR_TIMEOUT_MS = 60_000;
const MAX_WARMUP_INTERVAL_MS = 5 * 60_000;
const MAX_WARMUP_TIMEOUT_MS = 10 * 60_000;
const MAX_WARMUP_DEADLINE_MS = 24 * 60 * 60_000;

/** A positive duration of at most maxMs. */
function upTo(maxMs: number): (text: string) => number {
  return (text) => {
    const ms = parsePositiveDuration(text);
    if (ms > maxMs) throw new Error(`'${text}': at most ${maxMs % 60_000 === 0 ? `${maxMs / 60_000}m` : `${maxMs / 1000}s`}`);
    return ms;
  };
}

/** Stats sockets, comma-separated; each a unix path or tcp://host:port (parseSocketAddress decides). */
export function parseSockets(text: string): SocketAddress[] {
  return parseAddressList(text, parseSocketAddress);
}

/** Addresses, comma-separated, none twice (as their labels tell: the same address written two ways is one). */
export function parseAddressList<T extends { readonly label: string }>(text: string, parseItem: (item: string) => T): T[] {
  const out = splitList(text).map((item) => parseItem(item));
  const labels = new Set<string>();
  for (const a of out) {
    if (labels.has(a.label)) throw new Error(`${a.label} is listed twice`);
    labels.add(a.label);
  }
  return out;
}

/**
 * supervisord's XML-RPC endpoint: unix:///absolute/path or http://host:port[/path], the two forms
 * SUPERVISOR_SERVER_URL takes (http:// when supervisord has only an inet_http_server). Returned as given.
 */
function parseSupervisorUrl(text: string): string {
  const expected = `'${text}': expected unix:///path/to/supervisor.sock or http://host:port`;
  if (/\s/.test(text)) throw new Error(expected);
  if (text.startsWith('unix://')) {
    if (!/^\/[^/]/.test(text.slice('unix://'.length))) throw new Error(`${expected} (the path must be absolute)`);
    return text;
  }
  const m = /^http:\/\/(\[[0-9A-Fa-f:.]+\]|[^/:@?#[\]]+):(\d+)(?:\/.*)?$/.exec(text);
  if (m === null) {
    if (text.startsWith('https://')) {
      throw new Error(`'${text}': https is not supported (supervisord serves plain http)`);
    }
    if (/^http:\/\/[^/]*@/.test(text)) {
      throw new Error(`'${text}': put credentials in username / password, not in the url`);
    }
    throw new Error(expected);
  }
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new Error(`'${text}': port must be 1-65535`);
  return text;
}

/** supervisord sets SUPERVISOR_SERVER_URL for every child, listeners included; null when unset or empty. */
export function supervisorUrlFromEnv(env: Env): string | null {
  const url = nonEmpty(env.SUPERVISOR_SERVER_URL);
  if (url === null) return null;
  try {
    return parseSupervisorUrl(url);
  } catch (err) {
    throw new Error(`from $SUPERVISOR_SERVER_URL: ${errorText(err)}`);
  }
}

export function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}

/** Status ranges: "200-399", "200, 301-302"; each status 100-599. */
export function parseExpect(text: string): StatusRange[] {
  return splitList(text).map((item) => {
    const m = /^(\d{3})(?:\s*-\s*(\d{3}))?$/.exec(item);
    if (m === null) throw new Error(`'${item}': expected a status like 200 or a range like 200-399`);
    const min = Number(m[1]);
    const max = Number(m[2] ?? m[1]);
    if (min < 100 || max > 599) throw new Error(`'${item}': HTTP statuses are 100-599`);
    if (min > max) throw new Error(`'${item}': the range is backwards`);
    return { min, max };
  });
}

function parseOnDeadline(text: string): OnDeadline {
  if (text === 'maint' || text === 'ready') return text;
  throw new Error(`'${text}': expected maint or ready`);
}

/** A whole number ≥ 1 ("4"); throws a plain Error. */
function parsePositiveInteger(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || Number(text) > 1_000_000) {
    throw new Error(`'${text}': expected a whole number from 1 to 1000000`);
  }
  return Number(text);
}

/** yes/no in the spellings supervisord's own config accepts (true/false, on/off, 1/0); throws a plain Error. */
function parseBoolean(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (['yes', 'true', 'on', '1'].includes(t)) return true;
  if (['no', 'false', 'off', '0'].includes(t)) return false;
  throw new Error(`'${text}': expected yes or no`);
}

function parseOnStopping(text: string): OnStopping {
  if (text === 'maint' || text === 'drain') return text;
  throw new Error(`'${text}': expected maint or drain`);
}

/**
 * Warm-up requests, in order: paths ("/Plone") or absolute http:// URLs. The list is split only at commas
 * that start a new path or URL, so a comma inside a query string ("/search?q=a,b") stays in its request.
 * Empty text means no warm-up.
 */
export function parseRequests(text: string): string[] {
  if (text.trim() === '') return [];
  return splitList(text, /,(?=\s*(?:\/|[A-Za-z][A-Za-z0-9+.-]*:\/\/))/).map((item) => {
    // Whitespace or control characters would end or split the HTTP request line.
    if (/[\s\p{Cc}]/u.test(item)) throw new Error(`'${item}': a request must not contain spaces or control characters`);
    if (item.startsWith('/')) return item;
    if (/^https:\/\//i.test(item)) {
      throw new Error(`'${item}': https is not supported; probe the instance over plain http`);
    }
    if (/^http:\/\//i.test(item)) {
      // WHATWG URL reads "http:///Plone" as host "plone": insist on a host right after the slashes.
      if (/^http:\/\/\//i.test(item)) throw new Error(`'${item}': the URL has no host`);
      if (!URL.canParse(item)) throw new Error(`'${item}': not a valid URL`);
      return item;
    }
    throw new Error(`'${item}': expected a path starting with / or an http:// URL`);
  });
}

/** RFC 9110 token: what a header name may be made of. */
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const HEADER_RE = new RegExp(`^(${TOKEN}):(.*)$`, 's');
/**
 * A comma followed by `Name:` starts the next header; any other comma belongs to the value ("Accept: a, b"),
 * and so does one followed by a URL ("Link: <a>, http://b").
 */
const HEADER_SPLIT_RE = new RegExp(`,(?=\\s*${TOKEN}:(?!//))`);

/** Extra request headers: `Name: value`, several separated by commas. Empty text means none. */
export function parseHeaders(text: string): [string, string][] {
  if (text.trim() === '') return [];
  return splitList(text, HEADER_SPLIT_RE).map((item) => {
    const m = HEADER_RE.exec(item);
    if (m === null) {
      throw new Error(`'${item}': expected "Name: value" (a header name is letters, digits and !#$%&'*+-.^_\`|~)`);
    }
    const value = (m[2] as string).trim();
    // CR/LF would inject headers; other control characters (except tab) are refused by Node's http.
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) {
      throw new Error(`'${m[1]}': a header value must not contain CR, LF or other control characters`);
    }
    return [m[1] as string, value];
  });
}

/** The supervisord template names a `servers` entry may use (supervisord's own spelling). */
const TEMPLATE_RE = /%\(([^)]*)\)(.?)/g;
const TEMPLATES = ['process_name', 'group_name', 'program_name'] as const;

interface TemplateNames {
  readonly process: string;
  readonly group: string;
}

/** Replaces %(process_name)s, %(group_name)s and %(program_name)s (= the group, as in supervisord). */
export function substituteTemplate(template: string, names: TemplateNames): string {
  return template.replace(TEMPLATE_RE, (all, name: string) =>
    name === 'process_name' ? names.process : name === 'group_name' || name === 'program_name' ? names.group : all,
  );
}

/** The names a rule's templates are checked with: the ones its section fixes, a sample for the others. */
export function sampleNames(match: ProcessMatch): TemplateNames {
  const sample = 'x';
  return match.kind === 'group'
    ? { group: match.group, process: sample }
    : { group: match.group ?? sample, process: match.process };
}

/**
 * `backend/server` templates, comma-separated. Each half must be a valid HAProxy name once the templates
 * are filled in with `names` (a name outside ^[A-Za-z0-9_.:-]+$ could inject commands through ';' or newlines).
 */
export function parseServerTemplates(text: string, names: TemplateNames): string[] {
  return splitList(text).map((item) => {
    for (const m of item.matchAll(TEMPLATE_RE)) {
      if (!(TEMPLATES as readonly string[]).includes(m[1] as string) || m[2] !== 's') {
        throw new Error(`'${item}': unknown template '${m[0]}'; only ${TEMPLATES.map((t) => `%(${t})s`).join(', ')}`);
      }
    }
    const parts = item.split('/');
    if (parts.length !== 2) throw new Error(`'${item}': expected backend/server`);
    for (const [what, part] of [
      ['backend', parts[0] as string],
      ['server', parts[1] as string],
    ] as const) {
      const filled = substituteTemplate(part, names);
      if (!isValidName(filled)) {
        throw new Error(
          `'${item}': ${what} ${quote(filled)} is not a valid HAProxy name (letters, digits and _ . : - only)`,
        );
      }
    }
    return item;
  });
}
