/**
 * Regenerates the field reference in docs/adapter.md from the schema:
 *
 *   npx jiti src/config/write-docs.ts [docs/adapter.md]
 *
 * Only the text between the two markers is replaced; the prose around it is hand-written.
 * test/config/validate.test.ts fails when the doc drifts from the schema.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeAdapterSchema } from './describe.js';

export const DOC_BEGIN = '<!-- BEGIN GENERATED: describeAdapterSchema() (npx jiti src/config/write-docs.ts) -->';
export const DOC_END = '<!-- END GENERATED -->';

/** `doc` with the generated block replaced by the current schema description. */
export function renderAdapterDoc(doc: string): string {
  const begin = doc.indexOf(DOC_BEGIN);
  const end = doc.indexOf(DOC_END);
  if (begin < 0 || end < begin) throw new Error(`the doc lacks the markers ${DOC_BEGIN} … ${DOC_END}`);
  return `${doc.slice(0, begin + DOC_BEGIN.length)}\n\n${describeAdapterSchema()}\n\n${doc.slice(end)}`;
}

export function writeAdapterDoc(path: string): boolean {
  const before = readFileSync(path, 'utf8');
  const after = renderAdapterDoc(before);
  if (after !== before) writeFileSync(path, after);
  return after !== before;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const path = resolve(process.argv[2] ?? 'docs/adapter.md');
  console.log(writeAdapterDoc(path) ? `updated ${path}` : `${path} is up to date`);
}
