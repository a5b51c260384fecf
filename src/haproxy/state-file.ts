// Writes HAProxy's server state file (the `show servers state` text it loads on every start and reload).

import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces `path` with `text` atomically: a temp file in the same directory, then rename(2), so an HAProxy
 * starting at any moment reads either the previous file or this one, never half of one.
 */
export async function writeServerStateFile(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    // HAProxy reads it while still root, at start-up; the group may read it too (the listener's user).
    await writeFile(tmp, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o640 });
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

/** What a reload restores per server: admin bits and weight. Dumps with the same signature restore the same. */
export function restoredSignature(
  rows: readonly { backend: string; server: string; adminState: number; uweight?: number }[],
): string {
  return rows.map((r) => `${r.backend}/${r.server}=${r.adminState}:${r.uweight ?? ''}`).join(' ');
}
