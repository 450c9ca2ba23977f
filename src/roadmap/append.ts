/**
 * Appending one item to a markdown roadmap: placed at the end of its `## Tier N` section (created when
 * missing), written in the format the parser reads, and checked by parsing the result — what is written
 * is exactly what `oxi roadmap` will show, or nothing is written.
 */
import { RoadmapError } from '../errors.js';
import { parseRoadmap } from './parse.js';
import type { NewItem } from './source.js';

const ID_RE = /^T(\d+)-[A-Za-z0-9]+$/;
const HEADING_RE = /^ {0,3}(#{1,6})(?:[ \t]+(.*))?$/;
const TIER_HEADING_RE = /^(?:tier[\s_-]*|t)(\d+)(?!\w|-\w)/i;

export function appendItem(markdown: string, item: NewItem): { text: string; id: string } {
  const title = item.title.trim();
  const description = item.description.replace(/\s+/g, ' ').trim();
  if (!Number.isSafeInteger(item.tier) || item.tier < 0) throw new RoadmapError(`Expected a tier >= 0, got ${item.tier}.`, { fix: 'Give the tier as a whole number: 0 is done first.' });
  if (!title || /[\r\n]/.test(title) || title.includes('**')) {
    throw new RoadmapError(`Expected a one-line title without "**", got ${JSON.stringify(item.title)}.`, { fix: 'Shorten the title to one line; put details in the description.' });
  }
  const before = parseRoadmap(markdown);
  const id = item.id ?? nextId(before.items.map((i) => i.id), item.tier);
  const idMatch = ID_RE.exec(id);
  if (!idMatch || Number(idMatch[1]) !== item.tier) {
    throw new RoadmapError(`Expected an id "T${item.tier}-<letters or digits>" for a tier ${item.tier} item, got "${id}".`, { fix: `Omit the id to get the next free one, or use e.g. T${item.tier}-1.` });
  }
  if (before.items.some((i) => i.id === id)) throw new RoadmapError(`The roadmap already has an item ${id}.`, { fix: 'Omit the id to get the next free one.' });
  const block = [`**${id} · ${title}**`, ...(description ? [`_${description}_`] : [])];
  const text = insert(markdown, item.tier, block);
  const after = parseRoadmap(text);
  const added = after.items.find((i) => i.id === id);
  const newErrors = after.problems.filter((p) => p.severity === 'error').length - before.problems.filter((p) => p.severity === 'error').length;
  if (!added || added.title !== title || added.description !== description || newErrors > 0 || after.items.length !== before.items.length + 1) {
    throw new RoadmapError(`The item ${id} would not read back as written (title ${JSON.stringify(added?.title ?? null)}, description ${JSON.stringify(added?.description ?? null)}); nothing was written.`, {
      fix: 'Remove markdown emphasis markers (_ or *) and backticks from the description, then try again.',
    });
  }
  return { text, id };
}

/** The next id: one past the largest number in use in any tier (T0-101, T2-103 → T<tier>-104), else T<tier>-1. */
function nextId(ids: string[], tier: number): string {
  const numbers = ids.map((id) => /^T\d+-(\d+)$/.exec(id)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1]));
  return `T${tier}-${numbers.length ? Math.max(...numbers) + 1 : 1}`;
}

/** Inserts the block after the last non-blank line of the tier's section, or in a new section at the end. */
function insert(markdown: string, tier: number, block: string[]): string {
  const eol = markdown.includes('\r\n') ? '\r\n' : '\n';
  const lines = markdown.split(/\r\n|\n/);
  let start = -1;
  let end = lines.length;
  let fence = false;
  for (let i = 0; i < lines.length; i++) {
    if (/^ {0,3}(`{3,}|~{3,})/.test(lines[i])) fence = !fence;
    const h = fence ? null : HEADING_RE.exec(lines[i]);
    if (!h || h[1].length > 2) continue;
    if (start >= 0) {
      end = i;
      break;
    }
    const m = h[1].length === 2 ? TIER_HEADING_RE.exec((h[2] ?? '').trim().replace(/^[*_\s]+/, '')) : null;
    if (m && Number(m[1]) === tier) start = i;
  }
  if (start < 0) {
    const body = markdown.replace(/(\r?\n)*$/, '');
    return `${body}${body ? `${eol}${eol}` : ''}## Tier ${tier}${eol}${eol}${block.join(eol)}${eol}`;
  }
  let last = end - 1;
  while (last > start && lines[last].trim() === '') last--;
  const out = [...lines.slice(0, last + 1), '', ...block, ...(end < lines.length ? [''] : []), ...lines.slice(end)];
  const text = out.join(eol);
  return text.endsWith(eol) ? text : text + eol;
}
