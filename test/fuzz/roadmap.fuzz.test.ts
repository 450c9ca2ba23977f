import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RoadmapError } from '../../src/errors.js';
import { parseRoadmap, type RoadmapItem } from '../../src/roadmap/parse.js';
import { printRoadmap } from '../../src/roadmap/print.js';
import { announceSeed, fuzzParams, markdownish } from './settings.js';

announceSeed('roadmap');

const comparable = (items: RoadmapItem[]) => items.map(({ id, tier, title, description }) => ({ id, tier, title, description }));

/** Items as a user would write them: valid ids, text with the characters the format is sensitive to. */
const text = (max: number) =>
  fc
    .array(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('_', '*', '**', '`', ' ', '·', 'x_y', '(a)', '[b]', 'é', '\\')), { maxLength: max })
    .map((p) => p.join(''));
const item = fc.record({
  tier: fc.integer({ min: 0, max: 9 }),
  suffix: fc.stringMatching(/^[A-Za-z0-9]{1,6}$/),
  title: text(6),
  description: text(10),
});
const items = fc.uniqueArray(item, { selector: (i) => `T${i.tier}-${i.suffix}`, maxLength: 12 }).map((xs) =>
  xs.map((x, n): RoadmapItem => ({ id: `T${x.tier}-${x.suffix}`, tier: x.tier, title: x.title, description: x.description, line: n + 1 })),
);

/** A roadmap-shaped document with noise mixed in: exercises the accepting paths, not only rejection. */
const roadmapDoc = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0, max: 5 }).map((t) => `## Tier ${t}`),
      fc.tuple(fc.integer({ min: 0, max: 5 }), fc.stringMatching(/^[A-Za-z0-9]{1,4}$/), text(4)).map(([t, id, title]) => `**T${t}-${id} · ${title}**`),
      text(8).map((d) => `_${d}_`),
      markdownish,
    ),
    { maxLength: 20 },
  )
  .map((lines) => lines.join('\n'));

describe('roadmap parser under fuzzing', () => {
  it('never throws; every problem names a line inside the file and says what is wrong', () => {
    fc.assert(
      fc.property(fc.oneof(markdownish, roadmapDoc), (md) => {
        const parsed = parseRoadmap(md);
        const lines = md.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/).length;
        for (const p of parsed.problems) {
          expect(p.line).toBeGreaterThanOrEqual(1);
          expect(p.line).toBeLessThanOrEqual(lines);
          expect(p.message.trim().length).toBeGreaterThan(10);
          expect(p.message).not.toMatch(/parser failed/);
        }
        for (const i of parsed.items) {
          expect(i.id).toMatch(/^T\d+-[A-Za-z0-9]+$/);
          expect(i.id.startsWith(`T${i.tier}-`)).toBe(true);
        }
        expect(new Set(parsed.items.map((i) => i.id)).size).toBe(parsed.items.length);
      }),
      fuzzParams(),
    );
  });

  it('print → parse gives the same items, or printing refuses with a RoadmapError that says how to fix it', () => {
    fc.assert(
      fc.property(items, (xs) => {
        let printed: string;
        try {
          printed = printRoadmap(xs);
        } catch (error) {
          expect(error).toBeInstanceOf(RoadmapError);
          expect((error as RoadmapError).message).toMatch(/cannot be printed/);
          expect((error as RoadmapError).fix).toBeTruthy();
          return;
        }
        const back = parseRoadmap(printed);
        expect(back.problems.filter((p) => p.severity === 'error')).toEqual([]);
        const byTier = [...xs].sort((a, b) => a.tier - b.tier);
        expect(comparable(back.items)).toEqual(comparable(byTier));
      }),
      fuzzParams(),
    );
  });

  it('parse → print → parse is stable on whatever the parser accepted', () => {
    fc.assert(
      fc.property(fc.oneof(markdownish, roadmapDoc), (md) => {
        const first = parseRoadmap(md).items;
        let printed: string;
        try {
          printed = printRoadmap(first);
        } catch (error) {
          expect(error).toBeInstanceOf(RoadmapError);
          return;
        }
        const second = parseRoadmap(printed).items;
        expect(comparable(second)).toEqual(comparable([...first].sort((a, b) => a.tier - b.tier)));
        expect(printRoadmap(second)).toBe(printed);
      }),
      fuzzParams(),
    );
  });
});
