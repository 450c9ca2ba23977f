import { readFileSync, writeFileSync } from 'node:fs';
import { allDiagrams, DIAGRAMS_BEGIN, DIAGRAMS_END } from './diagrams.js';

/** Replaces the generated section of docs/architecture.md with diagrams drawn from the machines. */
export function renderArchitecture(doc: string): string {
  const start = doc.indexOf(DIAGRAMS_BEGIN);
  const end = doc.indexOf(DIAGRAMS_END);
  if (start < 0 || end < start) throw new Error(`docs/architecture.md lacks the markers ${DIAGRAMS_BEGIN} … ${DIAGRAMS_END}`);
  return `${doc.slice(0, start + DIAGRAMS_BEGIN.length)}\n\n${allDiagrams()}\n\n${doc.slice(end)}`;
}

const file = process.argv[2];
if (file) writeFileSync(file, renderArchitecture(readFileSync(file, 'utf8')));
