// The listener's own state file ([listener] state_file): coalesced writes off the event path, and the last one read back.

import { readFile } from 'node:fs/promises';
import { KeptFile } from '../atomic-file.js';
import { errorText } from '../errors.js';
import type { Logger } from '../log.js';
import { parseSnapshot, type ListenerSnapshot } from './snapshot.js';

export class SnapshotFileWriter {
  private dirty = false;
  private writing: Promise<void> | null = null;
  private readonly file: KeptFile;

  constructor(
    path: string,
    private readonly snapshot: () => ListenerSnapshot,
    log: Logger,
  ) {
    // Not worth stopping for: status shows less.
    this.file = new KeptFile(path, log, 'state file', 'warn');
  }

  /** Something changed: write soon. Many changes in a burst make one write. */
  changed(): void {
    this.dirty = true;
    this.writing ??= this.drain();
  }

  /** Resolves once the latest change is on disk (or failed and was logged). */
  async flush(): Promise<void> {
    while (this.writing !== null) await this.writing;
  }

  private async drain(): Promise<void> {
    try {
      // Let the current burst of events finish first.
      await new Promise((r) => setImmediate(r));
      while (this.dirty) {
        this.dirty = false;
        await this.file.write(JSON.stringify(this.snapshot()));
      }
    } finally {
      this.writing = null;
    }
  }
}

/** What the previous listener wrote, or null when there is no usable file (said at debug: a first start). */
export async function readPreviousSnapshot(path: string, log: Logger): Promise<ListenerSnapshot | null> {
  try {
    return parseSnapshot(await readFile(path, 'utf8'));
  } catch (err) {
    log.debug('no previous state file', { path, error: errorText(err) });
    return null;
  }
}
