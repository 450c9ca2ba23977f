/**
 * Turning argv into the one command string an SSH exec carries. sshd hands that string to the login
 * user's shell, so every word is single-quoted here and nothing the caller passes is ever interpreted.
 */
import { OxiError } from '../../../src/errors.js';

/** POSIX single-quoting: 'it'\''s' — safe for any byte string but NUL. */
export function shQuote(word: string): string {
  if (word.includes('\0')) throw new OxiError(`Expected a shell word without NUL bytes, got ${JSON.stringify(word)}.`, { fix: 'Remove the NUL byte from the argument.' });
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shJoin(argv: readonly string[]): string {
  return argv.map(shQuote).join(' ');
}

/**
 * Variables the remote host owns: taking the engine machine's PATH or HOME to another machine would point
 * the agent at directories that do not exist there, so these keep the remote login's own values.
 */
export const HOST_OWNED_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR'] as const;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `env -i PATH="$PATH" … K='v' … argv`: the whole environment of the child, passed inline because sshd
 * accepts only LANG/LC_* from clients. Host-owned names are expanded by the remote shell.
 */
export function envPrefix(env: Record<string, string>): string {
  const words = ['env', '-i'];
  for (const name of HOST_OWNED_ENV) if (name in env) words.push(`${name}="$${name}"`);
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) throw new OxiError(`Expected environment variable names like FOO_BAR, got ${JSON.stringify(name)}.`, { fix: 'Rename the variable in agents.env.' });
    if ((HOST_OWNED_ENV as readonly string[]).includes(name)) continue;
    words.push(`${name}=${shQuote(value)}`);
  }
  return words.join(' ');
}

export interface RemoteCommand {
  argv: readonly string[];
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** The full remote command: cd, optional coreutils timeout, inline env, the quoted argv; stdin from /dev/null. */
export function remoteCommand(command: RemoteCommand): string {
  if (command.argv.length === 0) throw new OxiError('A remote command needs a program to run, got an empty argv.', { fix: 'Pass the program and its arguments.' });
  const parts: string[] = [];
  if (command.cwd !== undefined) parts.push(`cd -- ${shQuote(command.cwd)} &&`);
  parts.push('exec');
  // Why: signals over SSH are refused for root, so a time limit has to be enforced on the host itself.
  if (command.timeoutMs !== undefined) parts.push('timeout', '-k', '2', String(Math.max(1, Math.ceil(command.timeoutMs / 1000))));
  if (command.env !== undefined) parts.push(envPrefix(command.env));
  parts.push(shJoin(command.argv), '</dev/null');
  return parts.join(' ');
}
