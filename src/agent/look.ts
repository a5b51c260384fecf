// What `check` and `status` learn from the agent, asking it as HAProxy does: whether it answers, and what.

import { connect, createServer } from 'node:net';
import { errorText, quote } from '../errors.js';
import type { Config } from '../config/types.js';
import { resolveProcess } from '../config/resolve.js';
import { serverKey, type ServerRef } from '../haproxy/types.js';
import type { ProcessInfo } from '../supervisor/rpc.js';
import { connectHost, type AgentAddress } from './address.js';

const ASK_TIMEOUT_MS = 2000;

/** Every server of the processes a config maps, each once, in process order. */
export function mappedServers(config: Config, infos: readonly ProcessInfo[]): ServerRef[] {
  const out = new Map<string, ServerRef>();
  for (const info of infos) {
    const r = resolveProcess(config, { group: info.group, process: info.name });
    if (r?.kind !== 'mapped') continue;
    for (const ref of r.servers) out.set(serverKey(ref), ref);
  }
  return [...out.values()];
}

/** An answer the agent can give: a decision, or the line that changes nothing. */
export const isAgentAnswer = (line: string): boolean => line === 'ready' || line === 'drain' || line === 'maint' || line.startsWith('#');

type AddressCheck =
  | { readonly verdict: 'ok'; readonly detail: string }
  | { readonly verdict: 'WARN' | 'FAIL'; readonly detail: string };

/**
 * `check` of one `[agent] listen` address: a running listener answers there (asked for `sample`, as HAProxy
 * would); when nothing does, the address is bound for a moment to show that the listener will be able to.
 */
export async function checkAgentAddress(address: AgentAddress, sample: ServerRef | null): Promise<AddressCheck> {
  const ref = sample ?? { backend: 'check', server: 'check' };
  try {
    const line = await askAgent(address, ref, ASK_TIMEOUT_MS);
    if (!isAgentAnswer(line)) {
      return { verdict: 'FAIL', detail: `something else answers there: ${quote(line)}` };
    }
    return { verdict: 'ok', detail: `answers ${serverKey(ref)} → ${line}` };
  } catch (err) {
    // Nothing answered: binding the address tells a listener not running yet from an address it never could use.
    const bound = await tryBind(address);
    if (bound === null) return { verdict: 'WARN', detail: 'nothing answers yet; the address can be bound (is the listener running?)' };
    if (/EADDRINUSE/.test(bound)) return { verdict: 'FAIL', detail: `the port is taken, but nothing there answers as an agent: ${errorText(err)}` };
    return { verdict: 'FAIL', detail: `nothing answers, and the address cannot be bound: ${bound}` };
  }
}

/** null when `address` could be bound (and was released at once), else why not. */
function tryBind(address: AgentAddress): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err) => resolve(errorText(err)));
    server.listen({ host: address.host, port: address.port, ipv6Only: address.host.includes(':') }, () =>
      server.close(() => resolve(null)),
    );
  });
}

export type AgentReply = { readonly ok: true; readonly answer: string } | { readonly ok: false; readonly error: string };

/** What `status` shows: the agent's answer for each server, asked on the first listen address. */
export interface AgentView {
  readonly label: string;
  readonly replies: ReadonlyMap<string, AgentReply>;
}

export async function askAll(address: AgentAddress, refs: readonly ServerRef[]): Promise<AgentView> {
  const replies = new Map<string, AgentReply>();
  await Promise.all(
    refs.map(async (ref) => {
      try {
        replies.set(serverKey(ref), { ok: true, answer: await askAgent(address, ref, ASK_TIMEOUT_MS) });
      } catch (err) {
        replies.set(serverKey(ref), { ok: false, error: errorText(err) });
      }
    }),
  );
  return { label: `agent ${address.label}`, replies };
}

/** `check`'s lines for `[agent] listen`, one per address (none without [agent]). */
export async function agentFindings(
  config: Config,
  infos: readonly ProcessInfo[],
): Promise<{ verdict: 'ok' | 'WARN' | 'FAIL'; subject: string; detail: string }[]> {
  const sample = mappedServers(config, infos)[0] ?? null;
  const out = [];
  for (const address of config.agent?.listen ?? []) {
    const r = await checkAgentAddress(address, sample);
    out.push({ verdict: r.verdict, subject: `agent ${address.label}`, detail: r.detail });
  }
  return out;
}

/** The agent's answer line for `ref`, without its newline; rejects on a connection error or after timeoutMs. */
function askAgent(address: AgentAddress, ref: ServerRef, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: connectHost(address), port: address.port });
    let text = '';
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`agent ${address.label}: no answer within ${timeoutMs} ms`)));
    socket.on('data', (chunk: string) => {
      text += chunk;
      // An answer is one short line; anything longer is not our agent.
      if (text.length > 1024) socket.destroy(new Error(`agent ${address.label}: answer too long`));
    });
    socket.on('end', () => resolve(text.split(/\r?\n/)[0] ?? ''));
    socket.on('error', (err) => reject(new Error(`agent ${address.label}: ${err.message}`)));
    socket.end(`${ref.backend}/${ref.server}\n`);
  });
}
