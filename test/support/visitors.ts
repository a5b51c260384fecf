// Steady visitor load in the test process: a few keep-alive clients requesting one URL back to back until stopped.

import { Agent, request } from 'node:http';

export interface VisitorResult {
  readonly requests: number;
  readonly failed: number;
  /** Failed requests by cause: `HTTP 503`, `ECONNRESET`, `timeout`… */
  readonly failures: Readonly<Record<string, number>>;
}

export interface Visitors {
  /** Requests finished so far (answered or failed). */
  readonly done: number;
  /** Stops starting requests and resolves once those in flight have finished. */
  stop(): Promise<VisitorResult>;
}

// A refused connection fails in microseconds; without a pause a client would spin while HAProxy is down.
const ERROR_PAUSE_MS = 20;

/** null when answered 2xx; otherwise why it failed and whether it was sent on a reused keep-alive connection. */
function once(url: URL, agent: Agent, timeoutMs: number): Promise<{ why: string; reused: boolean; answered: boolean } | null> {
  return new Promise((resolve) => {
    let settled = false;
    let answered = false;
    const finish = (why: string | null): void => {
      if (!settled) {
        settled = true;
        resolve(why === null ? null : { why, reused: req.reusedSocket, answered });
      }
    };
    const req = request(url, { agent }, (res) => {
      answered = true;
      const status = res.statusCode ?? 0;
      res.on('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
      res.on('end', () => finish(status >= 200 && status < 300 ? null : `HTTP ${status}`));
      res.resume();
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
    req.end();
  });
}

/**
 * Starts `clients` keep-alive clients on url; each request has timeoutMs to be answered. With retryReused, a
 * request that failed without an answer on a reused connection is sent once more, as browsers do (the
 * server may have closed the idle connection as the request went out); only the retry's outcome counts.
 */
export function startVisitors(url: string, opts: { clients: number; timeoutMs: number; retryReused?: boolean }): Visitors {
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.clients });
  const failures: Record<string, number> = {};
  let requests = 0;
  let failed = 0;
  let stopping = false;
  const client = async (): Promise<void> => {
    while (!stopping) {
      let outcome = await once(target, agent, opts.timeoutMs);
      if (outcome !== null && opts.retryReused === true && outcome.reused && !outcome.answered) outcome = await once(target, agent, opts.timeoutMs);
      requests++;
      if (outcome !== null) {
        failed++;
        failures[outcome.why] = (failures[outcome.why] ?? 0) + 1;
        await new Promise((r) => setTimeout(r, ERROR_PAUSE_MS));
      }
    }
  };
  const running = Promise.all(Array.from({ length: opts.clients }, client));
  return {
    get done() {
      return requests;
    },
    async stop() {
      stopping = true;
      await running;
      agent.destroy();
      return { requests, failed, failures };
    },
  };
}
