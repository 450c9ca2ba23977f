/**
 * Attack family: exfiltration over the network. The worker sends a secret to "the internet" (a server on the
 * host, on a port no rule allows): through the sandbox's proxy, around it, and with a raw socket. Under the
 * default agents.network ("allowlist" where bubblewrap runs) every way fails, the refused request is in the
 * task's ledger (`network.denied`) and `oxi tail` shows it. Control: with "open" the same worker gets through.
 */
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { hostileBed, type HostileBed } from '../helpers/hostile-bed.js';
import { OXI, query } from '../helpers/project.js';

let bed: HostileBed | undefined;
let internet: Server | undefined;
afterEach(async () => {
  await bed?.cleanup();
  if (internet) await new Promise((r) => internet!.close(r));
  bed = internet = undefined;
});

/** "The internet": records every request (and raw connection) that reached it. */
async function theInternet(): Promise<{ url: string; hits: string[] }> {
  const hits: string[] = [];
  internet = createServer((req, res) => (hits.push(`${req.method} ${req.url}`), res.end('thanks')));
  internet.on('connection', () => hits.push('connection'));
  await new Promise<void>((r) => internet!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(internet.address() as AddressInfo).port}`, hits };
}

// A daemon pass on a loaded machine can take minutes: wait for it rather than fail on the clock.
describe('hostile agent: sending data out over the network', { timeout: 480_000 }, () => {
  it('the default allowlist refuses the proxy request and there is no way around it; the refusal is in the ledger and in oxi tail', async () => {
    const net = await theInternet();
    bed = hostileBed({ items: [{ id: 'T0-281', attack: 'network' }], config: (c) => (c.agents.env.set.HOSTILE_INTERNET = net.url) });
    const run = await bed.tick();
    expect(run.code, run.output).toBe(0);
    const [report] = bed.reports('T0-281');
    const evidence = `the worker reported ${JSON.stringify(report)}`;
    expect(report['curl through the proxy'], evidence).toMatch(/^ok: oxi: POST 127\.0\.0\.1:\d+ is not in agents\.network\.allow/);
    expect(report['curl around the proxy'], evidence).toMatch(/^failed: .*(Failed to connect|Couldn't connect)/);
    expect(report['node socket'], evidence).toMatch(/^failed/);
    expect(net.hits, evidence).toEqual([]);
    const port = Number(new URL(net.url).port);
    const denied = query<{ actor: string; payload: string }>(bed.db, `SELECT actor, payload FROM event WHERE kind = 'network.denied' AND task = ?`, 'T0-281');
    expect(denied.map((r) => ({ actor: r.actor, ...JSON.parse(r.payload) }))).toEqual([{ actor: 'network', role: 'worker', method: 'POST', host: '127.0.0.1', port, reason: 'not in agents.network.allow' }]);
    const tail = spawnSync(process.execPath, [OXI, '--config', bed.configPath, 'tail', 'T0-281', '--no-follow'], { cwd: bed.dir, encoding: 'utf8', timeout: 60_000 });
    expect(tail.status, tail.stderr).toBe(0);
    expect(tail.stdout).toContain(`⛔ network denied (worker): POST 127.0.0.1:${port} — not in agents.network.allow`);
    // What the agent tried to send (body, path) is not in the ledger: the refusal records method, host and port.
    expect(JSON.stringify(query(bed.db, 'SELECT * FROM event'))).not.toContain(`SENTINELexfil${bed.run}`);
    const json = spawnSync(process.execPath, [OXI, '--config', bed.configPath, 'tail', 'T0-281', '--no-follow', '--json'], { cwd: bed.dir, encoding: 'utf8', timeout: 60_000 });
    expect(json.stdout.split('\n').filter((l) => l.includes('oxi.network.denied')).map((l) => JSON.parse(l))).toMatchObject([{ type: 'oxi.network.denied', task: 'T0-281', method: 'POST', host: '127.0.0.1', port }]);
    // The harmless change itself still lands.
    expect(bed.task('T0-281')).toMatchObject({ status: 'merged' });
  });

  it('control: with agents.network "open" the same worker reaches the server', async () => {
    const net = await theInternet();
    bed = hostileBed({ items: [{ id: 'T0-282', attack: 'network' }], config: (c) => ((c.agents.env.set.HOSTILE_INTERNET = net.url), (c.agents.network = 'open')) });
    const run = await bed.tick();
    expect(run.code, run.output).toBe(0);
    const [report] = bed.reports('T0-282');
    expect(report['curl around the proxy'], JSON.stringify(report)).toBe('ok: thanks');
    expect(net.hits).toContain('POST /direct');
    expect(query(bed.db, `SELECT id FROM event WHERE kind = 'network.denied'`)).toEqual([]);
  });
});
