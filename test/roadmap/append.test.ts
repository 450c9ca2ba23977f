import { describe, expect, it } from 'vitest';
import { appendItem } from '../../src/roadmap/append.js';
import { parseRoadmap } from '../../src/roadmap/parse.js';

const ROADMAP = `# Roadmap

## Tier 0

**T0-101 · First**
_Do the first thing._

## Tier 1

**T1-102 · Second**
_Do the second thing._

## Done

- **T0-1 · Old** _done long ago._
`;

describe('appending a roadmap item', () => {
  it('puts it at the end of its tier section with the next free id, and the parser reads back exactly what was asked', () => {
    const { text, id } = appendItem(ROADMAP, { tier: 0, title: 'Third', description: 'Spans\n  two lines.' });
    expect(id).toBe('T0-103');
    expect(text).toContain('_Do the first thing._\n\n**T0-103 · Third**\n_Spans two lines._\n\n## Tier 1');
    expect(parseRoadmap(text).items.map((i) => [i.id, i.tier, i.title, i.description])).toEqual([
      ['T0-101', 0, 'First', 'Do the first thing.'],
      ['T0-103', 0, 'Third', 'Spans two lines.'],
      ['T1-102', 1, 'Second', 'Do the second thing.'],
    ]);
  });

  it('creates a missing tier section at the end, keeps a given id, and refuses what would not read back', () => {
    const { text, id } = appendItem(ROADMAP, { tier: 3, title: 'Later', description: '', id: 'T3-x1' });
    expect(id).toBe('T3-x1');
    expect(text.endsWith('## Tier 3\n\n**T3-x1 · Later**\n')).toBe(true);
    expect(parseRoadmap(text).items.find((i) => i.id === 'T3-x1')).toMatchObject({ tier: 3, title: 'Later', description: '' });
    expect(() => appendItem(ROADMAP, { tier: 0, title: 'x', description: '', id: 'T0-101' })).toThrow(/already has an item T0-101/);
    expect(() => appendItem(ROADMAP, { tier: 1, title: 'x', description: '', id: 'T0-9' })).toThrow(/T1-<letters or digits>/);
    expect(() => appendItem(ROADMAP, { tier: 0, title: 'a **bold** move', description: '' })).toThrow(/one-line title/);
    expect(() => appendItem(ROADMAP, { tier: 0, title: 'x', description: 'ends the italic_ early_' })).toThrow(/would not read back/);
  });
});
