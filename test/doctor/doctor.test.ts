import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctorContext, runDoctor } from '../../src/doctor/run.js';
import { oxi } from '../helpers/project.js';

const TOKEN = 'ghp_doctortesttoken0123456789abcdefghij';
const root = mkdtempSync(join(tmpdir(), 'oxi-doctor-'));
const bin = join(root, 'bin');
const home = join(root, 'home');
const repo = join(root, 'repo');

/** A fake GitHub: per repository, the permissions and scopes the token has. */
let github: Server;
let api = '';
const seen: string[] = [];
const REPOS: Record<string, { push: boolean; scopes?: string }> = {
  'acme/widgets': { push: true, scopes: 'repo, workflow' },
  'acme/readonly': { push: false },
  'acme/narrow': { push: true, scopes: 'read:org' },
};

beforeAll(async () => {
  mkdirSync(bin);
  // Real executables standing in for the agent CLIs: doctor runs `<cli> --version`.
  writeFileSync(join(bin, 'claude'), '#!/bin/sh\necho "2.1.0 (Claude Code)"\n');
  chmodSync(join(bin, 'claude'), 0o755);
  mkdirSync(join(home, '.claude'), { recursive: true });
  writeFileSync(join(home, '.claude', '.credentials.json'), JSON.stringify({ claudeAiOauth: { accessToken: 'x', refreshToken: 'y', expiresAt: 1 } }));
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'init'], { cwd: repo });
  // The GitHub forge pushes to this remote: preflight (and doctor) require it.
  execFileSync('git', ['remote', 'add', 'origin', 'https://github.invalid/acme/widgets.git'], { cwd: repo });
  writeFileSync(join(repo, 'ROADMAP.md'), '# r\n\n## Tier 0\n\n- **T0-1 · One**\n  _one._\n');
  github = createServer((req, res) => {
    seen.push(String(req.headers.authorization));
    const name = /^\/repos\/([^/]+\/[^/]+)$/.exec(req.url ?? '')?.[1];
    const r = name ? REPOS[decodeURIComponent(name)] : undefined;
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401).end('{"message":"Bad credentials"}');
    if (!r) return void res.writeHead(404).end('{"message":"Not Found"}');
    res.writeHead(200, { 'content-type': 'application/json', ...(r.scopes ? { 'x-oauth-scopes': r.scopes } : {}) });
    res.end(JSON.stringify({ full_name: name, permissions: { admin: false, push: r.push, pull: true } }));
  });
  await new Promise<void>((r) => github.listen(0, '127.0.0.1', r));
  api = `http://127.0.0.1:${(github.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => github.close(r));
  rmSync(root, { recursive: true, force: true });
});

function project(name: string, config: Record<string, unknown>) {
  const configPath = join(root, `${name}.json`);
  writeFileSync(configPath, JSON.stringify({ name: 'widgets', repo: { path: repo }, roadmap: join(repo, 'ROADMAP.md'), paths: { stateDir: join(root, `${name}-state`) }, ...config }));
  return configPath;
}

const env = (extra: Record<string, string> = {}) => ({ PATH: `${bin}:/usr/bin:/bin`, HOME: home, [`GITHUB_TOKEN`]: TOKEN, SLACK_URL: 'https://hooks.example/T/B/x', ...extra });
const byId = (report: Awaited<ReturnType<typeof runDoctor>>) => Object.fromEntries(report.checks.map((c) => [c.id, c]));

describe('oxi doctor', () => {
  it('a healthy setup: every check ok, and the token never appears in the report', async () => {
    const configPath = project('good', {
      repo: { path: repo, forge: { kind: 'github', owner: 'acme', name: 'widgets', apiUrl: api } },
      agents: { planner: { backend: 'claude' }, worker: { backend: 'claude' }, critic: { backend: 'claude' } },
      notifications: [{ kind: 'log' }, { kind: 'slack', webhookEnv: 'SLACK_URL' }],
    });
    const report = await runDoctor(doctorContext({ cwd: root, configPath, env: env() }));
    const checks = byId(report);
    expect(report.checks.filter((c) => c.status !== 'ok' && c.status !== 'warn').map((c) => c.id)).toEqual(['live:claude']);
    expect(report.ok).toBe(true);
    expect(Object.keys(checks)).toEqual(['node', 'git', 'config', 'roadmap', 'repo', 'remote', 'checks', 'db', 'host:local', 'agent:claude', 'credentials:claude', 'live:claude', 'sandbox:local', 'network:local', 'forge:scopes', 'forge:github', 'notify:log', 'notify:slack']);
    // Without --live, doctor says plainly that the agent credentials were only seen, not used.
    expect(checks['live:claude']).toMatchObject({ status: 'skip', detail: expect.stringMatching(/credentials were not exercised.*oxi doctor --live/) });
    expect(checks['agent:claude'].detail).toBe('claude 2.1.0 (Claude Code)');
    expect(checks['credentials:claude'].detail).toBe('claude: logged in (refreshable)');
    expect(checks['forge:scopes'].detail).toBe('token scopes: repo, workflow');
    expect(checks['roadmap'].detail).toBe(`${join(repo, 'ROADMAP.md')}: 1 item(s)`);
    expect(seen.at(-1)).toBe(`Bearer ${TOKEN}`);
    expect(JSON.stringify(report)).not.toContain(TOKEN);
    expect(JSON.stringify(report)).not.toContain('hooks.example');
  });

  it('each problem comes with its fix', async () => {
    const configPath = project('bad', {
      repo: { path: repo, mainBranch: 'trunk', forge: { kind: 'github', owner: 'acme', name: 'readonly', apiUrl: api } },
      agents: { planner: { backend: 'claude' }, worker: { backend: 'codex' }, critic: { backend: 'claude' } },
      notifications: [{ kind: 'webhook', urlEnv: 'HOOK_URL' }],
    });
    const report = await runDoctor(doctorContext({ cwd: root, configPath, env: env({ ANTHROPIC_API_KEY: 'sk-ant-xyz', HOOK_URL: 'not a url' }) }));
    const c = byId(report);
    expect(report.ok).toBe(false);
    expect(c.repo).toMatchObject({ status: 'fail', detail: `expected the main branch "trunk" (repo.mainBranch) in ${repo}, found only main`, fix: 'Set repo.mainBranch to one of them, or create it: git branch trunk' });
    expect(c['credentials:claude']).toMatchObject({ status: 'fail', detail: 'claude: $ANTHROPIC_API_KEY is set but agents do not get it', fix: 'Add "ANTHROPIC_API_KEY" to agents.env.allow in the adapter.' });
    expect(c['agent:codex']).toMatchObject({ status: 'fail' });
    expect(c['agent:codex'].fix).toContain('npm install -g @openai/codex');
    expect(c['credentials:codex']).toMatchObject({ status: 'fail', fix: 'Run `codex login`, or set OPENAI_API_KEY and allow it in agents.env.allow.' });
    expect(c['forge:github']).toMatchObject({ status: 'fail', detail: 'the token in $GITHUB_TOKEN may read acme/readonly but not push to it' });
    expect(c['notify:webhook']).toMatchObject({ status: 'fail', detail: 'webhook: $HOOK_URL is not an http(s) URL' });
    expect(report.checks.filter((x) => x.status === 'fail').every((x) => x.fix)).toBe(true);
  });

  it('classic token without the repo scope; a rejected token', async () => {
    const narrow = project('narrow', { repo: { path: repo, forge: { kind: 'github', owner: 'acme', name: 'narrow', apiUrl: api } } });
    const c = byId(await runDoctor(doctorContext({ cwd: root, configPath: narrow, env: env() })));
    expect(c['forge:scopes']).toMatchObject({ status: 'fail', detail: 'token scopes: read:org; expected "repo"' });
    const c2 = byId(await runDoctor(doctorContext({ cwd: root, configPath: narrow, env: env({ GITHUB_TOKEN: 'ghp_wrongwrongwrongwrongwrongwrong1234' }) })));
    expect(c2['forge:github']).toMatchObject({ status: 'fail', detail: 'the token in $GITHUB_TOKEN is rejected (401: invalid or expired)' });
  });

  it('checks the token the engine would send: tokenEnv, then GH_TOKEN, then GITHUB_TOKEN', async () => {
    const own = project('own-var', { repo: { path: repo, forge: { kind: 'github', owner: 'acme', name: 'widgets', apiUrl: api, tokenEnv: 'WIDGETS_TOKEN' } } });
    const wrong = 'ghp_wrongwrongwrongwrongwrongwrong1234';
    // GH_TOKEN comes before GITHUB_TOKEN: a bad GH_TOKEN is what the engine would use, whatever GITHUB_TOKEN holds.
    const viaGh = byId(await runDoctor(doctorContext({ cwd: root, configPath: own, env: env({ GH_TOKEN: wrong }) })));
    expect(viaGh['forge:github']).toMatchObject({ status: 'fail', detail: 'the token in $GH_TOKEN is rejected (401: invalid or expired)', fix: expect.stringContaining('$WIDGETS_TOKEN, which is read first') });
    // The adapter's own variable wins over both.
    const viaOwn = byId(await runDoctor(doctorContext({ cwd: root, configPath: own, env: env({ GH_TOKEN: wrong, WIDGETS_TOKEN: TOKEN, GITHUB_TOKEN: wrong }) })));
    expect(viaOwn['forge:github']).toMatchObject({ status: 'ok', detail: 'acme/widgets: the token in $WIDGETS_TOKEN may push and open PRs (proven by one API read)' });
    // Only GITHUB_TOKEN set: it is used (as the engine would).
    const viaGithub = byId(await runDoctor(doctorContext({ cwd: root, configPath: own, env: env() })));
    expect(viaGithub['forge:github']).toMatchObject({ status: 'ok', detail: expect.stringContaining('$GITHUB_TOKEN') });
    const none = byId(await runDoctor(doctorContext({ cwd: root, configPath: own, env: { ...env(), GITHUB_TOKEN: undefined } })));
    expect(none['forge:github']).toMatchObject({ status: 'fail', detail: 'no token: none of $WIDGETS_TOKEN, $GH_TOKEN, $GITHUB_TOKEN is set' });
  });

  it('the CLI: a missing config fails with its fix, the rest is skipped; --json; exit 1', () => {
    const empty = mkdtempSync(join(root, 'empty-'));
    const res = oxi(['doctor', '--json'], { cwd: empty });
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout);
    expect(report.ok).toBe(false);
    const config = report.checks.find((c: { id: string }) => c.id === 'config');
    expect(config.status).toBe('fail');
    expect(config.fix).toContain('oxi init');
    expect(report.checks.filter((c: { status: string }) => c.status === 'skip').map((c: { id: string }) => c.id)).toEqual(['roadmap', 'project', 'hosts', 'ssh-hosts', 'agents', 'live', 'inference', 'sandbox', 'phases', 'forge', 'notifications']);
    const human = oxi(['doctor'], { cwd: empty });
    expect(human.stdout).toMatch(/^fail +config +No adapter config found/m);
    expect(human.stdout).toContain('fix: Run `oxi init`');
  });
});
