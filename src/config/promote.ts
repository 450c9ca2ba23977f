/** The promote recipes of an adapter: one, a list, or none; each named by its repository. */
import { ConfigError } from '../errors.js';
import { isMultiRepo, repoView } from './repos.js';
import type { Adapter, PromoteRecipe } from './schema.js';

/** The name of a recipe without `repo` (a single-repository adapter). */
export const DEFAULT_PROMOTE_NAME = 'default';

/** Every promote recipe, as a list (empty when none is configured). */
export function promoteRecipes(adapter: Pick<Adapter, 'promote'>): PromoteRecipe[] {
  const p = adapter.promote;
  return p === undefined ? [] : Array.isArray(p) ? p : [p];
}

/** A recipe's name: its repository's, or `default`. It names the actor (`promoter:<name>`) and its ledger rows. */
export function promoteName(recipe: PromoteRecipe): string {
  return recipe.repo ?? DEFAULT_PROMOTE_NAME;
}

/**
 * Where a recipe's command runs and for which repository: the one place that decides it.
 * With one repository, its main clone; with several (`repos`), the clone of the repository `recipe.repo` names
 * (a name the adapter lacks is a ConfigError naming the ones it has).
 */
export function promoteTarget(adapter: Adapter, recipe: PromoteRecipe): { cwd: string; repo: string } {
  const cwd = isMultiRepo(adapter) && recipe.repo !== undefined ? repoView(adapter, recipe.repo).repo.path : adapter.repo.path;
  return { cwd, repo: promoteName(recipe) };
}

/** The recipe `oxi promote --now [--repo NAME]` means: the named one, or the only one. */
export function pickRecipe(adapter: Pick<Adapter, 'promote'>, repo?: string): PromoteRecipe {
  const all = promoteRecipes(adapter);
  if (all.length === 0) {
    throw new ConfigError('No promote recipe is configured: expected `promote: { command: [...], schedule: "daily HH:MM" | "after-merge", enabled: false }` in the adapter.', {
      fix: 'Add a promote section to oxi.config (docs/adapter.md, "Promote"), then run `oxi promote --now` again.',
    });
  }
  const names = all.map(promoteName);
  if (repo !== undefined) {
    const found = all.find((r) => promoteName(r) === repo);
    if (!found) throw new ConfigError(`No promote recipe for repository "${repo}": the adapter has ${names.map((n) => `"${n}"`).join(', ')}.`, { fix: `Pass one of those to --repo.` });
    return found;
  }
  if (all.length > 1) throw new ConfigError(`Several promote recipes are configured (${names.join(', ')}): expected --repo NAME to say which.`, { fix: `e.g. oxi promote --now --repo ${names[0]}` });
  return all[0]!;
}
