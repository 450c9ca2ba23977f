import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';

export const DEMO_CONFIG = 'oxi.config.json';
/** The demo's engine timing: short intervals so a demo settles in seconds. */
export const DEMO_ENGINE = { seedIntervalMs: 2000, reaperIntervalMs: 5000, prWatchIntervalMs: 2000, backoffBaseMs: 1000, backoffMaxMs: 10000 };

export interface SampleOptions {
  dir: string;
  tasks: number;
  /**
   * A workspace setup that needs no network (`npm ci --offline` of a lockfile without dependencies) and a
   * `.env` copied from `.env.example`: what `oxi demo` shows of docs/workspaces.md.
   */
  setup?: boolean;
}

/** The demo's setup: a real `npm ci`, offline-safe, keyed by its lockfile. */
export const DEMO_WORKSPACE = {
  files: [{ from: '.env.example', to: '.env' }],
  setup: { command: ['npm', 'ci', '--offline', '--no-audit', '--no-fund'], timeoutMs: 120000, cacheKey: ['package-lock.json'] },
};
const DEMO_LOCK = { name: 'oxi-demo-math', lockfileVersion: 3, requires: true, packages: { '': { name: 'oxi-demo-math' } } };

/** Each demo function with what it returns (as code and in words) and checks: the demo must never teach that wrong code gets approved. */
const FUNCTIONS: Array<{ name: string; body: string; says: string; cases: Array<[number, number]> }> = [
  { name: 'double', body: 'x * 2', says: 'twice its argument', cases: [[3, 6], [-2, -4], [0, 0]] },
  { name: 'square', body: 'x * x', says: 'its argument squared', cases: [[3, 9], [-2, 4], [0, 0]] },
  { name: 'negate', body: '-x', says: 'its argument with the sign flipped', cases: [[3, -3], [-2, 2], [5, -5]] },
  { name: 'half', body: 'x / 2', says: 'half its argument', cases: [[3, 1.5], [-2, -1], [0, 0]] },
  { name: 'increment', body: 'x + 1', says: 'its argument plus one', cases: [[3, 4], [-2, -1], [0, 1]] },
  { name: 'decrement', body: 'x - 1', says: 'its argument minus one', cases: [[3, 2], [-2, -3], [0, -1]] },
  { name: 'cube', body: 'x * x * x', says: 'its argument cubed', cases: [[3, 27], [-2, -8], [0, 0]] },
  { name: 'triple', body: 'x * 3', says: 'three times its argument', cases: [[3, 9], [-2, -6], [0, 0]] },
  { name: 'quadruple', body: 'x * 4', says: 'four times its argument', cases: [[3, 12], [-2, -8], [0, 0]] },
  { name: 'abs', body: 'Math.abs(x)', says: 'the absolute value of its argument', cases: [[3, 3], [-2, 2], [0, 0]] },
];

/** Item i of the demo roadmap: a small pure function with its own test, in files no other item touches (`shift` picks other functions for a second repository). */
export function item(i: number, shift = 0) {
  const fn = FUNCTIONS[(i + shift) % FUNCTIONS.length];
  const name = i + shift < FUNCTIONS.length ? fn.name : `${fn.name}${Math.floor((i + shift) / FUNCTIONS.length) + 1}`;
  const asserts = fn.cases.map(([x, y]) => `  assert.equal(${name}(${x}), ${y});`).join('\n');
  return {
    id: `T${i % 3}-${101 + i}`,
    tier: i % 3,
    name,
    title: `Add \`${name}(x)\` to the math library`,
    description: `Export \`${name}\` from \`src/${name}.js\`, returning ${fn.says} (\`${fn.body}\`), with a test in \`test/${name}.test.js\`.`,
    files: {
      [`src/${name}.js`]: `export function ${name}(x) {\n  return ${fn.body};\n}\n`,
      [`test/${name}.test.js`]: `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { ${name} } from '../src/${name}.js';\n\ntest('${name}', () => {\n${asserts}\n});\n`,
    },
  };
}

export function git(dir: string, args: string[]) {
  execFileSync('git', ['-c', 'user.name=oxi demo', '-c', 'user.email=demo@localhost', ...args], { cwd: dir, stdio: 'pipe' });
}

