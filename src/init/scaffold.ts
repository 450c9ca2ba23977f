/**
 * Writes what `oxi init` creates — oxi.config.ts, .oxi/, the .gitignore line, a starter
 * roadmap when there is none — then validates the result exactly as `oxi status --dry-run`
 * does: load the adapter, parse the roadmap.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CONFIG_FILE_NAMES, loadAdapter } from '../config/load.js';
import { validateConfig } from '../config/validate.js';
import { ConfigError, OxiError, UsageError } from '../errors.js';
import { parseRoadmap, type RoadmapProblem } from '../roadmap/parse.js';
import type { InitAnswers } from './answers.js';
import { adapterInput, renderConfig } from './render.js';

export const CONFIG_FILE = 'oxi.config.ts';

export const STARTER_ROADMAP = `# Roadmap

oxi picks items tier by tier, top to bottom. Each item is a bold \`**T<tier>-<id> · Title**\` line
followed by an italic description: what to change and how to know it is done. \`oxi roadmap\`
shows what was parsed.

## Tier 0

<!-- Replace this comment with your first item, e.g.:

- **T0-1 · Add a --version flag**
  _Print the version from package.json and exit 0; add a test._

-->
`;

/** Existing adapter files in `dir` (any of the names oxi loads). */
export function existingConfigs(dir: string): string[] {
  return CONFIG_FILE_NAMES.map((n) => join(dir, n)).filter((p) => existsSync(p));
}

export interface ScaffoldResult {
  dir: string;
  configPath: string;
  created: string[];
  roadmap: { path: string; items: number; problems: RoadmapProblem[]; created: boolean };
}

export async function scaffold(dir: string, answers: InitAnswers, opts: { force?: boolean; progress?: (line: string) => void } = {}): Promise<ScaffoldResult> {
  const say = opts.progress ?? (() => {});
  const root = resolve(dir);
  const configPath = join(root, CONFIG_FILE);
  const existing = existingConfigs(root);
  if (existing.length && !opts.force)
    throw new UsageError(`oxi init: expected no adapter config in ${root}, found ${existing.join(', ')}; nothing was written.`, {
      fix: 'Edit the existing config, or re-run with --force to replace it.',
    });
  // Check the whole config before writing anything: a bad answer leaves the directory untouched.
  validateConfig(adapterInput(answers), { configPath });

  const created: string[] = [];
  mkdirSync(root, { recursive: true });
  writeFileSync(configPath, renderConfig(answers));
  created.push(configPath);
  say(`wrote ${configPath}`);
  const shadowed = existing.filter((p) => p !== configPath);
  if (shadowed.length) say(`note: ${CONFIG_FILE} takes precedence over ${shadowed.join(', ')}; remove ${shadowed.length === 1 ? 'it' : 'them'}`);

  const stateDir = join(root, '.oxi');
  if (!existsSync(stateDir)) {
    mkdirSync(stateDir, { recursive: true });
    created.push(stateDir);
    say(`created ${stateDir}/`);
  }
  if (ensureGitignored(root)) say('added .oxi/ to .gitignore');

  const roadmapPath = resolve(root, answers.roadmap);
  let roadmapCreated = false;
  if (!existsSync(roadmapPath)) {
    mkdirSync(dirname(roadmapPath), { recursive: true });
    writeFileSync(roadmapPath, STARTER_ROADMAP);
    created.push(roadmapPath);
    roadmapCreated = true;
    say(`wrote a starter roadmap ${roadmapPath} (no items yet: add yours)`);
  }

  say('validating: oxi status --dry-run');
  const check = await dryRun(configPath);
  return { dir: root, configPath, created, roadmap: { ...check, created: roadmapCreated } };
}

/** `oxi status --dry-run` in-process: the adapter loads, the roadmap parses without errors. */
export async function dryRun(configPath: string): Promise<{ path: string; items: number; problems: RoadmapProblem[] }> {
  let roadmapPath = '';
  try {
    const adapter = await loadAdapter({ configPath });
    roadmapPath = adapter.roadmap;
    const parsed = parseRoadmap(readFileSync(adapter.roadmap, 'utf8'));
    const errors = parsed.problems.filter((p) => p.severity === 'error');
    if (errors.length)
      throw new ConfigError(`The roadmap ${adapter.roadmap} has ${errors.length} error(s):\n${errors.map((p) => `- line ${p.line}: ${p.message}`).join('\n')}`, {
        fix: 'Fix those lines (format: **T0-1 · Title** then an _italic description_), then run oxi status --dry-run.',
      });
    return { path: adapter.roadmap, items: parsed.items.length, problems: parsed.problems };
  } catch (error) {
    const cause = error as Error & { fix?: string };
    throw new ConfigError(`oxi init wrote ${configPath}, but it does not validate: ${cause.message}`, {
      fix: `${error instanceof OxiError && cause.fix ? `${cause.fix}\n` : ''}Edit ${configPath}${roadmapPath ? ` or ${roadmapPath}` : ''} and run \`oxi status --dry-run\`, or re-run \`oxi init --force\`.`,
      cause: error,
    });
  }
}

/** Appends `.oxi/` to .gitignore unless a line already ignores it. Returns whether it changed the file. */
export function ensureGitignored(root: string): boolean {
  const path = join(root, '.gitignore');
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  if (text.split(/\r?\n/).some((l) => ['.oxi', '.oxi/', '/.oxi', '/.oxi/'].includes(l.trim()))) return false;
  appendFileSync(path, `${text && !text.endsWith('\n') ? '\n' : ''}# oxi state: database, logs, worktrees\n.oxi/\n`);
  return true;
}
