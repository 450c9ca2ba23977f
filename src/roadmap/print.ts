/**
 * Prints roadmap items back to the canonical markdown that `parseRoadmap` reads.
 *
 * Not every string survives the format; printing throws a RoadmapError instead of writing markdown
 * that would parse differently. Unrepresentable are:
 * - ids not shaped `T<digits>-<letters/digits>`, or whose tier differs from `item.tier`;
 * - titles containing `**` or a line break, ending in `*`, or with leading/trailing whitespace;
 * - descriptions containing a line break, with leading/trailing whitespace, or that cannot be wrapped
 *   in either `_..._` or `*...*` without closing early (e.g. one holding both a closing `_` and a closing `*`).
 */
import { RoadmapError } from '../errors.js';
import { parseRoadmap, type RoadmapItem } from './parse.js';

/** `## Tier N` sections in ascending tier order (items keep their relative order), a blank line between items. */
export function printRoadmap(items: RoadmapItem[]): string {
  const tiers = [...new Set(items.map((item) => item.tier))].sort((a, b) => a - b);
  const sections = tiers.map((tier) => {
    const blocks = items.filter((item) => item.tier === tier).map(printItem);
    return [`## Tier ${tier}`, ...blocks].join('\n\n');
  });
  return sections.length === 0 ? '' : `${sections.join('\n\n')}\n`;
}

function printItem(item: RoadmapItem): string {
  const head = `**${item.id} · ${item.title}**`;
  if (item.description === '') return checked(item, head);
  // `_` is canonical; `*` rescues descriptions whose underscores would close `_` early.
  for (const marker of ['_', '*']) {
    const block = `${head}\n${marker}${item.description}${marker}`;
    if (parsesBack(item, block)) return block;
  }
  throw unrepresentable(item);
}

function checked(item: RoadmapItem, block: string): string {
  if (!parsesBack(item, block)) throw unrepresentable(item);
  return block;
}

// Checks representability with the parser itself, so printer and parser cannot drift apart.
function parsesBack(item: RoadmapItem, block: string): boolean {
  // Warnings are fine (an empty title warns); tier and text mismatches show up in the comparison.
  const { items } = parseRoadmap(`## Tier ${item.tier}\n\n${block}\n`);
  const back = items[0];
  return (
    items.length === 1 &&
    back.id === item.id &&
    back.tier === item.tier &&
    back.title === item.title &&
    back.description === item.description
  );
}

function unrepresentable(item: RoadmapItem): RoadmapError {
  return new RoadmapError(`Roadmap item ${item.id} cannot be printed so that it parses back unchanged.`, {
    fix: 'Keep ids as T<tier>-<id> matching the tier, keep titles free of `**` and line breaks, and keep descriptions on one line with balanced emphasis.',
  });
}
