// Keeps the listener's state file up to date: coalesced, atomic writes (temp file + rename), off the event path.

import { errorText } from '../errors.js';
import { rename, writeFile } from 'node:fs/promises';
import type { Logger } from '../log.js';
import type { ListenerSnapshot } from './snapshot.js';

export class StateFileWriter {
  private dirty = false;
  private writing: Promise<void> | null = null;
  private failing = false;

  constructor(
    private readonly path: string,
    private readonly snapshot: () => ListenerSnapshot,
    private readonly log: Logger,
  ) {}

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
        await this.writeOnce();
      }
    } finally {
      this.writing = null;
    }
  }

  private async writeOnce(): Promise<void> {
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(this.snapshot()) + '\n', { mode: 0o644 });
      await rename(tmp, this.path);
      if (this.failing) this.log.info('state file written again', { path: this.path });
      this.failing = false;
    } catch (err) {
      // Not worth stopping for: status shows less. Said once, not on every write.
      if (!this.failing) {
        this.log.warn('cannot write the state file', { path: this.path, error: errorText(err) });
      }
      this.failing = true;
    }
  }
}
