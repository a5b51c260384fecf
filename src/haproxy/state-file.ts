// Writes HAProxy's server state file (the `show servers state` text it loads on every start and reload).

import { writeFileAtomic } from '../atomic-file.js';

/** Replaces `path` with `text` atomically, so an HAProxy starting at any moment reads a whole file. */
export async function writeServerStateFile(path: string, text: string): Promise<void> {
  await writeFileAtomic(path, text.endsWith('\n') ? text : `${text}\n`);
}

/** What a reload restores per server: admin bits and weight. Dumps with the same signature restore the same. */
export function restoredSignature(
  rows: readonly { backend: string; server: string; adminState: number; uweight?: number }[],
): string {
  return rows.map((r) => `${r.backend}/${r.server}=${r.adminState}:${r.uweight ?? ''}`).join(' ');
}
