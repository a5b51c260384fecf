// What a warm-up is (requests, what passes, how long to keep trying) and the URLs it requests: pure, no I/O.

export interface StatusRange {
  readonly min: number;
  readonly max: number;
}

export type OnDeadline = 'maint' | 'ready';

export interface WarmupSpec {
  /** Relative paths ("/Plone") go to the server's own address; absolute URLs are used as given. In order. */
  readonly requests: readonly string[];
  /** Extra request headers, e.g. [["Host", "www.example.org"]]. */
  readonly headers: readonly (readonly [string, string])[];
  readonly expect: readonly StatusRange[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly deadlineMs: number;
  readonly onDeadline: OnDeadline;
  /**
   * Warm means fast: an accepted answer that took longer than this is a cold page, not a pass (null: any
   * answer within timeoutMs passes). A slow answer is retried at once: the app is serving and warming.
   */
  readonly maxTimeMs: number | null;
  /** Each request must pass this many times in a row (a cold Zope can answer one fast page by luck). */
  readonly passes: number;
  /** Where relative paths go when given (`address`), instead of the address HAProxy shows for the server. */
  readonly address?: ProbeTarget;
}

/** Where relative warm-up paths are sent: the address HAProxy itself uses for the server. */
export interface ProbeTarget {
  readonly host: string;
  readonly port: number;
}


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
