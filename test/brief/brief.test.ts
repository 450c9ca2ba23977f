import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { collectBrief } from '../../src/brief/collect.js';
import { renderBrief } from '../../src/brief/render.js';
import { OXI, oxi } from '../helpers/project.js';
import { fixtureLedger, NOW } from './brief.fixture.js';

const fx = fixtureLedger();
afterAll(() => {
  fx.db.close();
  rmSync(fx.dir, { recursive: true, force: true });
});

const EXPECTED = `# oxi brief · widgets

Last 24 h: 2026-01-01 12:00 UTC → 2026-01-02 12:00 UTC

**2 merged · 1 abandoned · $2.50 spent · $1.25 per merged PR · 1 stall reaped · 1 kill**

## Merged PRs (2)

- T0-101 · Add sum — PR #1, $1.20
- T0-102 · Add mean — PR #2, $0.80 (was already merged)

## Abandoned (1)

- T0-103 · Parse CSV — critic rejected 3 times: the plan's tests are missing (full log: .oxi/logs/T0-103/)

## Spend

| | spent | cap |
|---|---:|---|
| last 24 h | $2.50 | |
| today (UTC) | $1.30 | soft $1.00 · hard $5.00 — soft cap reached |
| per merged PR | $1.25 | per task $2.00 |

Dispatch refused by the daily hard cap 1 time.

## Stalls reaped (1)

- 2026-01-02 03:15 UTC T0-102 on local (pid 4242)

## Kills (1)

- 2026-01-02 05:00 UTC killed
- 2026-01-02 05:30 UTC resumed

## Hosts

- local: ready, 1/2 in use
- build-1: unreachable, 0/0 in use, unreachable 2 times in the window — last error: connect ECONNREFUSED 10.0.0.5:22
`;

describe('oxi brief', () => {
  it('renders the fixture ledger as exactly this markdown', () => {
    expect(renderBrief(collectBrief(fx.db, fx.adapter, { now: NOW, hours: 24 }))).toBe(EXPECTED);
  });

  it('a shorter window leaves out what happened before it', () => {
    const md = renderBrief(collectBrief(fx.db, fx.adapter, { now: NOW, hours: 6 }));
    expect(md).toContain('**1 merged · 1 abandoned · $0.50 spent · $0.50 per merged PR · 0 stalls reaped · 0 kills**');
    expect(md).toContain('## Stalls reaped (0)\n\n- none\n');
  });

  it('the CLI prints the same markdown, and --json carries the data', () => {
    const res = oxi(['--config', fx.configPath, 'brief', '--until', '2026-01-02T12:00:00Z']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(EXPECTED);
    const json = JSON.parse(oxi(['--config', fx.configPath, 'brief', '--hours', '24', '--until', '2026-01-02T12:00:00Z', '--json']).stdout);
    expect(json.markdown).toBe(EXPECTED);
    expect(json.spend).toEqual({ windowUsd: 2.5, todayUsd: 1.3, caps: { perTaskUsd: 2, dailySoftUsd: 1, dailyHardUsd: 5 }, perMergedPrUsd: 1.25, budgetStops: 1 });
    expect(json.merged.map((m: { task: string }) => m.task)).toEqual(['T0-101', 'T0-102']);
  });

  it('--post sends it through the adapter\'s notifier', async () => {
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      let b = '';
      req.on('data', (d) => (b += d)).on('end', () => (bodies.push(b), res.end('ok')));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/brief`;
      const { stderr } = await promisify(execFile)(process.execPath, [OXI, '--config', fx.configPath, 'brief', '--post', '--until', '2026-01-02T12:00:00Z'], {
        env: { ...process.env, OXI_TEST_HOOK: url },
      });
      expect(stderr).toContain('oxi brief: webhook: delivered (1 attempt)');
      expect(bodies).toHaveLength(1);
      const payload = JSON.parse(bodies[0]);
      expect(payload).toMatchObject({ schema: 'oxi.notification.v1', project: 'widgets', kind: 'brief', title: 'oxi brief · widgets: 2 merged, 1 abandoned, $2.50 spent in 24 h', body: EXPECTED });
    } finally {
      server.close();
    }
  });

  it('bad --hours is a usage error', () => {
    const res = oxi(['--config', fx.configPath, 'brief', '--hours', 'soon']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--hours: expected a number of hours > 0, got "soon"');
  });
});
