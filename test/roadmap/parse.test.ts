import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { RoadmapError } from '../../src/errors.js';
import { parseRoadmap, type RoadmapItem } from '../../src/roadmap/parse.js';
import { printRoadmap } from '../../src/roadmap/print.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/roadmap/${name}`, import.meta.url), 'utf8');
const ids = (markdown: string) => parseRoadmap(markdown).items.map((item) => item.id);
const withoutLine = (items: RoadmapItem[]) => items.map(({ line: _line, ...rest }) => rest);

describe('parseRoadmap on the predecessor fixture', () => {
  const parsed = parseRoadmap(fixture('predecessor.md'));

  it('returns the tier items in file order, skipping Notes and Done and the duplicate', () => {
    expect(parsed.items.map((item) => item.id)).toEqual([
      'T0-101', 'T0-104', 'T0-105', 'T0-110', 'T1-B10', 'T1-B11', 'T1-12', 'T1-13', 'T0-120', 'T2-43',
    ]);
  });

  it('joins multi-line descriptions and keeps underscores, code spans and links intact', () => {
    const byId = new Map(parsed.items.map((item) => [item.id, item]));
    expect(byId.get('T0-104')?.description).toBe(
      'Open the database in WAL mode with `synchronous=FULL`; keep the migration list in `src/store/migrations.ts` and record each applied version in the schema_version table.',
    );
    expect(byId.get('T0-105')).toMatchObject({
      title: 'Config loader',
      line: 15,
      description:
        'Read `oxi.config.ts` through jiti; validate with zod. Unknown keys such as `max_parallel_agents` or `a_b*c` are errors, see [config docs](https://example.com/docs/config_file#max_agents).',
    });
    expect(byId.get('T1-B10')).toMatchObject({ tier: 1, title: 'Worktree pool', line: 25 });
    expect(byId.get('T1-B11')?.description).toBe('Branches are named `oxi/<id>-<slug>`, never reused.');
    expect(byId.get('T0-110')?.description).toBe('');
    expect(byId.get('T1-12')?.description).toBe(
      'Retries use exponential backoff; a task that failed three times is parked and reported in the daily summary',
    );
  });

  it('reports the unclosed description, the tier mismatch and the duplicate', () => {
    expect(parsed.problems).toEqual([
      { line: 30, severity: 'warning', message: expect.stringContaining('T1-12 has no closing italic marker') },
      { line: 34, severity: 'warning', message: expect.stringContaining('T0-120 belongs to tier 0') },
      { line: 49, severity: 'error', message: expect.stringContaining('Duplicate id T1-B10 (first defined on line 25)') },
    ]);
    expect(parsed.items.find((item) => item.id === 'T0-120')?.tier).toBe(0);
  });
});

describe('parseRoadmap sections', () => {
  it('recognises tier headings in their usual spellings', () => {
    const md = ['## Tier 0', '**T0-1 · a**', '## tier 1 — Foundations', '**T1-1 · b**', '## T2', '**T2-1 · c**', '## TIER 3: polish', '**T3-1 · d**', '## **Tier 4** ##', '**T4-1 · e**'];
    const parsed = parseRoadmap(md.join('\n'));
    expect(parsed.items.map((item) => [item.id, item.tier])).toEqual([['T0-1', 0], ['T1-1', 1], ['T2-1', 2], ['T3-1', 3], ['T4-1', 4]]);
    expect(parsed.problems).toEqual([]);
  });

  it('ignores a Done list of bare ids and bold items in a Done section', () => {
    const md = '## Tier 0\n- **T0-1 · open**\n\n## Done\n- T0-101\n- T0-102\n- **T0-103 · shipped**\n  _done already_\n';
    expect(parseRoadmap(md)).toEqual({
      items: [{ id: 'T0-1', tier: 0, title: 'open', description: '', line: 2 }],
      problems: [],
    });
  });

  it('closes the tier section at any non-tier level-2 heading, but not at a sub-heading', () => {
    const md = '## Tier 1\n### Backend\n**T1-1 · kept**\n## Notes\n**T1-2 · not a task**\n## Tiers overview\n**T1-3 · nor this**\n';
    expect(ids(md)).toEqual(['T1-1']);
  });

  it('does not take items before the first heading, under a level-1 heading, or in code fences', () => {
    const md = '**T0-1 · preamble**\n## Tier 0\n```md\n**T0-2 · example**\n```\n<!--\n**T0-3 · commented out**\n-->\n**T0-4 · real**\n# Appendix\n**T0-5 · appendix**\n';
    expect(ids(md)).toEqual(['T0-4']);
  });

  it('warns when an unclosed code fence hides the rest of the file', () => {
    const parsed = parseRoadmap('## Tier 0\n**T0-1 · a**\n~~~\n**T0-2 · hidden**\n');
    expect(parsed.items.map((item) => item.id)).toEqual(['T0-1']);
    expect(parsed.problems).toEqual([{ line: 3, severity: 'warning', message: expect.stringContaining('never closed') }]);
  });
});

