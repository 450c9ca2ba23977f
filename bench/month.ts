/**
 * `npm run sim:month`: the simulated month (src/sim/month.ts) on the real engine, printed as a report.
 * `--json` prints the report as JSON; `--days=N`, `--seed=N`, `--hosts=N`, `--live=N`, `--items=N` scale it.
 */
import { MONTH, printMonth, runMonth } from '../src/sim/month.js';

const arg = (name: string): number | undefined => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? undefined : Number(a.slice(name.length + 3));
};
const json = process.argv.includes('--json');
const options = {
  seed: arg('seed') ?? Date.now() % 100_000,
  days: arg('days') ?? MONTH.days,
  hosts: arg('hosts') ?? MONTH.hosts,
  slotsPerHost: arg('slots') ?? MONTH.slotsPerHost,
  maxLiveTasks: arg('live') ?? MONTH.maxLiveTasks,
  itemsPerDay: arg('items') ?? MONTH.itemsPerDay,
};
process.stderr.write(`sim:month: ${options.days} simulated days, ${options.hosts} hosts, ${options.maxLiveTasks} live tasks, ${options.itemsPerDay} items a day, seed ${options.seed}\n`);
const report = await runMonth({ ...options, progress: (line) => process.stderr.write(`sim:month: ${line}\n`) });
process.stdout.write(json ? `${JSON.stringify(report)}\n` : `${printMonth(report)}\n`);
process.exitCode = report.held ? 0 : 1;
