/**
 * Unit files that run `oxi run` under a service manager. The paths come from the resolved
 * adapter (the very values `oxi run` would use), never from a second copy of the defaults.
 */
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from '../config/schema.js';

export interface UnitInput {
  adapter: Adapter;
  /** Absolute path of the adapter file. */
  configPath: string;
  /** The node executable and the oxi entry script (absolute). */
  node: string;
  oxiBin: string;
  /** PATH for the service: agent CLIs and git must be found. */
  path: string;
}

export interface UnitFile {
  kind: 'systemd' | 'launchd';
  /** Where `--write` puts it. */
  installPath: string;
  argv: string[];
  content: string;
  /** Commands that enable and start it. */
  next: string[];
}

/** `node oxi.js --config <config> --db <db> run`: explicit, so the unit and the code cannot disagree. */
export function runArgv(input: UnitInput): string[] {
  return [input.node, input.oxiBin, '--config', input.configPath, '--db', input.adapter.paths.db, 'run'];
}

export function serviceName(adapter: Adapter): string {
  return `oxi-${adapter.name}${adapter.sessionTag === 'default' ? '' : `-${adapter.sessionTag}`}`;
}

export function systemdUnit(input: UnitInput): UnitFile {
  const { adapter } = input;
  const name = serviceName(adapter);
  const argv = runArgv(input);
  const envFile = join(homedir(), '.config', 'oxi', `${name}.env`);
  // Drain time plus margin before systemd escalates to SIGKILL.
  const stopSec = Math.ceil(adapter.engine.drainTimeoutMs / 1000) + 30;
  const content = [
    '[Unit]',
    `Description=oxi delivery loop for ${adapter.name}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `WorkingDirectory=${systemdEscape(dirname(input.configPath))}`,
    `ExecStart=${argv.map(systemdQuote).join(' ')}`,
    `Environment=${systemdQuote(`PATH=${input.path}`)}`,
    '# Secrets (GITHUB_TOKEN, webhook URLs…) go in this file, one NAME=value per line, mode 600.',
    `EnvironmentFile=-${systemdEscape(envFile)}`,
    'Restart=on-failure',
    'RestartSec=30',
    '# Exit 3: the engine halted itself (killswitch set with a reason): restarting would not help.',
    'RestartPreventExitStatus=3',
    'KillSignal=SIGTERM',
    'KillMode=mixed',
    `TimeoutStopSec=${stopSec}`,
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
  const installPath = join(homedir(), '.config', 'systemd', 'user', `${name}.service`);
  return {
    kind: 'systemd',
    installPath,
    argv,
    content,
    next: systemdNext(name, installPath, installPath),
  };
}

export function launchdPlist(input: UnitInput): UnitFile {
  const { adapter } = input;
  const label = `dev.oxi.${serviceName(adapter).slice('oxi-'.length)}`;
  // launchd restarts on any non-zero exit and cannot exempt one code: a halt (3) exits 0 under it, so it stays down.
  const argv = [...runArgv(input), '--halt-exit', '0'];
  const logs = adapter.paths.logs;
  const content = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    `  <key>Label</key><string>${xml(label)}</string>`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...argv.map((a) => `    <string>${xml(a)}</string>`),
    '  </array>',
    `  <key>WorkingDirectory</key><string>${xml(dirname(input.configPath))}</string>`,
    '  <key>EnvironmentVariables</key>',
    '  <dict>',
    `    <key>PATH</key><string>${xml(input.path)}</string>`,
    '  </dict>',
    '  <key>RunAtLoad</key><true/>',
    '  <!-- Restart after a crash, not after a clean stop or a halt (--halt-exit 0: a halted engine exits 0). -->',
    '  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>',
    '  <key>ThrottleInterval</key><integer>30</integer>',
    `  <key>ExitTimeOut</key><integer>${Math.ceil(adapter.engine.drainTimeoutMs / 1000) + 30}</integer>`,
    `  <key>StandardOutPath</key><string>${xml(join(logs, 'oxi.out.log'))}</string>`,
    `  <key>StandardErrorPath</key><string>${xml(join(logs, 'oxi.err.log'))}</string>`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
  const installPath = join(homedir(), 'Library', 'LaunchAgents', `${label}.plist`);
  return {
    kind: 'launchd',
    installPath,
    argv,
    content,
    next: launchdNext(installPath, installPath, logs),
  };
}

/** systemd's quoting for ExecStart/Environment words: double quotes, backslash escapes, `%` doubled. */
export function systemdQuote(word: string): string {
  const escaped = word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%');
  return /[\s"'\\;]/.test(word) || word === '' ? `"${escaped}"` : escaped;
}

function systemdEscape(path: string): string {
  return path.replace(/%/g, '%%');
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Splits an ExecStart line back into words (the inverse of systemdQuote, for tests and doctor). */
export function parseExecStart(line: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const m of line.matchAll(re)) words.push((m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]).replace(/%%/g, '%'));
  return words;
}

/** What to run after writing a systemd unit to `written` (a file elsewhere is linked into place first). */
export function systemdNext(name: string, installPath: string, written: string): string[] {
  // The manager reads units from its own directory: a file written elsewhere is copied there first.
  const link = written === installPath ? [] : [`mkdir -p ${shellQuote(dirname(installPath))} && cp ${shellQuote(written)} ${shellQuote(installPath)}`];
  return [...link, 'systemctl --user daemon-reload', `systemctl --user enable --now ${name}`, `journalctl --user -u ${name} -f`];
}

/** What to run after writing a launchd plist to `written`. */
export function launchdNext(installPath: string, written: string, logs: string): string[] {
  const copy = written === installPath ? [] : [`mkdir -p ${shellQuote(dirname(installPath))} && cp ${shellQuote(written)} ${shellQuote(installPath)}`];
  return [...copy, `mkdir -p ${shellQuote(logs)}`, `launchctl bootstrap gui/$(id -u) ${shellQuote(installPath)}`, `tail -f ${shellQuote(join(logs, 'oxi.err.log'))}`];
}

/** The next steps for the file actually written (`--out` puts it elsewhere than installPath). */
export function nextSteps(unit: UnitFile, written: string, adapter: Adapter): string[] {
  if (unit.kind === 'systemd') return systemdNext(basename(unit.installPath, '.service'), unit.installPath, written);
  return launchdNext(unit.installPath, written, adapter.paths.logs);
}
