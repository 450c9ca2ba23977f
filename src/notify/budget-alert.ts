import type { Notifier } from '../ports.js';

/**
 * Tells the operator once per UTC day that the daily hard cap stopped dispatch (the pool asks
 * for the budget on every claim, so notifying on each check would flood the channel).
 */
export function budgetAlerter(notifier: Notifier, caps: { dailyHardUsd: number }) {
  let notifiedDay: number | undefined;
  return (check: { exceeded: boolean; dayStart: number; spentUsd: number }): void => {
    if (!check.exceeded || notifiedDay === check.dayStart) return;
    notifiedDay = check.dayStart;
    const resume = new Date(check.dayStart + 86_400_000).toISOString().replace('.000Z', 'Z');
    void notifier
      .notify({
        kind: 'budget',
        severity: 'warn',
        title: `Daily hard budget cap reached: $${check.spentUsd.toFixed(2)} of $${caps.dailyHardUsd}; no new agent starts until ${resume}`,
      })
      .catch(() => undefined);
  };
}
