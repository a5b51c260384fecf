// Reading HAProxy's server state file (the `show servers state` format): which servers it would restore in maint.

import { readFile } from 'node:fs/promises';

export interface SavedServer {
  readonly opState: number;
  readonly adminState: number;
}

/** `backend/server` → its saved states; an empty map when the file is missing. */
export async function readServerStateFile(path: string): Promise<Map<string, SavedServer>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw e;
  }
  const lines = text.split('\n');
  const header = lines.find((l) => l.startsWith('# '));
  const out = new Map<string, SavedServer>();
  if (header === undefined) return out;
  const cols = header.slice(2).split(' ');
  const at = (name: string): number => cols.indexOf(name);
  for (const line of lines) {
    if (line === '' || line.startsWith('#') || !line.includes(' ')) continue;
    const cells = line.split(' ');
    out.set(`${cells[at('be_name')]}/${cells[at('srv_name')]}`, {
      opState: Number(cells[at('srv_op_state')]),
      adminState: Number(cells[at('srv_admin_state')]),
    });
  }
  return out;
}

/** The admin bits HAProxy counts as maint (forced, inherited, resolution): `admin & 0x23`. */
export const isMaint = (s: SavedServer | undefined): boolean => s !== undefined && (s.adminState & 0x23) !== 0;
