// The parent's handle on the stub worker: start it, wait for `ready` on a watched server, read its counts.

import { Worker } from 'node:worker_threads';
import type { StubCounts, StubMessage, StubWorkerData } from './stub-worker.js';

export interface Stubs {
  readonly warmupPort: number;
  /** Resolves at the next `set server <key> state ready` on a watched server. */
  nextReady(key: string, timeoutMs: number): Promise<void>;
  counts(): Promise<StubCounts>;
  /** Resolves once no `set server` / `show servers state` has come for quietMs: the listener is idle. */
  quiet(quietMs: number, timeoutMs: number): Promise<StubCounts>;
  stop(): Promise<void>;
}

/** Starts the stand-ins in a worker thread, so their work does not run on the driver's event loop. */
export async function startStubs(data: StubWorkerData): Promise<Stubs> {
  const worker = new Worker(new URL('./stub-worker.js', import.meta.url), { workerData: data });
  const readyWaiters = new Map<string, (() => void)[]>();
  const countWaiters: ((c: StubCounts) => void)[] = [];
  let failure: Error | null = null;
  const warmupPort = await new Promise<number>((resolve, reject) => {
    worker.on('message', (m: StubMessage) => {
      if (m.type === 'listening') resolve(m.warmupPort);
      else if (m.type === 'ready') for (const w of readyWaiters.get(m.server)?.splice(0) ?? []) w();
      else countWaiters.shift()?.(m.counts);
    });
    worker.on('error', (e) => {
      failure = e;
      reject(e);
    });
  });
  const counts = (): Promise<StubCounts> => {
    if (failure !== null) return Promise.reject(failure);
    return new Promise((resolve) => {
      countWaiters.push(resolve);
      worker.postMessage('counts');
    });
  };
  return {
    warmupPort,
    nextReady(key, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no 'set server ${key} state ready' within ${timeoutMs} ms`)), timeoutMs);
        const list = readyWaiters.get(key) ?? [];
        list.push(() => {
          clearTimeout(timer);
          resolve();
        });
        readyWaiters.set(key, list);
      });
    },
    counts,
    async quiet(quietMs, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const c = await counts();
        if (Date.now() - c.lastApplyAt >= quietMs) return c;
        if (Date.now() > deadline) throw new Error(`the listener was still talking to HAProxy after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      worker.postMessage('stop');
      await new Promise((r) => setTimeout(r, 50));
      await worker.terminate();
    },
  };
}
