// Steady HTTP load in a worker thread, so the demo's own work (supervisorctl, polling) cannot skew latencies.

import { Worker } from 'node:worker_threads';
import type { LoadWorkerData, LoadWorkerResult } from './load-worker.js';

export type LoadOptions = LoadWorkerData;

/** What a load run saw; latencies in ms, one per request that got an answer or an error. */
export interface LoadResult {
  readonly requests: number;
  readonly failed: number;
  /** Answers the app marked as rendered cold. */
  readonly cold: number;
  readonly latenciesMs: readonly number[];
  /** Why requests failed: `HTTP 503`, `ECONNRESET`, `timeout`…, with counts. */
  readonly failures: Readonly<Record<string, number>>;
  readonly durationMs: number;
}

export interface Load {
  /** Stops starting requests, waits for those in flight, and returns what every request saw. */
  stop(): Promise<LoadResult>;
  /** Ends the worker at once, results lost (teardown on Ctrl-C). */
  kill(): Promise<void>;
}

/** Starts `concurrency` keep-alive clients requesting `url` back to back; resolves once the worker runs. */
export async function startLoad(opts: LoadOptions): Promise<Load> {
  const worker = new Worker(new URL('./load-worker.js', import.meta.url), { workerData: opts });
  const result = new Promise<LoadResult>((resolve, reject) => {
    worker.once('message', (r: LoadWorkerResult) =>
      resolve({ requests: r.requests, failed: r.failed, cold: r.cold, latenciesMs: Array.from(r.latenciesMs), failures: r.failures, durationMs: r.durationMs }),
    );
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`load worker exited (code ${code}) before reporting`)));
  });
  result.catch(() => undefined); // observed by stop(); a kill() must not leave an unhandled rejection
  await new Promise<void>((resolve, reject) => {
    worker.once('online', resolve);
    worker.once('error', reject);
  });
  return {
    async stop() {
      worker.postMessage('stop');
      try {
        return await result;
      } finally {
        await worker.terminate();
      }
    },
    async kill() {
      await worker.terminate();
    },
  };
}
