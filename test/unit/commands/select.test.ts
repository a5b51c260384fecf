import { describe, expect, it } from 'vitest';
import { lastHealthyViolations } from '../../../src/commands/agreement.js';
import { nameOf, selectProcesses } from '../../../src/commands/restart.js';
import { UsageError } from '../../../src/errors.js';
import { config, info, stat } from './fixtures.js';

const INFOS = [info('grp', 'p0'), info('grp', 'p1'), info('listener', 'listener'), info('web1', 'web1'), info('web2', 'web2')];

describe('selectProcesses', () => {
  it.each([
    [['web1'], ['web1:web1']],
    [['grp:p1'], ['grp:p1']],
    [['grp:*'], ['grp:p0', 'grp:p1']],
    [['grp'], ['grp:p0', 'grp:p1']],
    [['p1', 'web2', 'grp:p1'], ['grp:p1', 'web2:web2']],
  ])('%j → %j', (names, expected) => {
    expect(selectProcesses(config(), INFOS, names).map(nameOf)).toEqual(expected);
  });

  it('--all is every mapped process, in supervisord order, without the listener', () => {
    expect(selectProcesses(config(), INFOS, 'all').map(nameOf)).toEqual(['grp:p0', 'grp:p1', 'web1:web1', 'web2:web2']);
  });

  it('names every unknown name at once', () => {
    expect(() => selectProcesses(config(), INFOS, ['web1', 'nope', 'grp:p9'])).toThrow(UsageError);
    expect(() => selectProcesses(config(), INFOS, ['web1', 'nope', 'grp:p9'])).toThrow(
      'no such process in supervisord: nope, grp:p9',
    );
  });
});

describe('lastHealthyViolations', () => {
  const refs = [{ backend: 'site', server: 'web1' }];

  it('allows taking a server out while another is in service', () => {
    expect(lastHealthyViolations(refs, [stat('site', 'web1', 'UP'), stat('site', 'web2', 'UP 1/2')], 'sock')).toEqual([]);
    expect(lastHealthyViolations(refs, [stat('site', 'web1', 'UP'), stat('site', 'web2', 'no check')], 'sock')).toEqual([]);
  });

  it('refuses when every other server is out, naming them', () => {
    const rows = [stat('site', 'web1', 'UP'), stat('site', 'web2', 'MAINT'), stat('site', 'web3', 'DOWN'), stat('other', 'x', 'UP')];
    expect(lastHealthyViolations(refs, rows, 'sock')).toEqual([
      'backend site on sock would have no server in service (others: web2 MAINT, web3 DOWN)',
    ]);
  });

  it('refuses a backend with no other server', () => {
    expect(lastHealthyViolations(refs, [stat('site', 'web1', 'UP')], 'sock')).toEqual([
      'backend site on sock would have no server in service (it has no other server)',
    ]);
  });

  it('counts a drained server as out of service', () => {
    expect(lastHealthyViolations(refs, [stat('site', 'web1', 'UP'), stat('site', 'web2', 'DRAIN')], 'sock')).toHaveLength(1);
  });
});
