/**
 * The reference adapter: every project-specific value oxi uses, for the sample project that
 * `oxi demo` writes (a small math library). Copy it beside your repository's root, rename it
 * `oxi.config.ts`, and change what differs. Everything not set here takes the default listed
 * in docs/adapter.md. Inside this repository the import below resolves to the source; in your
 * project write `import { defineAdapter } from 'oxi'`.
 */
import { defineAdapter } from '../../src/config/define.js';

export default defineAdapter({
  // Used in worktree folder names: <paths.worktreesRoot>/<name>-<sessionTag>/<task id>.
  name: 'sample-math',
  sessionTag: 'reference',
  repo: {
    path: '.', // the main clone, relative to this file once copied into the project
    mainBranch: 'main',
    forge: { kind: 'local' }, // PRs as rows in the oxi database, merges by git
  },
  roadmap: 'ROADMAP.md',
  branches: { prefix: 'oxi/' },
  paths: { stateDir: '.oxi' },
  hosts: [{ name: 'local', kind: 'local', maxWorkers: 2 }],
  planTier: { name: 'sample', maxWorkers: 2 },
  budget: { perTaskUsd: 1, dailySoftUsd: 5, dailyHardUsd: 10 },
  policy: {
    autoMerge: true,
    dirtyTree: 'files_touched_only',
    maxAttempts: 3,
    maxFixAttempts: 2,
    scope: { allowed: ['src/', 'test/'], blocked: ['.env', 'secrets/'], sensitive: ['.github/', 'package.json'] },
  },
  checks: { command: ['node', '--test'], timeoutMs: 120_000 },
  agents: {
    planner: { backend: 'scripted' },
    worker: { backend: 'scripted' },
    critic: { backend: 'scripted' },
    scripted: { script: '.oxi-script.json' },
    env: { allow: ['PATH', 'HOME', 'LANG', 'TMPDIR'] },
    timeouts: { wallMinutes: 10, stallMinutes: 5 },
  },
  notifications: [{ kind: 'log' }],
  engine: {
    maxLiveTasks: 10,
    seedIntervalMs: 2_000,
    reaperIntervalMs: 5_000,
    prWatchIntervalMs: 2_000,
    backoffBaseMs: 1_000,
    backoffMaxMs: 10_000,
    restartIntensity: { maxRestarts: 5, periodMs: 60_000 },
  },
});
