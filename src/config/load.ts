/**
 * The thin reader around validateConfig: find the adapter file, load it (JSON.parse for .json,
 * jiti for TypeScript/JavaScript), validate. Every failure is a ConfigError naming the file.
 */
import { readFileSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';
import type { Adapter } from './schema.js';
import { configSource } from './source.js';
import { validateConfig } from './validate.js';

/** Searched in this order, in the given directory only (never its parents). */
export const CONFIG_FILE_NAMES = ['oxi.config.ts', 'oxi.config.mjs', 'oxi.config.js', 'oxi.config.json'] as const;

/** This installation's package entry (src/index.ts from source, dist/src/index.js when built). */
const OWN_ENTRY = fileURLToPath(new URL(`../index${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

const CODE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);

/** The first adapter config file in `cwd`, or undefined. */
export function findConfig(cwd: string): string | undefined {
  for (const name of CONFIG_FILE_NAMES) {
    const path = join(resolve(cwd), name);
    if (isFile(path)) return path;
  }
  return undefined;
}

/** Finds (or takes `configPath`, relative to `cwd`), loads and validates the adapter. */
export async function loadAdapter(opts: { configPath?: string; cwd?: string } = {}): Promise<Adapter> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const configPath = opts.configPath === undefined ? findConfig(cwd) : resolve(cwd, opts.configPath);
  if (configPath === undefined)
    throw new ConfigError(`No adapter config found in ${cwd} (looked for ${CONFIG_FILE_NAMES.join(', ')})`, {
      fix: 'Run `oxi init` to create oxi.config.ts here, or pass --config <path>.',
    });
  if (!isFile(configPath))
    throw new ConfigError(`Adapter config ${configPath} does not exist`, {
      fix: 'Check the --config path, or run `oxi init` to create a config.',
    });
  const bytes = readBytes(configPath);
  const raw = await readConfigFile(configPath, bytes);
  const adapter = validateConfig(raw, { configPath });
  // Why record it: a running daemon keeps the config it started with, and `oxi status` says which one that is.
  adapter.source = configSource(configPath, bytes);
  return adapter;
}

/** The raw default export (or parsed JSON) of a config file, not validated. */
export async function readConfigFile(configPath: string, bytes = readBytes(configPath)): Promise<unknown> {
  const ext = extname(configPath);
  if (ext === '.json') return parseJson(bytes.toString('utf8'), configPath);
  if (!CODE_EXTENSIONS.has(ext))
    throw new ConfigError(`Unsupported adapter config ${configPath}: expected a .ts, .mjs, .js or .json file`, {
      fix: `Rename it to one of ${CONFIG_FILE_NAMES.join(', ')}.`,
    });

  // `import { defineAdapter } from 'oxi'` must work in a repository that has no oxi in node_modules
  // (oxi run from a clone or a global install): 'oxi' resolves to this very installation.
  // Loaded here: a JSON config (and every command that reads one) does not pay for the TypeScript loader.
  const { createJiti } = await import('jiti');
  const jiti = createJiti(import.meta.url, { interopDefault: true, moduleCache: false, alias: { oxi: OWN_ENTRY } });
  let mod: unknown;
  try {
    // Not `{ default: true }`: that is `mod.default ?? mod`, which would validate a module
    // without a default export as if it were the config.
    mod = await jiti.import(configPath);
  } catch (error) {
    throw new ConfigError(`Failed to load adapter config ${configPath}: ${messageOf(error)}`, {
      fix: 'The config file is executed when oxi loads it: fix the error it throws (run it with node to see the stack).',
      cause: error,
    });
  }
  // jiti read the file itself: the bytes hashed must be the bytes that ran.
  if (!readBytes(configPath).equals(bytes))
    throw new ConfigError(`Adapter config ${configPath} changed while it was being loaded`, {
      fix: 'Start oxi again once the file is no longer being written.',
    });
  if (typeof mod !== 'object' || mod === null || !('default' in mod))
    throw new ConfigError(`Adapter config ${configPath} has no default export`, {
      fix: 'End the file with `export default defineAdapter({ ... })`.',
    });
  // The own property: jiti's interop makes `.default` fall back to the module when it is undefined.
  return Object.getOwnPropertyDescriptor(mod, 'default')?.value;
}

// ---------------------------------------------------------------- JSON

function parseJson(text: string, path: string): unknown {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    return JSON.parse(source);
  } catch (error) {
    const message = messageOf(error);
    const where = locate(source, message);
    const short = message
      .replace(/, ".*" is not valid JSON$/s, '')
      .replace(/ in JSON at position \d+.*$/s, '')
      .replace(/ \(line \d+ column \d+\)$/, '');
    throw new ConfigError(
      `Invalid JSON in adapter config ${path}${where ? ` at line ${where.line}, column ${where.column}` : ''}: ${short}`,
      {
        fix: 'Fix the JSON syntax there (no trailing commas or comments; keys in double quotes), or use oxi.config.ts.',
        cause: error,
      },
    );
  }
}

/** 1-based line/column of a JSON.parse error, from its message (V8 wording varies by version). */
function locate(text: string, message: string): { line: number; column: number } | undefined {
  const lc = /\(line (\d+) column (\d+)\)/.exec(message);
  if (lc) return { line: Number(lc[1]), column: Number(lc[2]) };
  const pos = /at position (\d+)/.exec(message);
  let offset: number | undefined = pos ? Number(pos[1]) : undefined;
  if (offset === undefined && /end of JSON input/.test(message)) offset = text.length;
  // "Unexpected token 'x', ... is not valid JSON" carries no position: the shortest failing
  // prefix (failing for another reason than ending early) ends at the offending character.
  if (offset === undefined && failsBeforeEnd(text)) {
    let [lo, hi] = [0, text.length];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (failsBeforeEnd(text.slice(0, mid))) hi = mid;
      else lo = mid + 1;
    }
    offset = lo - 1;
  }
  if (offset === undefined) return undefined;
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** Does parsing `prefix` fail before reaching its end (rather than because the text stops early)? */
function failsBeforeEnd(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return false;
  } catch (error) {
    const message = messageOf(error);
    const pos = /at position (\d+)/.exec(message);
    if (pos) return Number(pos[1]) < prefix.length;
    return !/end of JSON input/.test(message);
  }
}

// ---------------------------------------------------------------- helpers

function readBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(`Cannot read adapter config ${path}: ${messageOf(error)}`, {
      fix: 'Check that the file exists and is readable.',
      cause: error,
    });
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
