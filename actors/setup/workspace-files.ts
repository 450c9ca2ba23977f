/**
 * The workspace's own files before the setup runs: `workspace.files` copied in, the cache key hashed, and the
 * workspace cleaned for a clean retry. The workspace is the agent's (a fix attempt's has its commits), so a
 * copy never follows a link it planted: a path whose part is a symlink is refused.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, posix } from 'node:path';
import type { Adapter } from '../../src/config/schema.js';
import { OxiError, SetupFailedError } from '../../src/errors.js';
import type { HostTransport } from '../../src/ports.js';

/** `from` on the engine's machine: absolute, `~/`, else relative to the main clone. */
export function sourceOf(adapter: Adapter, from: string): string {
  if (from.startsWith('~/')) return join(homedir(), from.slice(2));
  return isAbsolute(from) ? from : join(adapter.repo.path, from);
}

/** Refuses a destination any part of which (below the workspace) is a symlink: run on the host, read-only. */
const NO_LINKS = 'ws=$1; shift; p=$ws; for part; do p=$p/$part; if [ -L "$p" ]; then echo "$p"; exit 3; fi; done; exit 0';

export async function copyWorkspaceFiles(adapter: Adapter, host: HostTransport, workspace: string): Promise<string[]> {
  const copied: string[] = [];
  for (const file of adapter.workspace.files) {
    const from = sourceOf(adapter, file.from);
    let content: string;
    try {
      content = readFileSync(from, 'utf8');
    } catch (error) {
      throw new SetupFailedError(`Expected workspace.files "${file.from}" at ${from} to copy into the workspace as ${file.to}; it cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}).`, {
        fix: 'Create the file on the engine\'s machine, or fix workspace.files in the adapter.',
      });
    }
    const parts = file.to.split('/');
    const check = await host.exec(['/bin/sh', '-c', NO_LINKS, 'oxi', workspace, ...parts]);
    if (check.exitCode !== 0) {
      throw new OxiError(`Expected ${file.to} in the workspace to be a plain path for workspace.files; ${check.stdout.trim() || 'a part of it'} is a symlink (planted in the workspace), so nothing was copied.`, {
        fix: 'Remove the symlink from the task branch; oxi never writes through a link in a workspace.',
      });
    }
    const dest = posix.join(workspace, file.to);
    if (parts.length > 1) await host.exec(['mkdir', '-p', posix.dirname(dest)]);
    await host.writeFile(dest, content);
    copied.push(file.to);
  }
  return copied;
}

/** The setup's key: its command and the content of its cacheKey files in the workspace (a missing file counts as missing). */
export async function setupKey(adapter: Adapter, host: HostTransport, workspace: string): Promise<string> {
  const setup = adapter.workspace.setup;
  const hash = createHash('sha256').update(JSON.stringify({ command: setup?.command ?? null, files: adapter.workspace.files }));
  for (const file of setup?.cacheKey ?? []) {
    const content = await host.readFile(posix.join(workspace, file));
    hash.update(`\0${file}\0${content === undefined ? '<missing>' : createHash('sha256').update(content).digest('hex')}`);
  }
  return hash.digest('hex');
}

/** A clean retry starts from the tracked files alone: untracked and ignored ones (a half-written node_modules) go. */
export async function cleanWorkspace(host: HostTransport, workspace: string): Promise<void> {
  const r = await host.exec(['git', '-C', workspace, '-c', 'core.hooksPath=/dev/null', 'clean', '-ffdxq']);
  if (r.exitCode !== 0) throw new OxiError(`Expected git clean to empty the untracked files of ${workspace} for a clean setup retry; it exited ${r.exitCode}: ${r.stderr.trim()}`, { fix: 'Check the workspace (oxi doctor); the task retries.' });
}

/**
 * Whether the workspace holds only reviewed code: its HEAD is on the main clone's main branch (on the same
 * host). A commit of an agent's is not, so a setup run there would run the agent's code (a postinstall it added).
 */
export async function pristine(host: HostTransport, workspace: string, mainClone: string, mainBranch: string): Promise<boolean> {
  const head = await host.exec(['git', '-C', workspace, 'rev-parse', '--verify', 'HEAD^{commit}']);
  const sha = head.stdout.trim();
  if (head.exitCode !== 0 || !/^[0-9a-f]{40,64}$/.test(sha)) return false;
  const onMain = await host.exec(['git', '-C', mainClone, 'merge-base', '--is-ancestor', sha, `refs/heads/${mainBranch}`]);
  return onMain.exitCode === 0;
}

/** The line of a setup log that says what went wrong: the first that looks like an error, else the last one. */
export function firstErrorLine(log: string): string | undefined {
  const lines = log.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.find((l) => /(?<![a-z])(error|err!|fatal|failed|cannot|not found|denied)(?![a-z])/i.test(l)) ?? lines.at(-1);
}
