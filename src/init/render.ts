/** `oxi.config.ts` from the answers: typed through a type-only import, so it loads without oxi installed. */
import type { AdapterInput } from '../config/schema.js';
import type { InitAnswers } from './answers.js';

export function adapterInput(a: InitAnswers): AdapterInput {
  const route = (backend: InitAnswers['agents']['worker']) => ({ backend });
  return {
    name: a.name,
    repo: {
      path: '.',
      mainBranch: a.mainBranch,
      forge: a.repo.kind === 'github' ? { kind: 'github', owner: a.repo.owner, name: a.repo.name, tokenEnv: 'GITHUB_TOKEN' } : { kind: 'local' },
    },
    roadmap: a.roadmap,
    branches: { prefix: a.branchPrefix },
    hosts: a.hosts.map((h) =>
      h.kind === 'local'
        ? { name: h.name, kind: 'local' as const, maxWorkers: h.maxWorkers }
        : {
            name: h.name,
            kind: 'ssh' as const,
            address: h.address,
            port: h.port,
            user: h.user,
            maxWorkers: h.maxWorkers,
            mainClone: h.mainClone,
            worktreesRoot: `${h.mainClone.replace(/\/+$/, '')}-worktrees`,
          },
    ),
    planTier: { name: a.planTier.name, maxWorkers: a.planTier.maxWorkers },
    budget: { ...a.budget },
    checks: { command: a.checks },
    ...(a.setup ? { workspace: { setup: { command: a.setup.command, ...(a.setup.cacheKey.length ? { cacheKey: a.setup.cacheKey } : {}) } } } : {}),
    agents: { planner: route(a.agents.planner), worker: route(a.agents.worker), critic: route(a.agents.critic) },
    notifications: [{ kind: 'log' }],
  };
}

export function renderConfig(a: InitAnswers): string {
  const body = toTs(adapterInput(a), 0);
  return [
    "import type { AdapterInput } from 'oxi';",
    '',
    '// Written by `oxi init`. Every field, its default and an example: docs/adapter.md.',
    '// Check it with `oxi status --dry-run` (config + roadmap) and `oxi doctor` (tools, hosts, tokens).',
    '// Secrets never go here: the GitHub token and webhook URLs are read from the environment.',
    `export default ${body} satisfies AdapterInput;`,
    '',
  ].join('\n');
}

/** A TypeScript object literal: unquoted keys where possible, single-quoted strings, 2-space indent. */
function toTs(value: unknown, depth: number): string {
  const pad = '  '.repeat(depth + 1);
  const end = '  '.repeat(depth);
  if (Array.isArray(value)) {
    const items = value.map((v) => toTs(v, depth + 1));
    const inline = `[${items.join(', ')}]`;
    return inline.length <= 80 && !inline.includes('\n') ? inline : `[\n${items.map((i) => `${pad}${i},`).join('\n')}\n${end}]`;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    const parts = entries.map(([k, v]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : quote(k)}: ${toTs(v, depth + 1)}`);
    const inline = `{ ${parts.join(', ')} }`;
    return inline.length <= 80 && !inline.includes('\n') ? inline : `{\n${parts.map((p) => `${pad}${p},`).join('\n')}\n${end}}`;
  }
  return typeof value === 'string' ? quote(value) : String(value);
}

function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}
