// Asks an agent one question, as HAProxy's agent-check does: for `status` and `check`, never the listener.

import { connect } from 'node:net';
import type { ServerRef } from '../haproxy/types.js';
import { connectHost, type AgentAddress } from './address.js';

/** The agent's answer line for `ref`, without its newline; rejects on a connection error or after timeoutMs. */
export function askAgent(address: AgentAddress, ref: ServerRef, timeoutMs: number): Promise<string> {
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
