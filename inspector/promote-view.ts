/** The dashboard's promote section: each recipe and its last runs, from the ledger (no output tails: /api/v1/promote has them). */
import { z } from 'zod';
import { promoteName, promoteRecipes } from '../src/config/promote.js';
import type { Adapter } from '../src/config/schema.js';
import type { Db } from '../src/store/db.js';
import { recentPromoteRows } from '../src/store/promote.js';

export const promoteRunView = z.object({
  at: z.number(),
  trigger: z.string(),
  ok: z.boolean(),
  exitCode: z.number().int().nullable(),
  durationMs: z.number().min(0),
  summary: z.string(),
  outputTail: z.string().optional(),
});

export const promoteView = z.object({
  recipes: z.array(z.object({ name: z.string(), schedule: z.string(), enabled: z.boolean(), command: z.array(z.string()), runs: z.array(promoteRunView) })),
});

export type PromoteView = z.infer<typeof promoteView>;

/** Undefined when no recipe is configured (the page shows nothing). `tails`: the output tails too (the API, not the pushed snapshot). */
export function buildPromoteView(db: Db, adapter: Adapter, options: { runs?: number; tails?: boolean } = {}): PromoteView | undefined {
  const recipes = promoteRecipes(adapter);
  if (recipes.length === 0) return undefined;
  const limit = options.runs ?? 5;
  return {
    recipes: recipes.map((r) => {
      const name = promoteName(r);
      const runs = recentPromoteRows(db, limit * 3, name)
        .filter((row) => row.kind === 'promote.run')
        .slice(0, limit)
        .map((row) => {
          const p = row.payload as { trigger?: string; ok?: boolean; exitCode?: number | null; durationMs?: number; summary?: string; outputTail?: string };
          return { at: row.at, trigger: p.trigger ?? 'unknown', ok: p.ok === true, exitCode: p.exitCode ?? null, durationMs: p.durationMs ?? 0, summary: p.summary ?? '', ...(options.tails ? { outputTail: p.outputTail ?? '' } : {}) };
        });
      return { name, schedule: r.schedule, enabled: r.enabled, command: r.command, runs };
    }),
  };
}
