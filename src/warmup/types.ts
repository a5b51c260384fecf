// What a warm-up is: the requests to make, what counts as passing, and how long to keep trying.

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
