/**
 * agents.network on the real local sandbox (bubblewrap): with the default allowlist the agent has no network of
 * its own; through the proxy it reaches the allowed host only, and a refusal lands in the task's ledger. The
 * older agents.sandbox.network settings keep their meaning.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { servedSessions } from '../../../actors/network/registry.js';
import { HostSandbox, sandboxOf } from '../../../actors/sandbox/sandbox.js';
import { networkSettings } from '../../../actors/network/policy.js';
import { SandboxUnavailableError } from '../../../src/errors.js';
import { validateConfig } from '../../../src/config/validate.js';
import { openDb } from '../../../src/store/db.js';
import { listEvents } from '../../../src/store/ledger.js';
import { makeBed, type Bed } from './bed.js';

let bed: Bed;
const servers: Server[] = [];
beforeEach(() => {
  bed = makeBed();
});
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  bed.cleanup();
});

async function site(name: string): Promise<number> {
  const server = createServer((req, res) => res.end(`${name}:${req.method}:${req.url}`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

async function run(agents: Record<string, unknown>, script: string, env: Record<string, string> = {}) {
  const adapter = validateConfig({ name: 'p', agents }, { configPath: join(bed.main, 'oxi.config.json') });
  const fullEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: bed.home, ...env };
  const { argv, network } = await sandboxOf(adapter, bed.host).wrap({ role: 'worker', backend: 'claude', argv: ['sh', '-c', script], env: fullEnv, workspace: bed.ws1, writable: true, waited: false, taskId: 'T1' });
  try {
    return { ...(await bed.host.exec(argv, { env: fullEnv, cwd: bed.ws1, timeoutMs: 30_000 })), mode: network?.mode, db: adapter.paths.db };
  } finally {
    await network?.release();
  }
}

// curl exits 0 on a 403; -w prints the status. rc 7: could not connect.
const get = (url: string, extra = '') => `curl -sS -m 10 ${extra} -o /dev/null -w '${url} %{http_code}\\n' ${url} || echo "${url} rc=$?"`;

describe('agents.network in the bubblewrap sandbox', () => {
  it('default allowlist: the model API from the base URL passes through the proxy; another host is refused and recorded; a direct connection has no network', async () => {
    const api = await site('api');
    const internet = await site('internet');
    const apiUrl = `http://127.0.0.1:${api}/v1/messages`;
    const out = await run({}, [get(apiUrl), get(`http://127.0.0.1:${internet}/exfil`), get(`http://127.0.0.1:${internet}/direct`, "--noproxy '*'"), 'node -e "fetch(process.argv[1]).then(()=>console.log(\'fetch ok\'),(e)=>console.log(\'fetch failed\', e.cause?.code))" ' + `http://127.0.0.1:${internet}/node`].join('\n'), { ANTHROPIC_BASE_URL: `http://127.0.0.1:${api}` });
    expect(out.mode).toBe('allowlist');
    expect(out.stdout).toContain(`${apiUrl} 200`);
    expect(out.stdout).toContain(`http://127.0.0.1:${internet}/exfil 403`);
    expect(out.stdout).toContain(`http://127.0.0.1:${internet}/direct rc=7`);
    // node's fetch ignores the proxy variables: it tries directly, and there is no network.
    expect(out.stdout).toContain('fetch failed ECONNREFUSED');
    const db = openDb(out.db);
    try {
      const rows = listEvents(db, { task: 'T1', kindPrefix: 'network.denied' }).map((r) => JSON.parse(r.payload));
      expect(rows).toEqual([{ role: 'worker', method: 'GET', host: '127.0.0.1', port: internet, reason: 'not in agents.network.allow' }]);
    } finally {
      db.close();
    }
    expect(servedSessions()).toEqual([]);
  });

  it('agents.network.allow adds hosts; defaults: false leaves only those', async () => {
    const api = await site('api');
    const extra = await site('extra');
    const out = await run({ network: { allow: [`127.0.0.1:${extra}`], defaults: false } }, [get(`http://127.0.0.1:${extra}/a`), get(`http://127.0.0.1:${api}/b`)].join('\n'), { ANTHROPIC_BASE_URL: `http://127.0.0.1:${api}` });
    expect(out.stdout).toContain(`http://127.0.0.1:${extra}/a 200`);
    expect(out.stdout).toContain(`http://127.0.0.1:${api}/b 403`);
  });

  it('"open" (and the older agents.sandbox.network "open") reach the host directly; "none" has no network and no proxy', async () => {
    const internet = await site('internet');
    const direct = get(`http://127.0.0.1:${internet}/d`, "--noproxy '*'");
    for (const agents of [{ network: 'open' }, { sandbox: { network: 'open' } }]) {
      const out = await run(agents, direct);
      expect(out.mode).toBe('open');
      expect(out.stdout).toContain(`http://127.0.0.1:${internet}/d 200`);
    }
    for (const agents of [{ network: 'none' }, { sandbox: { network: 'none' } }]) {
      const out = await run(agents, `echo "proxy=\${HTTPS_PROXY:-unset}"\n${get(`http://127.0.0.1:${internet}/n`)}`);
      expect(out.mode).toBe('none');
      expect(out.stdout).toContain('proxy=unset');
      expect(out.stdout).toContain(`http://127.0.0.1:${internet}/n rc=7`);
    }
  });

  it('an explicit allowlist where the proxy cannot reach the sandbox (an SSH host) refuses the launch, nothing started; the default there is open', async () => {
    const remoteLike = (network: unknown) => {
      const adapter = validateConfig({ name: 'p', agents: { network } }, { configPath: join(bed.main, 'oxi.config.json') });
      return new HostSandbox(bed.host, adapter.agents.sandbox, [], { settings: networkSettings(adapter.agents), local: false, stateDir: adapter.paths.stateDir, db: adapter.paths.db, codex: adapter.agents.codex });
    };
    const request = { role: 'worker' as const, backend: 'claude', argv: ['sh', '-c', 'true'], env: { PATH: process.env.PATH! }, workspace: bed.ws1, writable: true, waited: false, taskId: 'T1' };
    await expect(remoteLike('allowlist').wrap(request)).rejects.toThrow(SandboxUnavailableError);
    await expect(remoteLike('allowlist').wrap(request)).rejects.toThrow(/agents.network is "allowlist"\); the network allowlist needs a local host with bubblewrap: the proxy runs in the engine, and this is an SSH host/);
    const open = await remoteLike(undefined).wrap(request);
    expect(open.network?.mode).toBe('open');
    expect(open.argv).not.toContain('--unshare-net');
    expect(servedSessions()).toEqual([]);
  });
});
