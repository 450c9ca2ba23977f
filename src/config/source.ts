/**
 * The identity of the config a process loaded: the file, the sha256 of the bytes it loaded, the local
 * files a code config imports (protected paths, src/config/protected-paths.ts) and, for `oxi status`,
 * the commit those bytes came from. docs/security.md "Live config".
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { gitQuery } from '../../actors/git/query.js';
import type { ConfigSource } from './schema.js';

const CODE = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);
const TRY_EXTENSIONS = ['', '.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json'];
/** Why a cap: a config importing half the repository is still read in bounded time. */
const MAX_IMPORTS = 200;

/** What `oxi status` and the dashboard show of the live config. */
export interface LiveConfig {
  path: string;
  sha256: string;
  /** The last commit of the repository holding the file that changed it, when the loaded bytes are that commit's. */
  commit?: string;
}

export function sha256Of(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The source record of a config file loaded from `bytes`. */
export function configSource(path: string, bytes: Buffer): ConfigSource {
  const { imports, importsPackages } = CODE.has(extname(path)) ? importsOf(path, bytes.toString('utf8')) : { imports: [], importsPackages: false };
  return { path, sha256: sha256Of(bytes), imports, importsPackages, gitBlob: gitBlobIds(bytes) };
}

/**
 * Local files a code config imports, transitively, read from its import/require specifiers (`./x`,
 * `../y.js`, resolved like the loader would, `.js` also trying `.ts`); whether it imports a package.
 */
export function importsOf(path: string, text: string): { imports: string[]; importsPackages: boolean } {
  const seen = new Set<string>();
  let importsPackages = false;
  const queue: Array<[string, string]> = [[path, text]];
  while (queue.length && seen.size < MAX_IMPORTS) {
    const [file, source] = queue.shift()!;
    for (const spec of specifiers(source)) {
      if (!spec.startsWith('.') && !spec.startsWith('/')) {
        if (!spec.startsWith('node:')) importsPackages = true;
        continue;
      }
      const target = resolveLocal(resolve(dirname(file), spec));
      if (target === undefined || target === path || seen.has(target)) continue;
      seen.add(target);
      if (CODE.has(extname(target))) queue.push([target, readFileSync(target, 'utf8')]);
    }
  }
  return { imports: [...seen], importsPackages };
}

/** `from '…'`, `import '…'`, `import('…')`, `require('…')`, `export … from '…'`. */
function specifiers(source: string): string[] {
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)(['"])([^'"\n]+)\1/g;
  for (const m of source.matchAll(re)) out.push(m[2]);
  return out;
}

function resolveLocal(base: string): string | undefined {
  const stems = [base, base.replace(/\.(c|m)?js$/, '')];
  for (const stem of stems) {
    for (const ext of TRY_EXTENSIONS) if (isFile(stem + ext)) return stem + ext;
    for (const ext of TRY_EXTENSIONS.slice(1)) if (isFile(`${stem}/index${ext}`)) return `${stem}/index${ext}`;
  }
  return undefined;
}

/** git's object ids of a blob with these bytes (sha1 and sha256 repositories). */
function gitBlobIds(bytes: Buffer): { sha1: string; sha256: string } {
  const header = Buffer.from(`blob ${bytes.length}\0`);
  const body = Buffer.concat([header, bytes]);
  return { sha1: createHash('sha1').update(body).digest('hex'), sha256: createHash('sha256').update(body).digest('hex') };
}

/**
 * The live config as shown: path, sha256 and, when the loaded bytes are exactly what the repository
 * holding the file has at HEAD, the last commit that changed the file. Uncommitted edits or an
 * untracked file give no commit: the config did not come from a reviewed commit.
 */
export async function liveConfig(source: ConfigSource | undefined): Promise<LiveConfig | undefined> {
  if (!source) return undefined;
  const out: LiveConfig = { path: source.path, sha256: source.sha256 };
  const dir = dirname(source.path);
  const name = `./${basename(source.path)}`;
  if (!existsSync(dir)) return out;
  try {
    const blob = await gitQuery(dir, ['rev-parse', '--verify', '--quiet', `HEAD:${name}`]);
    const id = blob.stdout.trim();
    if (blob.exitCode !== 0 || (id !== source.gitBlob.sha1 && id !== source.gitBlob.sha256)) return out;
    const log = await gitQuery(dir, ['log', '-1', '--format=%H', 'HEAD', '--', name]);
    if (log.exitCode !== 0) return out;
    const commit = log.stdout.trim();
    return commit ? { ...out, commit } : out;
  } catch {
    // Not a git repository, or git missing: the sha256 alone says which config is live.
    return out;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
