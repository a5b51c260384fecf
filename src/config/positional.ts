// The Python tool's command line (`SOCKET PROGRAM:BACKEND/SERVER …`) read into a Config, without warm-up.

import { ConfigError } from '../errors.js';
import type { Config, ProcessMatch, ProgramRule } from './types.js';
import {
  DEFAULT_HAPROXY_TIMEOUT_MS,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_SUPERVISOR_TIMEOUT_MS,
  DEFAULT_WARMUP,
  inKey,
  nonEmpty,
  parseProgramName,
  parseServerTemplates,
  parseSockets,
  sampleNames,
  supervisorUrlFromEnv,
} from './parse.js';

/** What Config.file says for this form; messages then read "<command line>: ARG: …". */
export const COMMAND_LINE = '<command line>';

const FORM = 'PROGRAM:BACKEND/SERVER, e.g. instance1:plone01/plone0101';

/**
 * `args[0]`: the stats socket(s), comma-separated (the Python tool took one tcp://host:port; unix paths
 * work too). Then one mapping per argument, as the Python tool wrote them: `PROGRAM:BACKEND/SERVER`.
 *
 * A mapping is split at its first '/', and the part before it at its last ':'. So PROGRAM may be
 * `group:process` (`app:app_00:plone/app00`), which the Python tool could not express; the price is that a
 * backend whose name contains ':' cannot be written here (use a config file). Every example of the Python
 * tool (`instance1:plone01/plone0101`) means the same in both. PROGRAM alone matches that process in any
 * group, as the Python tool matched on processname. A program given twice gets all its servers (the Python
 * tool kept the last one only), and SERVER may be a comma-separated list like the config's `servers`.
 *
 * Rules get the defaults of a config file without warm-up: ready as soon as RUNNING, maint when STOPPING.
 */
export function parsePositional(args: string[], env: Record<string, string | undefined>): Config {
  const [socketArg, ...mappings] = args;
  if (socketArg === undefined) {
    throw new ConfigError(COMMAND_LINE, null, null, `expected SOCKET ${FORM}`);
  }
  const sockets = inKey(COMMAND_LINE, null, socketArg, () => parseSockets(socketArg));
  if (mappings.length === 0) {
    throw new ConfigError(COMMAND_LINE, null, socketArg, `expected at least one ${FORM} after the socket`);
  }

  const rules = new Map<string, { match: ProcessMatch; servers: string[] }>();
  for (const arg of mappings) {
    const { program, match, servers } = inKey(COMMAND_LINE, null, arg, () => parseMapping(arg));
    const known = rules.get(program);
    if (known === undefined) rules.set(program, { match, servers: [...servers] });
    else known.servers.push(...servers.filter((s) => !known.servers.includes(s)));
  }

  return {
    file: COMMAND_LINE,
    haproxy: { sockets, timeoutMs: DEFAULT_HAPROXY_TIMEOUT_MS, heartbeatMs: DEFAULT_HEARTBEAT_MS, serverStateFiles: [] },
    listener: { stateFile: null },
    supervisor: {
      url: inKey(COMMAND_LINE, null, '$SUPERVISOR_SERVER_URL', () => supervisorUrlFromEnv(env)),
      username: nonEmpty(env.SUPERVISOR_USERNAME),
      password: nonEmpty(env.SUPERVISOR_PASSWORD),
      timeoutMs: DEFAULT_SUPERVISOR_TIMEOUT_MS,
    },
    warmupConcurrency: null,
    rules: [...rules].map(
      ([program, { match, servers }]): ProgramRule => ({
        section: `program:${program}`,
        match,
        servers,
        warmup: DEFAULT_WARMUP,
        onStopping: 'maint',
      }),
    ),
  };
}

function parseMapping(arg: string): { program: string; match: ProcessMatch; servers: string[] } {
  const slash = arg.indexOf('/');
  const colon = slash < 0 ? -1 : arg.lastIndexOf(':', slash);
  if (colon <= 0) throw new Error(`expected ${FORM}`);
  const program = arg.slice(0, colon);
  const match = parseProgramName(program);
  return { program, match, servers: parseServerTemplates(arg.slice(colon + 1), sampleNames(match)) };
}
