/**
 * `oxi demo --repos N`: N sample repositories side by side under the demo directory, each with its
 * own roadmap (the same ids in each: identity is `<repo>/<id>`), and one adapter naming them all in
 * `repos`, so one engine plans, works, reviews and merges in every repository.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { DEMO_CONFIG, DEMO_ENGINE, DEMO_WORKSPACE, item, writeSampleRepo } from './sample-project.js';

/** The sample repositories' names, in order: each gets functions the others do not. */
export const DEMO_REPOS = ['math', 'calc', 'numeric', 'arith'] as const;

export interface SampleReposOptions {
  dir: string;
  tasks: number;
  repos: number;
  setup?: boolean;
}

/** Writes `repos` sample repositories (`<dir>/<name>`), the scripted agent's script and the adapter; `dir` must be absent or empty. */
export function createSampleRepos(options: SampleReposOptions): { configPath: string; ids: string[]; repos: string[] } {
  const { dir, tasks } = options;
  if (!Number.isInteger(options.repos) || options.repos < 1 || options.repos > DEMO_REPOS.length) {
    throw new UsageError(`--repos: expected a whole number from 1 to ${DEMO_REPOS.length}, got ${options.repos}.`, { fix: 'Pass e.g. --repos 2.' });
  }
  if (!Number.isInteger(tasks) || tasks < 1 || tasks > 100) {
    throw new UsageError(`--tasks: expected a whole number from 1 to 100 with --repos, got ${tasks}.`, { fix: 'Pass e.g. --tasks 2.' });
  }
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).length) {
    throw new UsageError(`${dir} is not empty and holds no oxi demo (no ${DEMO_CONFIG}).`, { fix: 'Pass --dir with a new or empty directory.' });
  }
  const names = DEMO_REPOS.slice(0, options.repos);
  const scriptTasks: Record<string, unknown> = {};
  const ids: string[] = [];
  names.forEach((name, r) => {
    // Each repository's items are other functions (shifted by 5), under the same ids.
    const items = Array.from({ length: tasks }, (_, i) => item(i, r * 5));
    writeSampleRepo(join(dir, name), items, options.setup, name);
    for (const it of items) {
      ids.push(`${name}/${it.id}`);
      scriptTasks[`${name}/${it.id}`] = { files: it.files, commitMessage: `${it.id}: ${it.title}` };
    }
  });
  writeFileSync(join(dir, '.oxi-script.json'), JSON.stringify({ tasks: scriptTasks }, null, 2) + '\n');
  writeFileSync(join(dir, '.gitignore'), '.oxi/\n');
  const config = {
    name: 'demo',
    repos: names.map((name) => ({ name, path: name, mainBranch: 'main', forge: { kind: 'local' }, roadmap: `${name}/ROADMAP.md` })),
    hosts: [{ name: 'local', kind: 'local', maxWorkers: 2 }],
    checks: { command: ['node', '--test'], timeoutMs: 120000 },
    ...(options.setup ? { workspace: DEMO_WORKSPACE } : {}),
    agents: { scripted: { script: '.oxi-script.json' } },
    engine: DEMO_ENGINE,
  };
  writeFileSync(join(dir, DEMO_CONFIG), JSON.stringify(config, null, 2) + '\n');
  return { configPath: join(dir, DEMO_CONFIG), ids, repos: [...names] };
}
