import { describe, expect, it } from 'vitest';
import { pickRecipe, promoteName, promoteRecipes, promoteTarget } from '../../src/config/promote.js';
import { validateConfig } from '../../src/config/validate.js';

const adapter = (promote: unknown) => validateConfig({ name: 'p', repo: { path: '/srv/p' }, ...(promote === undefined ? {} : { promote }) }, { configPath: '/srv/p/oxi.config.json' });
const problems = (promote: unknown) => {
  try {
    adapter(promote);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};

describe('the promote config', () => {
  it('is optional: an adapter without it is valid and unchanged, with no recipe', () => {
    const a = adapter(undefined);
    expect(a.promote).toBeUndefined();
    expect(promoteRecipes(a)).toEqual([]);
    expect(() => pickRecipe(a)).toThrow(/No promote recipe is configured/);
  });

  it('one recipe: defaults applied, dormant unless enabled, run in the main clone', () => {
    const a = adapter({ command: ['./promote.sh', '--prod'], schedule: 'daily 03:30' });
    const [r] = promoteRecipes(a);
    expect(r).toEqual({ command: ['./promote.sh', '--prod'], schedule: 'daily 03:30', enabled: false, env: [], timeoutMinutes: 30 });
    expect(promoteName(r!)).toBe('default');
    expect(promoteTarget(a, r!)).toEqual({ cwd: '/srv/p', repo: 'default' });
    expect(pickRecipe(a)).toBe(r);
    expect(pickRecipe(a, 'default')).toBe(r);
  });

  it('a list: one per repository, picked by --repo', () => {
    const a = adapter([
      { repo: 'product', command: ['make', 'promote'], schedule: 'after-merge', enabled: true },
      { repo: 'engine', command: ['true'], schedule: 'daily 00:00' },
    ]);
    expect(promoteRecipes(a).map(promoteName)).toEqual(['product', 'engine']);
    expect(pickRecipe(a, 'engine').schedule).toBe('daily 00:00');
    expect(() => pickRecipe(a)).toThrow(/Several promote recipes are configured \(product, engine\): expected --repo NAME/);
    expect(() => pickRecipe(a, 'web')).toThrow(/No promote recipe for repository "web": the adapter has "product", "engine"/);
  });

  it('refuses a shell string, a bad schedule, a repository named twice, a secret pasted into env', () => {
    expect(problems({ command: 'npm run promote', schedule: 'after-merge' })).toMatch(/- promote: expected one of the allowed shapes/);
    expect(problems({ command: [], schedule: 'after-merge' })).toMatch(/promote.command: expected a non-empty array/);
    expect(problems({ command: ['x'], schedule: 'daily 3am' })).toMatch(/"daily HH:MM" \(24-hour clock, UTC\) or "after-merge"/);
    expect(problems([{ repo: 'a', command: ['x'], schedule: 'after-merge' }, { repo: 'a', command: ['y'], schedule: 'after-merge' }])).toMatch(/"a" has two promote recipes/);
    expect(problems([{ command: ['x'], schedule: 'after-merge' }, { command: ['y'], schedule: 'after-merge' }])).toMatch(/two recipes without `repo`/);
    expect(problems({ command: ['x'], schedule: 'after-merge', repo: 'Not A Slug' })).toMatch(/repository name/);
    expect(problems({ command: ['x'], schedule: 'after-merge', env: ['ghp_abcdefghijklmnopqrstuvwxyz'] })).toMatch(/not a secret token|name of an environment variable/);
  });
});