describe('parseRoadmap items', () => {
  it('accepts list markers, checkboxes, separators and trailing text', () => {
    const md = ['## Tier 1', '- **T1-1 · dot**', '* **T1-2 - hyphen**', '12. **T1-3 — em dash** (blocked)', '- [x] **T1-4: colon**', '  **T1-B10·tight**  '].join('\n');
    expect(parseRoadmap(md).items.map((item) => [item.id, item.title])).toEqual([
      ['T1-1', 'dot'], ['T1-2', 'hyphen'], ['T1-3', 'em dash'], ['T1-4', 'colon'], ['T1-B10', 'tight'],
    ]);
  });

  it('takes the tier from the id, letters included', () => {
    expect(parseRoadmap('## Tier 1\n**T1-B10 · pool**\n_x_').items[0]).toEqual({ id: 'T1-B10', tier: 1, title: 'pool', description: 'x', line: 2 });
  });

  it('warns about item-like lines it cannot parse instead of dropping them silently', () => {
    const parsed = parseRoadmap('## Tier 0\n**T0-1 missing separator**\n');
    expect(parsed.items).toEqual([]);
    expect(parsed.problems).toEqual([{ line: 2, severity: 'warning', message: expect.stringContaining('looks like a roadmap item') }]);
  });

  it('keeps the first of duplicate ids and reports the rest as errors', () => {
    const parsed = parseRoadmap('## Tier 0\n**T0-1 · first**\n_one_\n**T0-1 · second**\n_two_\n**T0-1 · third**\n');
    expect(parsed.items).toEqual([{ id: 'T0-1', tier: 0, title: 'first', description: 'one', line: 2 }]);
    expect(parsed.problems.map((p) => [p.line, p.severity])).toEqual([[4, 'error'], [6, 'error']]);
  });

  it('keeps an item whose id names another tier, with a warning', () => {
    const parsed = parseRoadmap('## Tier 2\n**T3-9 · misfiled**\n');
    expect(parsed.items[0]).toMatchObject({ id: 'T3-9', tier: 3 });
    expect(parsed.problems).toEqual([{ line: 2, severity: 'warning', message: expect.stringContaining('tier 2 heading') }]);
  });
});

describe('parseRoadmap descriptions', () => {
  const desc = (body: string) => parseRoadmap(`## Tier 0\n**T0-1 · t**\n${body}`).items[0]?.description;

  it('keeps underscores inside words and inside code spans', () => {
    expect(desc('_Rename snake_case_name via `do_it(a_b)` and ``x_`y`_z``._')).toBe('Rename snake_case_name via `do_it(a_b)` and ``x_`y`_z``.');
  });

  it('keeps asterisks inside code spans and nested bold in a *-description', () => {
    expect(desc('*Glob `src/**/*.ts`, then **stop***')).toBe('Glob `src/**/*.ts`, then **stop**');
  });

  it('lets a nested italic close before the outer one', () => {
    expect(desc('_See [_the guide_](https://x.dev/a_b_) first._')).toBe('See [_the guide_](https://x.dev/a_b_) first.');
  });

  it('ends at the closing marker and ignores text after it', () => {
    expect(desc('_short_ (ignored)\nnot part of it')).toBe('short');
  });

  it('joins lines with single spaces and trims them', () => {
    expect(desc('   _first line   \n      second line\n third_   ')).toBe('first line second line third');
  });

  it('allows a blank line between the item and its description', () => {
    expect(desc('\n_after a gap_')).toBe('after a gap');
  });

  it('falls back to the paragraph when the closing marker is missing', () => {
    const parsed = parseRoadmap('## Tier 0\n**T0-1 · t**\n_never closed\nstill going\n\nnext paragraph_\n**T0-2 · u**\n');
    expect(parsed.items.map((item) => item.description)).toEqual(['never closed still going', '']);
    expect(parsed.problems).toEqual([{ line: 3, severity: 'warning', message: expect.stringContaining('no closing italic') }]);
  });

  it('does not read the next item, a list or plain text as a description', () => {
    expect(desc('**T0-2 · next**\n_its own_')).toBe('');
    expect(desc('* a sub-bullet_')).toBe('');
    expect(desc('Plain text.')).toBe('');
    expect(parseRoadmap('## Tier 0\n**T0-1 · a**\n**T0-2 · b**\n_for b_').items.map((i) => i.description)).toEqual(['', 'for b']);
  });
});

describe('parseRoadmap input handling', () => {
  it('returns nothing for empty or heading-only input', () => {
    expect(parseRoadmap('')).toEqual({ items: [], problems: [] });
    expect(parseRoadmap('## Tier 0\n')).toEqual({ items: [], problems: [] });
  });

  it('parses CRLF (and a BOM) exactly like LF', () => {
    const lf = fixture('predecessor.md');
    expect(parseRoadmap(`\uFEFF${lf.replace(/\n/g, '\r\n')}`)).toEqual(parseRoadmap(lf));
    expect(parseRoadmap('## Tier 0\r\n**T0-1 · a**\r\n_multi\r\nline_\r\n').items[0].description).toBe('multi line');
  });

  it('never throws on arbitrary input', () => {
    const alphabet = ['#', '## Tier 1', '**', '*', '_', '`', '```', '\n', '\r\n', ' ', '·', 'T1-', 'B10', '[', '](', ')', '<!--', '-->', '\\', 'x'];
    let seed = 42;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8;
    for (let round = 0; round < 500; round++) {
      const input = Array.from({ length: next() % 200 }, () => alphabet[next() % alphabet.length]).join('');
      expect(() => parseRoadmap(input)).not.toThrow();
    }
    expect(() => parseRoadmap(undefined as unknown as string)).not.toThrow();
  });
});