/**
 * Writes the demo project: a git repo with a small test suite, a roadmap of `tasks` items in
 * three tiers (plus a Done list that must not become tasks), the scripted agent's script, and
 * a JSON adapter. The directory must be absent or empty.
 */
export function createSampleProject(options: SampleOptions): { configPath: string; ids: string[] } {
  const { dir } = options;
  if (options.tasks < 1 || options.tasks > 500 || !Number.isInteger(options.tasks)) {
    throw new UsageError(`--tasks: expected a whole number from 1 to 500, got ${options.tasks}.`, { fix: 'Pass e.g. --tasks 3.' });
  }
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).length) {
    throw new UsageError(`${dir} is not empty and holds no oxi demo (no ${DEMO_CONFIG}).`, { fix: 'Pass --dir with a new or empty directory.' });
  }
  const items = Array.from({ length: options.tasks }, (_, i) => item(i));
  writeSampleRepo(dir, items, options.setup);
  const script = { tasks: Object.fromEntries(items.map((it) => [it.id, { files: it.files, commitMessage: `${it.id}: ${it.title}` }])) };
  writeFileSync(join(dir, '.oxi-script.json'), JSON.stringify(script, null, 2) + '\n');
  const config = {
    name: 'demo',
    repo: { path: '.', mainBranch: 'main', forge: { kind: 'local' } },
    roadmap: 'ROADMAP.md',
    hosts: [{ name: 'local', kind: 'local', maxWorkers: 2 }],
    checks: { command: ['node', '--test'], timeoutMs: 120000 },
    ...(options.setup ? { workspace: DEMO_WORKSPACE } : {}),
    agents: { scripted: { script: '.oxi-script.json' } },
    engine: DEMO_ENGINE,
  };
  writeFileSync(join(dir, DEMO_CONFIG), JSON.stringify(config, null, 2) + '\n');
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'Add the oxi adapter and the scripted agent script']);
  return { configPath: join(dir, DEMO_CONFIG), ids: items.map((i) => i.id) };
}

/** A sample repository in `dir`: the math library with a test suite and a roadmap of `items`, committed on `main`. */
export function writeSampleRepo(dir: string, items: ReturnType<typeof item>[], setup?: boolean, label = 'math'): void {
  const files: Record<string, string> = {
    'package.json': JSON.stringify({ name: `oxi-demo-${label}`, private: true, type: 'module', scripts: { test: 'node --test' } }, null, 2) + '\n',
    'src/add.js': 'export function add(a, b) {\n  return a + b;\n}\n',
    'test/add.test.js': "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { add } from '../src/add.js';\n\ntest('add', () => {\n  assert.equal(add(2, 3), 5);\n});\n",
    '.gitignore': '.oxi/\nnode_modules/\n',
    'README.md': `# oxi demo\n\nA tiny ${label} library that oxi extends from ROADMAP.md with the scripted agent.\n`,
    'ROADMAP.md': roadmap(items),
    ...(setup ? { 'package-lock.json': `${JSON.stringify({ ...DEMO_LOCK, name: `oxi-demo-${label}`, packages: { '': { name: `oxi-demo-${label}` } } }, null, 2)}\n`, '.env.example': 'DEMO_GREETING=hello\n', '.gitignore': '.oxi/\nnode_modules/\n.env\n' } : {}),
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'Initial commit']);
}

export function roadmap(items: ReturnType<typeof item>[]): string {
  const out = ['# Roadmap', '', 'Items are taken in tier order. Each is a bold id and title, then an italic description.', ''];
  for (const tier of [0, 1, 2]) {
    const mine = items.filter((i) => i.tier === tier);
    if (!mine.length) continue;
    out.push(`## Tier ${tier}`, '');
    for (const it of mine) out.push(`**${it.id} · ${it.title}**`, `_${it.description}_`, '');
  }
  out.push('## Done', '', '- T0-100', '');
  return out.join('\n');
}

export function isDemoDir(dir: string): boolean {
  return existsSync(join(dir, DEMO_CONFIG));
}
