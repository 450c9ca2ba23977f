/** Package entry for config files: `import { defineAdapter } from 'oxi'`. Keep it light. */
export { defineAdapter } from './config/define.js';
export type { Adapter, AdapterInput } from './config/schema.js';
