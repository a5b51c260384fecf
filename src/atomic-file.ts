// Replaces a file atomically and durably: the one way the listener writes its state files.

import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces `path` with `text`, so that a reader at any moment, or after a power cut, finds the previous
 * file or this one whole, never a part of one. The temp file sits in the same directory (rename(2) is
 * atomic only within a file system) under a name no one can guess, and is created with O_EXCL, which
 * fails on any existing name, a symlink included: a link planted there cannot redirect the write.
 * fsync of the file before the rename and of the directory after it puts both on disk. Mode 0640 whatever
 * the umask: HAProxy reads the server state file as root, and the group (the listener's) may read both.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(9).toString('base64url')}.tmp`);
  const file = await open(tmp, 'wx', 0o640);
  try {
    try {
      await file.chmod(0o640);
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
