// The one module that makes HTTP requests: a single warm-up GET, body read to the end, bounded by a timeout.

import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { statusAccepted, type StatusRange } from './spec.js';
import { packageVersion } from '../version.js';

/** Names the tool and its version, e.g. `supervisor-haproxy/0.1.0 (warm-up)`. */
const USER_AGENT = `supervisor-haproxy/${packageVersion()} (warm-up)`;

export interface ProbeRequest {
  url: URL;
  headers: readonly (readonly [string, string])[];
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called as soon as the app accepts the connection (its port answers), before any answer. */
  onConnect?: () => void;
}

export type ProbeResult =
  | { ok: true; status: number; ms: number }
  /** connected: the TCP connection was accepted (the app's port answers), whatever came after. */
  | { ok: false; status: number | null; error: string; ms: number; connected: boolean };

/** Never rejects for network trouble (that is `ok: false`); rejects only with the signal's reason on abort. */
export type Probe = (req: ProbeRequest, expect: readonly StatusRange[]) => Promise<ProbeResult>;

type HeaderMap = Map<string, [name: string, values: string[]]>;

/**
 * Request headers: ours first, then the configured ones. A configured header replaces one of ours with the
 * same name (case-insensitive); repeated configured names are all sent.
 */
function buildHeaders(extra: ProbeRequest['headers']): Record<string, string | string[]> {
  // Connection: close because a cold instance's socket must not be kept for the next probe. The
  // User-Agent tells warm-ups apart from visitors in the app's access log.
  const map: HeaderMap = new Map([
    ['connection', ['Connection', ['close']]],
    ['user-agent', ['User-Agent', [USER_AGENT]]],
  ]);
  const ours = new Set(map.keys());
  for (const [name, value] of extra) {
    const key = name.toLowerCase();
    const entry = map.get(key);
    if (entry === undefined || ours.has(key)) {
      ours.delete(key);
      map.set(key, [name, [value]]);
    } else {
      entry[1].push(value);
    }
  }
  const out: Record<string, string | string[]> = {};
  for (const [name, values] of map.values()) out[name] = values.length === 1 ? (values[0] as string) : values;
  return out;
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return typeof code === 'string' && code.startsWith('E') && !code.startsWith('ERR_') ? code : err.message;
  }
  return String(err);
}

export const httpProbe: Probe = (req, expect) =>
  new Promise<ProbeResult>((resolve, reject) => {
    const { url, timeoutMs, signal } = req;
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let status: number | null = null;
    let connected = false;
    let settled = false;
    let request: http.ClientRequest | null = null;

    const cleanup = () => {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      request?.destroy();
    };
    const pass = () => {
      if (settled) return;
      cleanup();
      resolve({ ok: true, status: status as number, ms: elapsed() });
    };
    const fail = (error: string) => {
      if (settled) return;
      cleanup();
      resolve({ ok: false, status, error, ms: elapsed(), connected });
    };
    function onAbort() {
      if (settled) return;
      cleanup();
      reject(signal?.reason);
    }

    // One timer for the whole exchange, body included: a page that is slow to render has not warmed up.
    const timer = setTimeout(() => fail(`timeout after ${timeoutMs}ms`), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });

    // The config accepts http:// only (an instance behind HAProxy speaks plain HTTP on loopback).
    if (url.protocol !== 'http:') {
      fail(`unsupported protocol ${url.protocol}`);
      return;
    }
    try {
      // agent: false — no pooling, so each probe opens a fresh connection to the instance.
      request = http.request(url, { method: 'GET', agent: false, headers: buildHeaders(req.headers) });
    } catch (err) {
      // e.g. ERR_INVALID_CHAR for a header value with a newline: report it like any other failure.
      fail(errorText(err));
      return;
    }
    request.on('socket', (socket) =>
      socket.once('connect', () => {
        connected = true;
        req.onConnect?.();
      }),
    );
    request.on('error', (err) => fail(errorText(err)));
    request.on('response', (res) => {
      connected = true;
      status = res.statusCode ?? null;
      if (status === null || !statusAccepted(status, expect)) {
        fail(`unexpected status ${status ?? 'none'}`);
        return;
      }
      res.on('end', pass);
      res.on('error', (err) => fail(errorText(err)));
      res.on('close', () => {
        if (!res.complete) fail('connection closed before the end of the body');
      });
      res.resume();
    });
    request.end();
  });
