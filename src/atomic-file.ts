// How the listener writes its state files (HAProxy's and its own): atomically and durably, a failure logged once.

import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errorText } from './errors.js';
import type { Logger, LogFields } from './log.js';

/**
 * Replaces `path` with `text` (a final newline added if missing: both files are read line by line), so that a
 * reader at any moment, or after a power cut, finds the previous file or this one whole, never a part of one.
 * The temp file sits in the same directory (rename(2) is atomic only within a file system) under a name no
 * one can guess, and is created with O_EXCL, which fails on any existing name, a symlink included: a link
 * planted there cannot redirect the write. fsync of the file before the rename and of the directory after it
 * puts both on disk. Mode 0640 whatever the umask: HAProxy reads the server state file as root, and the group
 * (the listener's) may read both.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(9).toString('base64url')}.tmp`);
  const file = await open(tmp, 'wx', 0o640);
  try {
    try {
      await file.chmod(0o640);
      await file.writeFile(text.endsWith('\n') ? text : `${text}\n`);
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

/**
 * One file the listener keeps current. A failed write is not worth stopping for: it is logged the first
 * time, not on every write, and said again once a write works.
 */
export class KeptFile {
  private failing = false;

  constructor(
    readonly path: string,
    private readonly log: Logger,
    /** How log lines name the file, e.g. 'haproxy server state file'. */
    private readonly name: string,
    private readonly failLevel: 'warn' | 'error',
    private readonly fields: LogFields = {},
  ) {}

  /** Writes `text` (see writeFileAtomic); false when it could not. Never throws. */
  async write(text: string): Promise<boolean> {
    try {
      await writeFileAtomic(this.path, text);
      if (this.failing) this.log.info(`${this.name} written again`, { ...this.fields, path: this.path });
      this.failing = false;
      return true;
    } catch (err) {
      if (!this.failing) this.log[this.failLevel](`cannot write the ${this.name}`, { ...this.fields, path: this.path, error: errorText(err) });
      this.failing = true;
      return false;
    }
  }
}
