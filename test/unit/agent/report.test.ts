// `status` with [agent]: a row per server for the agent's answer, judged like the state it makes in HAProxy.

import { describe, expect, it } from 'vitest';
import type { AgentReply, AgentView } from '../../../src/agent/look.js';
import { mappedServers } from '../../../src/agent/look.js';
import { buildReport, renderTable } from '../../../src/commands/report.js';
import { config, info } from '../commands/fixtures.js';

const AGENT_ONLY = `[agent]
listen = 127.0.0.1:9707

[program:web1]
servers = site/web1

[program:web2]
servers = site/web2
on_stopping = drain
`;

const view = (replies: Record<string, AgentReply>): AgentView => ({ label: 'agent 127.0.0.1:9707', replies: new Map(Object.entries(replies)) });

describe('status with the agent', () => {
  it('asks for every server of the mapped processes', () => {
    expect(mappedServers(config(AGENT_ONLY), [info('web1', 'web1'), info('web2', 'web2'), info('other', 'other')])).toEqual([
      { backend: 'site', server: 'web1' },
      { backend: 'site', server: 'web2' },
    ]);
  });

  it('judges each answer against supervisord, and shows it as the agent said it', () => {
    const infos = [info('web1', 'web1'), info('web2', 'web2', 'STOPPING')];
    const ok = buildReport(config(AGENT_ONLY), infos, new Map(), null, 0, null, view({ 'site/web1': { ok: true, answer: 'ready' }, 'site/web2': { ok: true, answer: 'drain' } }));
    expect(ok.allAgree).toBe(true);
    expect(ok.sockets).toEqual([{ socket: 'agent 127.0.0.1:9707', reachable: true, error: null }]);
    expect(renderTable(ok)).toMatch(/site\/web1 +agent 127\.0\.0\.1:9707 +ready +- +yes/);

    const bad = buildReport(config(AGENT_ONLY), infos, new Map(), null, 0, null, view({ 'site/web1': { ok: true, answer: 'maint' }, 'site/web2': { ok: true, answer: '#no decision' } }));
    expect(bad.allAgree).toBe(false);
    const [web1, web2] = bad.processes;
    expect(web1?.servers[0]).toMatchObject({ status: 'maint', agrees: 'no' });
    expect(web2?.servers[0]).toMatchObject({ status: '#no decision', agrees: 'unknown', note: 'the agent has no decision for it' });
  });

  it('an agent that does not answer makes the report fail', () => {
    const r = buildReport(config(AGENT_ONLY), [info('web1', 'web1')], new Map(), null, 0, null, view({ 'site/web1': { ok: false, error: 'agent 127.0.0.1:9707: connect ECONNREFUSED 127.0.0.1:9707' } }));
    expect(r.sockets).toEqual([{ socket: 'agent 127.0.0.1:9707', reachable: false, error: 'agent 127.0.0.1:9707: connect ECONNREFUSED 127.0.0.1:9707' }]);
    expect(r.processes[0]?.servers[0]).toMatchObject({ status: null, agrees: 'unknown' });
  });
});
