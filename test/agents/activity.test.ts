import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ActivityTracker, activityLabel } from '../../src/agents/activity.js';
import { renderEvent } from '../../src/agents/render.js';
import { parseAgentStream } from '../../src/agents/stream.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '..', 'fixtures', 'streams', name), 'utf8');
const events = (text: string) => text.split('\n').filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l) as unknown);

describe('worker activity from real stream captures', () => {
  it('claude: starting → tool:Bash → thinking → finished, every step progress', () => {
    const t = new ActivityTracker('claude');
    const seen = events(fixture('claude-success.ndjson')).map((e) => t.see(e)).filter(Boolean).map((u) => `${activityLabel(u!.activity)}${u!.progress ? '' : '(noise)'}`);
    expect(seen[0]).toBe('starting');
    expect(seen).toContain('tool:Bash');
    expect(seen.at(-1)).toBe('finished');
    expect(seen.some((s) => s.includes('(noise)'))).toBe(false);
  });

  it('claude: retry notices and permission denials are not progress', () => {
    const t = new ActivityTracker('claude');
    expect(t.see({ type: 'system', subtype: 'api_retry', attempt: 1, error_status: 529 })).toEqual({ activity: { kind: 'retrying' }, progress: false });
    t.see({ type: 'assistant', message: { content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'rm -rf /' } }] } });
    expect(t.see({ type: 'user', message: { content: [{ type: 'tool_result', tool_use_id: 'toolu_1', is_error: true, content: 'This command requires approval' }] } })).toEqual({
      activity: { kind: 'permission', tool: 'Bash' },
      progress: false,
    });
    expect(t.see({ type: 'rate_limit_event' })).toBeUndefined();
  });

  it('codex: thread → shell tool → finished; error notices are not progress', () => {
    const t = new ActivityTracker('codex');
    const seen = events(fixture('codex-success.ndjson')).map((e) => t.see(e)).filter(Boolean).map((u) => activityLabel(u!.activity));
    expect(seen[0]).toBe('starting');
    expect(seen).toContain('tool:shell');
    expect(seen.at(-1)).toBe('finished');
    expect(t.see({ type: 'error', message: 'Reconnecting… 1/5' })?.progress).toBe(false);
  });
});

describe('stream edge cases and the human form', () => {
  it('a >1 MB event between noise lines still yields the terminal result', () => {
    const huge = JSON.stringify({ type: 'assistant', message: { content: [{ type: 'text', text: 'y'.repeat(1_200_000) }] } });
    const text = ['garbage', '', huge, '{"type":"result","subtype":"success","is_error":false,"result":"ok","total_cost_usd":0.5,"num_turns":2}', '{"type":"resu'].join('\n');
    expect(parseAgentStream(text, 'claude').terminal).toMatchObject({ ok: true, costUsd: 0.5, turns: 2 });
  });

  it('renders tool calls, results and the end of a run', () => {
    const lines = events(fixture('claude-success.ndjson')).map(renderEvent).filter(Boolean).join('\n');
    expect(lines).toMatch(/▶ session .* model claude-sonnet-4-5/);
    expect(lines).toContain('🔧 Bash git --version');
    expect(lines).toMatch(/✔ done · \$0\.0019 · 2 turns/);
    expect(renderEvent({ type: 'turn.failed', error: { message: 'unexpected status 401' } })).toBe('✘ turn failed: unexpected status 401');
  });
});
