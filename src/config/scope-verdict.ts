/**
 * The scope check of a change: which files are blocked, outside the allowed scope, sensitive or
 * protected under the adapter's policy. The critic effect decides with it; the dashboard shows it
 * per file. Pure: the adapter and repo-relative paths in.
 */
import { protectedPathsTouched, protectedRules, whyProtected } from './protected-paths.js';
import type { Adapter } from './schema.js';

export interface ScopeCheck {
  blocked: string[];
  outside: string[];
  sensitive: string[];
  protected: string[];
}

/** Blocked paths reject; sensitive and protected ones force human review. Prefix '' allows everything. */
export function scopeCheck(adapter: Adapter, files: string[]): ScopeCheck {
  const { scope } = adapter.policy;
  const within = (f: string, prefixes: string[]) => prefixes.some((p) => p !== '' && f.startsWith(p));
  return {
    blocked: files.filter((f) => within(f, scope.blocked)),
    outside: files.filter((f) => !scope.allowed.some((p) => f.startsWith(p))),
    sensitive: files.filter((f) => within(f, scope.sensitive)),
    protected: protectedPathsTouched(files, adapter),
  };
}

/** One file's verdict: `blocked` and `outside` reject the change, `protected` and `sensitive` need a human. */
export interface FileScope {
  verdict: 'ok' | 'blocked' | 'outside' | 'protected' | 'sensitive';
  why: string;
}

export function fileScopes(adapter: Adapter, files: string[]): Map<string, FileScope> {
  const check = scopeCheck(adapter, files);
  const rules = protectedRules(adapter);
  const out = new Map<string, FileScope>();
  for (const f of files) {
    if (check.blocked.includes(f)) out.set(f, { verdict: 'blocked', why: 'under policy.scope.blocked: the change is rejected' });
    else if (check.outside.includes(f)) out.set(f, { verdict: 'outside', why: 'outside policy.scope.allowed: the change is rejected' });
    else if (check.protected.includes(f)) out.set(f, { verdict: 'protected', why: `protected (${whyProtected(f, rules) ?? 'policy'}): a human must review and merge it` });
    else if (check.sensitive.includes(f)) out.set(f, { verdict: 'sensitive', why: 'under policy.scope.sensitive: a human reviews it' });
    else out.set(f, { verdict: 'ok', why: 'within the allowed scope' });
  }
  return out;
}