describe('printRoadmap', () => {
  const items: RoadmapItem[] = [
    { id: 'T0-1', tier: 0, title: 'Skeleton', description: 'Layout, `tsconfig.json` and snake_case_names.', line: 0 },
    { id: 'T0-2', tier: 0, title: 'No description', description: '', line: 0 },
    { id: 'T1-B10', tier: 1, title: 'Worktree pool: one per agent', description: 'Ends in an underscore word like a_', line: 0 },
    { id: 'T3-7', tier: 3, title: 'Links · and dots', description: 'See [docs](https://x.dev/a_b) and `a_b*c`.', line: 0 },
  ];

  it('prints the canonical format', () => {
    expect(printRoadmap(items.slice(0, 2))).toBe(
      '## Tier 0\n\n**T0-1 · Skeleton**\n_Layout, `tsconfig.json` and snake_case_names._\n\n**T0-2 · No description**\n',
    );
    expect(printRoadmap([])).toBe('');
  });

  it('round-trips through parseRoadmap', () => {
    const parsed = parseRoadmap(printRoadmap(items));
    expect(withoutLine(parsed.items)).toEqual(withoutLine(items));
    expect(parsed.problems).toEqual([]);
  });

  it('round-trips the predecessor fixture items, sorted by tier', () => {
    const original = parseRoadmap(fixture('predecessor.md')).items;
    const sorted = [...original].sort((a, b) => a.tier - b.tier);
    expect(withoutLine(parseRoadmap(printRoadmap(original)).items)).toEqual(withoutLine(sorted));
  });

  it('refuses items that would not parse back unchanged', () => {
    const bad: RoadmapItem[] = [
      { id: 'X-1', tier: 0, title: 't', description: '', line: 0 },
      { id: 'T1-1', tier: 0, title: 't', description: '', line: 0 },
      { id: 'T0-1', tier: 0, title: 'has ** inside', description: '', line: 0 },
      { id: 'T0-1', tier: 0, title: 't', description: 'two\nlines', line: 0 },
      { id: 'T0-1', tier: 0, title: 't', description: 'both a_ and b* close', line: 0 },
    ];
    for (const item of bad) expect(() => printRoadmap([item]), item.id + item.title + item.description).toThrow(RoadmapError);
  });
});

describe('parseRoadmap: what oxi does not recognise is named, with the line and the expected form', () => {
  it('warns on a level-3 tier heading and a tier heading without a number', () => {
    const parsed = parseRoadmap('# R\n\n### Tier 0\n\n## Tier zero\n\n## Tier 1\n**T1-1 · ok**\n');
    expect(parsed.items.map((i) => i.id)).toEqual(['T1-1']);
    expect(parsed.problems).toEqual([
      { line: 3, severity: 'warning', message: 'Heading "### Tier 0" is level 3: tiers are level-2 headings, expected `## Tier 0`.' },
      { line: 5, severity: 'warning', message: 'Heading "## Tier zero" is not a tier oxi recognises: expected `## Tier <number>`, e.g. `## Tier 0`.' },
    ]);
  });

  it('warns on each item outside any tier (under the title, under an unknown heading), but not in a Done, Ideas or Backlog list', () => {
    const md = '# R\n**T0-1 · too early**\n## Ideas for later\n## Backlog-ish stuff\n**T0-2 · stray**\n## Done\n**T0-3 · shipped**\n## Tier 0\n**T0-4 · real**\n';
    const parsed = parseRoadmap(md);
    expect(parsed.items.map((i) => i.id)).toEqual(['T0-4']);
    expect(parsed.problems.map((p) => [p.line, p.severity])).toEqual([[2, 'warning']]);
    expect(parsed.problems[0].message).toContain('Item outside any tier, under "# R" (line 1); ignored. Expected it under a `## Tier <n>` heading, e.g. `## Tier 0`: **T0-1 · too early**');
    const unknown = parseRoadmap('## Milestone A\n**T0-2 · stray**\n## Tier 0\n**T0-4 · real**\n');
    expect(unknown.problems).toEqual([{ line: 2, severity: 'warning', message: expect.stringContaining('Item outside any tier, under "## Milestone A" (line 1)') }]);
  });

  it('rejects two ids that differ only in case: they would map to the same branch', () => {
    const parsed = parseRoadmap('## Tier 0\n**T0-abc · one**\n**T0-ABC · two**\n');
    expect(parsed.items.map((i) => i.id)).toEqual(['T0-abc']);
    expect(parsed.problems).toEqual([
      { line: 3, severity: 'error', message: 'T0-ABC and T0-abc (line 2) map to the same branch: ids must differ in more than letter case; T0-ABC ignored. Rename one of them.' },
    ]);
  });
});
