import type { Adapter } from '../config/schema.js';
import type { CheckResult } from '../doctor/types.js';
import { PreflightError } from '../errors.js';
import { preflight } from './preflight.js';

/** One problem as the CLI prints it: the line, then its fix indented under it. */
export function problemLines(r: CheckResult): string {
  return `  ${r.status === 'fail' ? 'error' : 'warning'}: ${r.detail}${r.fix ? `\n    fix: ${r.fix}` : ''}`;
}

/**
 * Runs preflight before an engine starts: warnings go to `log`, failures stop the command
 * (exit 2) before anything is dispatched.
 */
export async function assertPreflight(adapter: Adapter, log: (line: string) => void): Promise<CheckResult[]> {
  const results = await preflight(adapter);
  const warnings = results.filter((r) => r.status === 'warn');
  const failures = results.filter((r) => r.status === 'fail');
  if (warnings.length) log(`oxi: preflight: ${warnings.length} warning(s):\n${warnings.map(problemLines).join('\n')}`);
  if (failures.length) {
    throw new PreflightError(`preflight: ${failures.length} problem(s) would fail every task; nothing was dispatched:\n${failures.map(problemLines).join('\n')}`, {
      fix: 'Fix each line above (oxi doctor checks them all), then run the command again.',
    });
  }
  return results;
}
