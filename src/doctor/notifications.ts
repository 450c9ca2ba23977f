import type { CheckProvider, CheckResult } from './types.js';

/** Slack / webhook targets: their variables set to an http(s) URL (the value is never printed). */
export const notificationChecks: CheckProvider = {
  name: 'notifications',
  needsAdapter: true,
  async check(ctx) {
    return ctx.adapter!.notifications.map((n): CheckResult => {
      if (n.kind === 'log' || n.kind === 'stderr') return { id: `notify:${n.kind}`, status: 'ok', detail: `${n.kind}: always available` };
      const name = n.kind === 'slack' ? n.webhookEnv : n.urlEnv;
      const value = ctx.env[name];
      if (!value) return { id: `notify:${n.kind}`, status: 'fail', detail: `${n.kind}: $${name} is not set`, fix: `Export ${name}=<the ${n.kind === 'slack' ? 'Slack incoming-webhook' : 'webhook'} URL> in oxi's environment (the service's EnvironmentFile).` };
      if (!/^https?:\/\//.test(value)) return { id: `notify:${n.kind}`, status: 'fail', detail: `${n.kind}: $${name} is not an http(s) URL`, fix: `Set ${name} to the full URL, starting with https://.` };
      return { id: `notify:${n.kind}`, status: 'ok', detail: `${n.kind}: $${name} is set` };
    });
  },
};
