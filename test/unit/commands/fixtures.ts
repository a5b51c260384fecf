// Builders for the operator commands' unit tests: a config, supervisord process rows, show stat rows.

import { parseConfig } from '../../../src/config/parse.js';
import type { Config } from '../../../src/config/types.js';
import type { ProcessInfo } from '../../../src/supervisor/rpc.js';
import type { ProcessState } from '../../../src/supervisor/types.js';
import type { ServerStat } from '../../../src/commands/live.js';

export const CONFIG_TEXT = `[haproxy]
socket = /run/a.sock, tcp://127.0.0.1:9999

[program:web1]
servers = site/web1

[program:web2]
servers = site/web2

[group:grp]
servers = pool/%(process_name)s
`;

export function config(text = CONFIG_TEXT): Config {
  return parseConfig(text, '/etc/sh.ini', {});
}

export function info(group: string, name: string, state: ProcessState = 'RUNNING', pid = 100): ProcessInfo {
  return {
    name,
    group,
    state,
    statename: state,
    pid: state === 'RUNNING' ? pid : 0,
    start: 1_000,
    now: 4_723,
    description: '',
    spawnerr: '',
    exitstatus: 0,
  };
}

export const stat = (proxy: string, server: string, status: string, scur = 0, qcur = 0): ServerStat => ({
  proxy,
  server,
  status,
  scur,
  qcur,
});
