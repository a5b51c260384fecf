// The load worker thread: N keep-alive HTTP clients request one URL back to back until told to stop.

import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

/** What the worker is started with (workerData). */
export interface LoadWorkerData {
  readonly url: string;
  readonly concurrency: number;
  /** A request with no complete answer by then is aborted and counted as failed (`timeout`). */
  readonly timeoutMs: number;
}

/** What it posts back after 'stop', once every request in flight has finished. */
export interface LoadWorkerResult {
  readonly requests: number;
  readonly failed: number;
  /** Answers the app marked as rendered cold (`X-Slow-App: cold`). */
  readonly cold: number;
  readonly latenciesMs: Float64Array<ArrayBuffer>;
  readonly failures: Record<string, number>;
  readonly durationMs: number;
}

// After a network error, a client pauses this long: a refused connection fails in microseconds and would
// otherwise spin, flooding the counts with failures of one kind and starving the event loop.
const ERROR_PAUSE_MS = 20;

type Outcome = { readonly ok: true; readonly cold: boolean } | { readonly ok: false; readonly why: string };

function once(url: URL, agent: Agent, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: Outcome): void => {
      if (!done) {
        done = true;
        resolve(o);
      }
    };
    const req = request(url, { agent, method: 'GET' }, (res) => {
      const status = res.statusCode ?? 0;
      const cold = res.headers['x-slow-app'] === 'cold';
      res.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, why: e.code ?? e.message }));
      res.on('end', () => finish(status >= 200 && status < 300 ? { ok: true, cold } : { ok: false, why: `HTTP ${status}` }));
      res.resume(); // the body is not looked at, but must be read for the connection to be reused
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, why: e.code ?? e.message }));
    req.end();
  });
}

async function main(port: NonNullable<typeof parentPort>, data: LoadWorkerData): Promise<void> {
  const url = new URL(data.url);
  const agent = new Agent({ keepAlive: true, maxSockets: data.concurrency });
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let failed = 0;
  let cold = 0;
  let stopping = false;
  port.once('message', () => {
    stopping = true;
  });

  const started = performance.now();
  const client = async (): Promise<void> => {
    while (!stopping) {
      const t0 = performance.now();
      const outcome = await once(url, agent, data.timeoutMs);
      latencies.push(performance.now() - t0);
      if (outcome.ok) {
        if (outcome.cold) cold++;
      } else {
        failed++;
        failures[outcome.why] = (failures[outcome.why] ?? 0) + 1;
        await new Promise((r) => setTimeout(r, ERROR_PAUSE_MS));
      }
    }
  };
  await Promise.all(Array.from({ length: data.concurrency }, client));
  agent.destroy();
  const result: LoadWorkerResult = {
    requests: latencies.length,
    failed,
    cold,
    latenciesMs: new Float64Array(latencies),
    failures,
    durationMs: performance.now() - started,
  };
  port.postMessage(result, [result.latenciesMs.buffer]);
}

if (parentPort !== null) void main(parentPort, workerData as LoadWorkerData);
