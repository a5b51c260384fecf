import { describe, expect, it } from 'vitest';
import type { LiveHaproxy, LiveSupervisor } from '../../../src/commands/live.js';
import { TakenOut } from '../../../src/commands/restart-undo.js';
import type { ServerStateRow } from '../../../src/haproxy/replies.js';
import type { AdminState, ServerRef } from '../../../src/haproxy/types.js';
import { info } from './fixtures.js';

const REFS: ServerRef[] = [{ backend: 'site', server: 'web1' }];
/** srv_admin_state bits: 0 ready, 1 (FMAINT) maint, 8 (FDRAIN) drain. */
const row = (server: string, adminState: number) => ({ backend: 'site', server, adminState }) as unknown as ServerStateRow;

function socket(label: string, adminState: number, failSet = false) {
  const sets: string[] = [];
  const h = {
    label,
    showServersState: async () => [row('web1', adminState), row('web2', 0)],
    setServerState: async (ref: ServerRef, state: AdminState) => {
      if (failSet) throw new Error('connect ECONNREFUSED');
      sets.push(`${ref.backend}/${ref.server} ${state}`);
    },
  } as unknown as LiveHaproxy;
  return { h, sets };
}

const supervisor = (state: 'RUNNING' | 'STOPPED', pid: number): LiveSupervisor =>
  ({ getProcessInfo: async () => info('web1', 'web1', state, pid) }) as unknown as LiveSupervisor;

describe('TakenOut', () => {
  it('nothing remembered (ended at the guard): nothing to undo', async () => {
    expect(await new TakenOut('web1:web1', REFS, 42).undo(supervisor('RUNNING', 42))).toEqual([]);
  });

  it('not handed over: every socket gets back the state it had, drain included', async () => {
    const a = socket('/run/a.sock', 0);
    const b = socket('tcp://127.0.0.1:9999', 8);
    const t = new TakenOut('web1:web1', REFS, 42);
    await t.remember([a.h, b.h]);
    expect(await t.undo(supervisor('RUNNING', 42))).toEqual([
      'web1:web1: not restarted: site/web1 put back to ready on /run/a.sock',
      'web1:web1: not restarted: site/web1 put back to drain on tcp://127.0.0.1:9999',
    ]);
    expect([a.sets, b.sets]).toEqual([['site/web1 ready'], ['site/web1 drain']]);
  });

  it('handed over, the stop without effect (same pid, RUNNING): put back', async () => {
    const a = socket('/run/a.sock', 0);
    const t = new TakenOut('web1:web1', REFS, 42);
    await t.remember([a.h]);
    t.handOver();
    expect(await t.undo(supervisor('RUNNING', 42))).toEqual(['web1:web1: the stop did not take effect: site/web1 put back to ready on /run/a.sock']);
  });

  it('handed over and stopped: left to supervisord and the listener, saying how to bring it back', async () => {
    const a = socket('/run/a.sock', 0);
    const t = new TakenOut('web1:web1', REFS, 42);
    await t.remember([a.h]);
    t.handOver();
    expect(await t.undo(supervisor('STOPPED', 0))).toEqual([
      'web1:web1: left to supervisord and the listener, now STOPPED (pid 0): its servers stay out of rotation until it runs and is warm again (supervisorctl start web1:web1, or restart it again)',
    ]);
    expect(a.sets).toEqual([]);
  });

  it('a socket that refuses: says the command that would put it back', async () => {
    const a = socket('tcp://127.0.0.1:9999', 0, true);
    const t = new TakenOut('web1:web1', REFS, 42);
    await t.remember([a.h]);
    expect(await t.undo(supervisor('RUNNING', 42))).toEqual([
      'web1:web1: not restarted: could not put site/web1 back to ready on tcp://127.0.0.1:9999 (connect ECONNREFUSED); ' +
        'to do it by hand: echo "set server site/web1 state ready" | socat stdio TCP:127.0.0.1:9999',
    ]);
  });
});
