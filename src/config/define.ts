/**
 * `defineAdapter`: the identity, there for types and editor completion in `oxi.config.ts`:
 *
 *   import { defineAdapter } from 'oxi';
 *   export default defineAdapter({ name: 'widgets', repo: { mainBranch: 'main' } });
 *
 * Validation happens when oxi loads the file (loadAdapter → validateConfig).
 * Keep this module free of runtime imports: config files load it.
 */
import type { AdapterInput } from './schema.js';

export function defineAdapter(config: AdapterInput): AdapterInput {
  return config;
}
