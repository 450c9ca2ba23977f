import type { CheckProvider, CheckResult } from './types.js';

const MIN_NODE = [20, 0];
const MIN_GIT = [2, 38];

function atLeast(version: number[], min: number[]): boolean {
  for (let i = 0; i < min.length; i++) if ((version[i] ?? 0) !== min[i]) return (version[i] ?? 0) > min[i];
  return true;
}

/** node and git: the two programs oxi itself needs. */
export const toolchainChecks: CheckProvider = {
  name: 'toolchain',
  needsAdapter: false,
  async check(ctx) {
    const results: CheckResult[] = [];
    const node = process.versions.node.split('.').map(Number);
    results.push(
      atLeast(node, MIN_NODE)
        ? { id: 'node', status: 'ok', detail: `node ${process.versions.node}` }
        : { id: 'node', status: 'fail', detail: `node ${process.versions.node}, expected ≥ ${MIN_NODE.join('.')}`, fix: 'Install Node.js 20 or newer (e.g. from your package manager or nvm).' },
    );
    const git = await ctx.run(['git', '--version']);
    const version = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(git.stdout);
    if (!git.ok || !version) {
      results.push({ id: 'git', status: 'fail', detail: `git not found (${git.error ?? git.stderr.trim()})`, fix: 'Install git ≥ 2.38 (apt-get install git / brew install git).' });
    } else {
      const v = version.slice(1).filter(Boolean).map(Number);
      results.push(
        atLeast(v, MIN_GIT)
          ? { id: 'git', status: 'ok', detail: `git ${v.join('.')}` }
          : { id: 'git', status: 'fail', detail: `git ${v.join('.')}, expected ≥ ${MIN_GIT.join('.')} (worktree and merge-tree features)`, fix: 'Upgrade git to 2.38 or newer.' },
      );
    }
    return results;
  },
};
