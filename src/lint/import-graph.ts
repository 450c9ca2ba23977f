/**
 * The house rules over the import graph: the Kernel (machines, ports, store, effect implementations,
 * transports) never imports the App (engine wiring, daemon, CLI, doctor, init, demo, dashboard, bench),
 * machines import nothing but xstate and each other, and nothing shipped imports a test.
 * test/lint/import-graph.test.ts holds the tree to these rules; docs/architecture.md explains them.
 */
import { dirname, join, normalize } from 'node:path';

export type Part = 'kernel' | 'app' | 'test';

/** Every source folder (or root file) and its part. A file no entry names is an error: place new folders here. */
export const PARTS: ReadonlyArray<readonly [prefix: string, part: Part]> = [
  ['machines/', 'kernel'],
  ['actors/', 'kernel'],
  ['src/store/', 'kernel'],
  ['src/gates/', 'kernel'],
  ['src/dispatch/', 'kernel'],
  ['src/notify/', 'kernel'],
  ['src/agents/', 'kernel'],
  ['src/config/', 'kernel'],
  ['src/roadmap/', 'kernel'],
  ['src/memory/', 'kernel'],
  ['src/sandbox/', 'kernel'],
  ['src/clock.ts', 'kernel'],
  ['src/errors.ts', 'kernel'],
  ['src/ports.ts', 'kernel'],
  ['src/fs-private.ts', 'kernel'],
  ['src/process.ts', 'kernel'],
  ['src/index.ts', 'kernel'],
  ['src/runtime/', 'app'],
  ['src/cli/', 'app'],
  ['src/doctor/', 'app'],
  ['src/init/', 'app'],
  ['src/demo/', 'app'],
  ['src/service/', 'app'],
  ['src/brief/', 'app'],
  ['src/docs/', 'app'],
  ['src/lint/', 'app'],
  ['src/say/', 'app'],
  ['src/preflight/', 'app'],
  ['src/mcp/', 'app'],
  ['src/sim/', 'app'],
  ['inspector/', 'app'],
  ['adapters/', 'app'],
  ['bench/', 'app'],
  ['scripts/', 'app'],
  ['test/', 'test'],
];

export function partOf(file: string): Part | undefined {
  return PARTS.find(([prefix]) => (prefix.endsWith('/') ? file.startsWith(prefix) : file === prefix))?.[1];
}

export interface ImportEdge {
  from: string;
  /** Repo-relative path of the imported file (`.js` specifiers resolved to their `.ts` source), or the package name. */
  to: string;
  typeOnly: boolean;
  /** A file of this repository (a relative import), not a package. */
  local: boolean;
  line: number;
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/;

/** The imports of one source file, as text (comments and strings that look like imports are rare here; good enough for a lint). */
export function importsOf(file: string, source: string, exists: (path: string) => boolean): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const lines = source.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = IMPORT.exec(lines[i]!);
    if (!m) continue;
    const spec = m[3] ?? m[4]!;
    const typeOnly = Boolean(m[2]);
    if (!spec.startsWith('.')) {
      edges.push({ from: file, to: spec, typeOnly, local: false, line: i + 1 });
      continue;
    }
    const target = normalize(join(dirname(file), spec));
    const candidates = [target, target.replace(/\.js$/, '.ts'), target.replace(/\.js$/, '.mjs'), `${target}.ts`, join(target, 'index.ts')];
    edges.push({ from: file, to: candidates.find(exists) ?? target, typeOnly, local: true, line: i + 1 });
  }
  return edges;
}

export interface Violation {
  rule: string;
  edge: ImportEdge;
}

/** Packages a machine may import: the machines stay pure, so model-based tests and simulation can run them. */
const MACHINE_PACKAGES = new Set(['xstate']);

export function checkEdges(edges: ImportEdge[]): Violation[] {
  const out: Violation[] = [];
  for (const edge of edges) {
    const from = partOf(edge.from);
    const local = edge.local;
    const to = local ? partOf(edge.to) : undefined;
    if (from === 'kernel' && to === 'app') out.push({ rule: 'the Kernel never imports the App', edge });
    if (from !== 'test' && to === 'test' && !/^(bench|scripts)\//.test(edge.from)) out.push({ rule: 'shipped code never imports a test', edge });
    if (edge.from.startsWith('machines/')) {
      const pure = local ? edge.to.startsWith('machines/') : MACHINE_PACKAGES.has(edge.to) || edge.to.startsWith('xstate/');
      if (!pure) out.push({ rule: 'machines import only xstate and other machines', edge });
    }
  }
  return out;
}

/** Source lines that break a never: a shell between oxi and a command, or a process exit outside an entry point. */
export function neverLines(file: string, source: string, entryPoints: ReadonlySet<string>): Array<{ rule: string; file: string; line: number; text: string }> {
  const out: Array<{ rule: string; file: string; line: number; text: string }> = [];
  source.split('\n').forEach((text, i) => {
    if (/^\s*(\/\/|\*)/.test(text)) return;
    const shellImport = /from\s+['"](node:)?child_process['"]/.test(text) && /\b(exec|execSync)\b(?!File)/.test(text);
    if (/\bshell:\s*true\b/.test(text) || shellImport) out.push({ rule: 'spawn argv-form only (no shell)', file, line: i + 1, text: text.trim() });
    if (/\bprocess\.exit\(/.test(text) && !entryPoints.has(file)) out.push({ rule: 'only an entry point exits the process', file, line: i + 1, text: text.trim() });
  });
  return out;
}
