import { homedir } from 'node:os';
import { execa } from 'execa';
import { DOCTOR_PROVIDERS } from './providers.js';
import type { CheckProvider, CheckResult, CommandResult, DoctorContext } from './types.js';

export interface DoctorReport {
  ok: boolean;
  counts: Record<CheckResult['status'], number>;
  checks: Array<CheckResult & { provider: string }>;
}

export function doctorContext(opts: { cwd: string; configPath?: string; dbOverride?: string; env?: Record<string, string | undefined>; live?: boolean }): DoctorContext {
  return {
    cwd: opts.cwd,
    live: opts.live ?? false,
    configPath: opts.configPath,
    dbOverride: opts.dbOverride,
    env: opts.env ?? process.env,
    home: homedir(),
    fetch: globalThis.fetch,
    now: Date.now,
    async run(argv, options = {}): Promise<CommandResult> {
      try {
        const r = await execa(argv[0], argv.slice(1), {
          cwd: options.cwd ?? opts.cwd,
          env: options.env,
          extendEnv: options.env === undefined,
          timeout: options.timeoutMs ?? 10_000,
          reject: false,
          stdin: 'ignore',
        });
        const error = r.failed && r.exitCode === undefined ? ((r as { code?: string }).code ?? r.shortMessage) : undefined;
        return { ok: !r.failed, exitCode: r.exitCode ?? null, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), error };
      } catch (e) {
        return { ok: false, exitCode: null, stdout: '', stderr: '', error: (e as Error).message };
      }
    },
  };
}

/** Runs every provider in order; `onResult` sees each result as it comes (progress output). */
export async function runDoctor(ctx: DoctorContext, onResult: (r: CheckResult & { provider: string }) => void = () => {}, providers: readonly CheckProvider[] = DOCTOR_PROVIDERS): Promise<DoctorReport> {
  const checks: DoctorReport['checks'] = [];
  for (const p of providers) {
    let results: CheckResult[];
    if (p.needsAdapter && !ctx.adapter) results = [{ id: p.name, status: 'skip', detail: `${p.name}: skipped (the adapter did not load)` }];
    else {
      try {
        results = await p.check(ctx);
      } catch (error) {
        results = [{ id: p.name, status: 'fail', detail: `${p.name} check crashed: ${(error as Error).message}`, fix: 'This is a bug in oxi doctor; the other checks still ran.' }];
      }
    }
    for (const r of results) {
      const withProvider = { ...r, provider: p.name };
      checks.push(withProvider);
      onResult(withProvider);
    }
  }
  const counts = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) counts[c.status]++;
  return { ok: counts.fail === 0, counts, checks };
}
