/**
 * `oxi doctor --live`: the real claude and codex CLIs make one minimal call each against scripted model APIs,
 * and the forge check reads the repository from the fake GitHub with the token the engine would use.
 * A good key is ok; a refused key (401) is a failure that says how to fix it; without --live nothing is spent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { doctorContext, runDoctor } from '../../src/doctor/run.js';
import { claudeTestEnv, REAL_CLAUDE, REAL_CODEX } from '../helpers/agent-deps.js';
import { makeRepo, type TestRepo } from '../helpers/git-repo.js';
import { attachFakeGitHub, OWNER, REPO, TOKEN } from '../helpers/github-remote.js';
import { startAnthropicApi } from '../helpers/model-api/anthropic.js';
import { startResponsesApi } from '../helpers/model-api/openai.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function bed(options: { claudeStatus?: number; codexStatus?: number; token?: string }) {
  const r: TestRepo = makeRepo();
  cleanups.push(r.cleanup);
  writeFileSync(join(r.dir, 'ROADMAP.md'), '# r\n\n## Tier 0\n\n- **T0-1 · One**\n  _one._\n');
  const gh = await attachFakeGitHub(r.dir, r.scratch);
  cleanups.push(() => gh.stop());
  const anthropic = await startAnthropicApi(() => (options.claudeStatus ? { status: options.claudeStatus, message: 'invalid x-api-key' } : { text: 'ok' }));
  cleanups.push(() => anthropic.close());
  const openai = await startResponsesApi(() => (options.codexStatus ? { status: options.codexStatus, message: 'Incorrect API key provided' } : { text: 'ok' }));
  cleanups.push(() => openai.close());
  // codex refuses to set up its helpers under /tmp: give it a home elsewhere.
  const codexHome = mkdtempSync('/var/tmp/oxi-codex-');
  cleanups.push(() => rmSync(codexHome, { recursive: true, force: true }));
  const configPath = join(r.scratch, 'oxi.config.json');
  writeFileSync(configPath, JSON.stringify({
    name: 'widgets',
    repo: { path: r.dir, forge: { kind: 'github', owner: OWNER, name: REPO, apiUrl: gh.url } },
    roadmap: join(r.dir, 'ROADMAP.md'),
    paths: { stateDir: join(r.scratch, 'state') },
    agents: {
      planner: { backend: 'claude', model: 'claude-haiku-4-5' },
      worker: { backend: 'codex', model: 'gpt-5-codex' },
      critic: { backend: 'claude', model: 'claude-haiku-4-5' },
      claude: { command: [REAL_CLAUDE] },
      codex: {
        command: [REAL_CODEX],
        config: ['model_provider="oxi-test"', `model_providers.oxi-test={name="oxi-test",base_url="${openai.url}",wire_api="responses",env_key="OXI_TEST_KEY",supports_websockets=false,request_max_retries=0,stream_max_retries=0}`],
      },
      env: { allow: ['PATH'], set: { ...claudeTestEnv(anthropic.url, join(r.scratch, 'home')), CODEX_HOME: codexHome, OXI_TEST_KEY: 'sk-scripted' } },
    },
  }));
  const env = { PATH: process.env.PATH, HOME: join(r.scratch, 'home'), GITHUB_TOKEN: options.token ?? TOKEN };
  const doctor = async (live: boolean) => {
    const report = await runDoctor(doctorContext({ cwd: r.dir, configPath, env, live }));
    return Object.fromEntries(report.checks.map((c) => [c.id, c]));
  };
  return { gh, anthropic, openai, doctor };
}

describe('oxi doctor --live', () => {
  it('good credentials: one real call per backend answers ok, and the forge token is proven on the fake GitHub', async () => {
    const b = await bed({});
    const quiet = await b.doctor(false);
    expect(quiet['live:claude']).toMatchObject({ status: 'skip', detail: expect.stringContaining('credentials were not exercised') });
    expect(quiet['live:codex']).toMatchObject({ status: 'skip' });
    expect(b.anthropic.requests).toHaveLength(0);
    expect(b.openai.requests).toHaveLength(0);

    const c = await b.doctor(true);
    expect(c['live:claude'], JSON.stringify(c['live:claude'])).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^claude: one real call answered \(cost \$[\d.]+\): credentials work$/) });
    expect(c['live:codex'], JSON.stringify(c['live:codex'])).toMatchObject({ status: 'ok', detail: 'codex: one real call answered: credentials work' });
    expect(c['forge:github']).toMatchObject({ status: 'ok', detail: `${OWNER}/${REPO}: the token in $GITHUB_TOKEN may push and open PRs (proven by one API read)` });
    // One model request per backend, on the model the engine would run, with no tools offered.
    const sessions = b.anthropic.requests.filter((q) => q.userText.includes('Reply with the single word: ok'));
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.model).toBe('claude-haiku-4-5');
    expect((sessions[0]!.raw.tools as unknown[] | undefined) ?? []).toEqual([]);
    expect(b.openai.requests).toHaveLength(1);
    expect(b.openai.requests[0]!.model).toBe('gpt-5-codex');
  });

  it('a refused key (401) and a bad forge token are failures that say how to fix them', async () => {
    const b = await bed({ claudeStatus: 401, codexStatus: 401, token: 'ghp_wrongwrongwrongwrongwrongwrong1234' });
    const c = await b.doctor(true);
    expect(c['live:claude'], JSON.stringify(c['live:claude'])).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^claude: credentials refused \(401\)/), fix: expect.stringContaining('ANTHROPIC_API_KEY') });
    expect(c['live:codex'], JSON.stringify(c['live:codex'])).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^codex: credentials refused \(401\)/), fix: expect.stringContaining('codex login') });
    expect(c['forge:github']).toMatchObject({ status: 'fail', detail: 'the token in $GITHUB_TOKEN is rejected (401: invalid or expired)', fix: expect.stringContaining('$GITHUB_TOKEN') });
  });
});
