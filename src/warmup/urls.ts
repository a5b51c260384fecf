// Which URLs a warm-up requests, and which statuses count as passing: pure, no I/O.

import type { ProbeTarget, StatusRange, WarmupSpec } from './types.js';

/** A request is relative when it is a path; it then goes to each server's own address. */
export function isRelative(request: string): boolean {
  return request.startsWith('/');
}

/** `host` as it must appear in a URL: IPv6 literals (HAProxy's srv_addr can be one) need brackets. */
function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * The URLs to probe, in the order of `spec.requests`: a relative path once per target
 * (for each request, all targets), an absolute URL once, as given.
 * Throws TypeError for a request that is neither a path nor a valid absolute URL (config validates that first).
 */
export function resolveRequests(spec: WarmupSpec, targets: readonly ProbeTarget[]): URL[] {
  const urls: URL[] = [];
  for (const request of spec.requests) {
    if (!isRelative(request)) {
      urls.push(new URL(request));
      continue;
    }
    for (const t of targets) {
      // Concatenate rather than new URL(path, base): a path like "//x" would otherwise be read as a host.
      urls.push(new URL(`http://${urlHost(t.host)}:${t.port}${request}`));
    }
  }
  return urls;
}

/** Whether `status` falls in any of the (inclusive) ranges; no ranges accept nothing. */
export function statusAccepted(status: number, ranges: readonly StatusRange[]): boolean {
  return ranges.some((r) => status >= r.min && status <= r.max);
}
