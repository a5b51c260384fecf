// Reads the listener's state file for `status`: its snapshot, and whether the listener that wrote it still runs.

import { errorText } from '../errors.js';
import { readFile } from 'node:fs/promises';
import { parseSnapshot } from '../reconcile/snapshot.js';
import type { ListenerView } from './report.js';

export async function readListenerFile(path: string): Promise<ListenerView> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return { stateFile: path, snapshot: null, running: false, error: missing ? 'not there (is the listener running with this config?)' : errorText(err) };
  }
  try {
    const snapshot = parseSnapshot(text);
    return { stateFile: path, snapshot, running: isRunning(snapshot.pid), error: null };
  } catch (err) {
    return { stateFile: path, snapshot: null, running: false, error: errorText(err) };
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
