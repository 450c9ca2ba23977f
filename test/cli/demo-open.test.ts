import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnOxi, waitFor } from '../helpers/project.js';

const parent = mkdtempSync(join(tmpdir(), 'oxi-demo-open-'));
const children: Array<ReturnType<typeof spawnOxi>> = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) (c.kill('SIGKILL'), await c.exited);
  rmSync(parent, { recursive: true, force: true });
});

describe('oxi demo --open', { timeout: 600_000 }, () => {
  it('keeps the dashboard up after the demo settles until Ctrl-C, and says how to reopen it', async () => {
    const demo = spawnOxi(['demo', '--dir', join(parent, 'demo'), '--tasks', '1', '--open']);
    children.push(demo);
    await waitFor('the demo to settle with the dashboard kept up', () => /stays up until Ctrl-C/.test(demo.output()), 540_000, 200);
    const out = demo.output();
    expect(out).toMatch(/the dashboard again, any time: oxi dashboard --config .*oxi\.config\.json/);
    // The last dashboard line is the one kept up after the demo: its page answers.
    const urls = [...out.matchAll(/dashboard on (http:\/\/127\.0\.0\.1:\d+\/)/g)].map((m) => m[1]!);
    const res = await fetch(`${urls.at(-1)}api/v1/snapshot`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { tasks: Array<{ status: string }> }).tasks.map((t) => t.status)).toEqual(['merged']);
    expect(demo.exitCode).toBeNull();
    demo.kill('SIGINT');
    expect(await demo.exited).toBe(0);
  });
});
