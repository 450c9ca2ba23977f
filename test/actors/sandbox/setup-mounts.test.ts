/**
 * The setup's sandbox (role `setup`): the workspace and its cache directory are writable, the cache directory
 * is bound for the setup alone (an agent's plan never holds it), on bubblewrap and in the macOS profile.
 */
import { describe, expect, it } from 'vitest';
import { bwrapArgv } from '../../../actors/sandbox/bwrap.js';
import type { LaunchFacts, PathKind } from '../../../actors/sandbox/facts.js';
import { planMounts } from '../../../actors/sandbox/mounts.js';
import { sbplProfile } from '../../../actors/sandbox/sbpl.js';
import type { SandboxRequest } from '../../../src/sandbox/port.js';

const MAIN = '/home/op/proj';
const STATE = `${MAIN}/.oxi`;
const WS = `${STATE}/worktrees/proj-default/T1`;
const CACHE = `${STATE}/cache/proj-default`;
const hidden = [STATE, MAIN, `${STATE}/worktrees`];

function facts(): LaunchFacts {
  const paths = new Map<string, PathKind>();
  for (const d of ['/usr', '/etc', MAIN, STATE, `${STATE}/worktrees`, WS, CACHE]) paths.set(d, { kind: 'dir' });
  return { home: '/home/op', alternates: [], paths, program: '/usr/bin/npm', node: '/usr/bin/node' };
}

const request = (over: Partial<SandboxRequest>): SandboxRequest => ({ role: 'worker', backend: 'claude', argv: ['npm', 'ci'], env: { PATH: '/usr/bin' }, workspace: WS, writable: true, waited: false, ...over });

describe('the setup sandbox', () => {
  it('binds the workspace and the cache directory read-write for the setup, which dies with its waiter', () => {
    const plan = planMounts({ request: request({ role: 'setup', backend: 'setup', writablePaths: [CACHE], waited: true }), facts: facts(), hidden, network: 'open' });
    const argv = bwrapArgv(plan, '/usr/bin/bwrap').join(' ');
    expect(argv).toContain(`--bind ${CACHE} ${CACHE}`);
    expect(argv).toContain(`--bind ${WS} ${WS}`);
    expect(argv).toContain('--die-with-parent');
    expect(sbplProfile({ plan, denied: hidden })).toContain(`(allow file-read* file-write* (subpath "${CACHE}"))`);
  });

  it('an agent\'s plan never holds the cache directory', () => {
    for (const role of ['worker', 'planner', 'critic', 'checks'] as const) {
      const plan = planMounts({ request: request({ role }), facts: facts(), hidden, network: 'open' });
      expect(plan.mounts.some((m) => 'dest' in m && m.dest.startsWith(CACHE))).toBe(false);
      expect(bwrapArgv(plan).join(' ')).not.toContain(CACHE);
    }
  });
});
