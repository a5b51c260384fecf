// Per-test-file temp directories, short enough for unix socket paths.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// sun_path holds 108 bytes on Linux, 104 on BSD/macOS; sockets live a level or two below the temp dir.
const MAX_BASE = 40;

/** A fresh directory under the system temp dir (or /tmp when that path is too long for sockets). */
export async function makeTempDir(prefix: string): Promise<string> {
  const base = tmpdir().length <= MAX_BASE ? tmpdir() : '/tmp';
  return mkdtemp(join(base, prefix));
}

/** Removes dir, unless KEEP_TMP=1 (then says where it is, for reading the logs of a failed run). */
export async function removeDir(dir: string): Promise<void> {
  if (process.env['KEEP_TMP'] === '1') {
    process.stderr.write(`KEEP_TMP=1: kept ${dir}\n`);
    return;
  }
  await rm(dir, { recursive: true, force: true });
}
