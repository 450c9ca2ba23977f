import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { codexArgv, codexCost, loadRateCard } from '../../../actors/agents/codex.js';
import { ConfigError } from '../../../src/errors.js';
import { makeRepo, type TestRepo } from '../../helpers/git-repo.js';

let repo: TestRepo | undefined;
afterEach(() => repo?.cleanup());

describe('codex argv', () => {
  it('exec --json with the sandbox, approval as -c (never -a after exec), model, overrides, then the prompt', () => {
    expect(codexArgv({ prompt: '-- tricky prompt', model: 'gpt-5-codex', sandbox: 'workspace-write', approvalPolicy: 'never', settings: { command: ['codex'], config: ['model_reasoning_effort="low"'] } })).toEqual([
      'codex', 'exec', '--json', '--sandbox', 'workspace-write', '-c', 'approval_policy="never"', '-m', 'gpt-5-codex', '-c', 'model_reasoning_effort="low"', '--', '-- tricky prompt',
    ]);
    expect(codexArgv({ prompt: 'p', sandbox: 'read-only', approvalPolicy: 'never', settings: { command: ['codex'], config: [] } })).not.toContain('-a');
  });
});

describe('codex cost from a rate card', () => {
  it('prices fresh, cached and output tokens per million; unknown models use "*" or cost 0', () => {
    const card = { 'gpt-5-codex': { input: 1.25, cachedInput: 0.125, output: 10 } };
    expect(codexCost(card, 'gpt-5-codex', { inputTokens: 24_763, cachedInputTokens: 24_448, outputTokens: 122 })).toBeCloseTo((315 * 1.25 + 24_448 * 0.125 + 122 * 10) / 1e6, 5);
    expect(codexCost(card, 'other', { inputTokens: 1000, outputTokens: 10 })).toBe(0);
    expect(codexCost({ '*': { input: 1, output: 2 } }, 'other', { inputTokens: 1_000_000, outputTokens: 1_000_000 })).toBe(3);
  });

  it('a malformed rate card is a ConfigError that names the file and the shape', () => {
    repo = makeRepo();
    const file = join(repo.scratch, 'rates.json');
    writeFileSync(file, JSON.stringify({ 'gpt-5': { input: 'cheap' } }));
    expect(() => loadRateCard(file)).toThrow(ConfigError);
    expect(() => loadRateCard(file)).toThrow(/rates\.json.*expected/);
  });
});
