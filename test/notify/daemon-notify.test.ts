/**
 * The running daemon's notifications reach a real HTTP receiver: the daily hard cap stops
 * dispatch and the operator hears about it once, through the adapter's webhook.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OXI, oxi, query, sampleProject, waitFor } from '../helpers/project.js';

const cleanups: Array<() => void | Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

describe('daemon notifications', () => {
  it('a budget stop is posted to the webhook once, with no secret in it', async () => {
    const received: Array<Record<string, unknown>> = [];
    const server = createServer((req, res) => {
      let b = '';
      req.on('data', (d) => (b += d)).on('end', () => (received.push(JSON.parse(b)), res.end('ok')));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?secret=s3cr3t-value`;

    const p = sampleProject({
      tasks: 3,
      script: (s) => Object.values(s.tasks).forEach((t) => Object.assign(t, { costUsd: 1 })),
      config: (c) => {
        c.budget = { perTaskUsd: 1, dailySoftUsd: 1, dailyHardUsd: 1 };
        c.notifications = [{ kind: 'webhook', urlEnv: 'OXI_TEST_HOOK' }];
        Object.assign(c.engine, { prWatchIntervalMs: 200, seedIntervalMs: 300, reaperIntervalMs: 300 });
      },
    });
    cleanups.push(p.cleanup);
    const daemon = spawn(process.execPath, [OXI, '--config', p.configPath, 'run'], { stdio: 'ignore', env: { ...process.env, OXI_TEST_HOOK: url } });
    const exited = new Promise((r) => daemon.on('exit', r));
    cleanups.push(async () => {
      daemon.kill('SIGTERM');
      await exited;
    });

    const budget = await waitFor('a budget notification', () => received.find((m) => m.kind === 'budget.hard_stop'), 60_000);
    expect(budget).toMatchObject({ schema: 'oxi.notification.v1', project: expect.any(String), severity: 'warn' });
    // Spend already over the cap, or the sessions in flight reserved past it: the title says which.
    expect(String(budget.title)).toMatch(/^Daily hard budget cap (reached: \$\d+\.\d\d of \$1|would be passed by the sessions in flight: \$\d+\.\d\d spent \+ \$\d+\.\d\d reserved, of \$1); no new agent starts until \d{4}-\d\d-\d\dT00:00:00Z$/);
    await waitFor('a refused claim in the ledger', () => query(p.db, `SELECT id FROM event WHERE kind='budget.hard_cap'`).length > 0, 30_000);
    await new Promise((r) => setTimeout(r, 1000)); // more refused claims, no more notifications
    expect(received.filter((m) => m.kind === 'budget.hard_stop')).toHaveLength(1);
    expect(JSON.stringify(received)).not.toContain('s3cr3t-value');

    daemon.kill('SIGTERM');
    await exited;
    const brief = oxi(['--config', p.configPath, 'brief', '--json']);
    expect(JSON.parse(brief.stdout).spend.budgetStops).toBeGreaterThan(0);
  });
});
