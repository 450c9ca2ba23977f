/** Dashboard first-hour points: any loopback --bind, bad percent-encoding is a 400, the token printed once and kept in a 600 file. */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isLoopback } from '../../inspector/auth.js';
import { startDashboard } from '../../inspector/server.js';
import { storedToken, tokenFilePath } from '../../inspector/token-file.js';
import { announce } from '../../src/cli/commands/dashboard.js';
import { validateConfig } from '../../src/config/validate.js';
import { openDb } from '../../src/store/db.js';

const dir = mkdtempSync(join(tmpdir(), 'oxi-dash-first-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const adapter = validateConfig({ name: 'dash', engine: { dashboard: { port: 0 } } }, { configPath: join(dir, 'oxi.config.json') });

function get(host: string, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard', () => {
  it('any loopback address works as --bind, and a path with bad percent-encoding is a 400', async () => {
    for (const a of ['127.0.0.1', '127.0.0.2', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost']) expect(isLoopback(a), a).toBe(true);
    for (const a of ['0.0.0.0', '10.0.0.1', '::', '128.0.0.1', 'example.com']) expect(isLoopback(a), a).toBe(false);
    const db = openDb(adapter.paths.db);
    const server = await startDashboard({ db, adapter, token: { value: 'x'.repeat(24), generated: false }, port: 0, bind: '127.0.0.2' });
    try {
      expect(server.url).toBe(`http://127.0.0.2:${server.port}/`);
      expect((await get('127.0.0.2', server.port, '/api/v1/ledger')).status).toBe(200);
      const bad = await get('127.0.0.2', server.port, '/api/v1/tasks/%E0%A4%A');
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.body).error).toContain('Expected a percent-encoded path');
    } finally {
      await server.close();
      db.close();
    }
  });

  it('the generated token is kept in a 600 file and printed once, not in every start\'s log line', () => {
    const first = storedToken(adapter.paths.stateDir);
    expect(first.created).toBe(true);
    expect(statSync(tokenFilePath(adapter.paths.stateDir)).mode & 0o777).toBe(0o600);
    expect(statSync(adapter.paths.stateDir).mode & 0o777).toBe(0o700);
    const again = storedToken(adapter.paths.stateDir);
    expect(again).toMatchObject({ value: first.value, created: false });
    const line = (token: typeof first) => announce({ url: 'http://127.0.0.1:1/', token } as never);
    expect(line(first)).toContain(`#token=${first.value}`);
    expect(line(again)).not.toContain(first.value);
    expect(line(again)).toContain(`the token for kill/unkill/retry is in ${tokenFilePath(adapter.paths.stateDir)}`);
  });
});
