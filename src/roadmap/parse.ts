/**
 * Roadmap parser: turns the predecessor roadmap markdown into task items.
 *
 * Format: `## Tier N` sections hold items written as a bold `**T{tier}-{id} · {title}**` line,
 * followed by an italic `_description_` that may span several lines. A "Done" or "Notes" section is
 * skipped; an item anywhere else outside a tier, and a heading meant as a tier that is not one
 * (`### Tier 0`, `## Tier zero`), is a warning. Pure and total: never throws, problems are returned.
 */

export interface RoadmapItem {
  id: string;
  tier: number;
  title: string;
  description: string;
  /** 1-based line of the bold item line. */
  line: number;
}

export interface RoadmapProblem {
  line: number;
  message: string;
  severity: 'error' | 'warning';
}

export interface ParsedRoadmap {
  items: RoadmapItem[];
  problems: RoadmapProblem[];
}

// Optional list marker and task checkbox, then the bold id, an optional separator + title, and the closing `**`.
// The title is trimmed afterwards: whitespace around it in the pattern would backtrack quadratically on long lines.
const ITEM_RE =
  /^\s*(?:(?:[-*+]|\d{1,9}[.)])\s+)?(?:\[[ xX]\]\s+)?\*\*\s*(T(\d+)-[A-Za-z0-9]+)(?:(?:\s*[·—–:]|\s+-\s)(.*?)|\s*)\*\*/s;
// Same prefix, loosely: catches item lines with a typo so they are reported instead of silently dropped.
const ITEMISH_RE = /^\s*(?:(?:[-*+]|\d{1,9}[.)])\s+)?(?:\[[ xX]\]\s+)?\*\*\s*T\d+-/i;
const HEADING_RE = /^ {0,3}(#{1,6})(?:[ \t]+(.*))?$/s;
// `(?!\w|-\w)` keeps `## T2-43 · title` (an item id used as a heading) from naming tier 2.
const TIER_HEADING_RE = /^(?:tier[\s_-]*|t)(\d+)(?!\w|-\w)/i;
// Sections whose bold items are deliberately not tasks (shipped work, notes): skipped without a warning.
const QUIET_SECTION_RE = /^(done|notes?|ideas?|archive[sd]?|shipped|completed|changelog|history|later|backlog)\b/i;
const FENCE_RE = /^ {0,3}(`{3,}|~{3,})/;
const LIST_MARKER_RE = /^\s*(?:[-+*]|\d{1,9}[.)])\s+/;
const WHITESPACE_RE = /\s/;
const PUNCTUATION_RE = /[\p{P}\p{S}]/u;
const MAX_LINK_DESTINATION = 2048;

export function parseRoadmap(markdown: string): ParsedRoadmap {
  try {
    return parseLines(typeof markdown === 'string' ? markdown : '');
  } catch (cause) {
    // Defensive only: the parser is written not to throw, but callers rely on it being total.
    return { items: [], problems: [{ line: 1, message: `Roadmap parser failed: ${String(cause)}`, severity: 'error' }] };
  }
}

function parseLines(markdown: string): ParsedRoadmap {
  const lines = markdown.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const items: RoadmapItem[] = [];
  const problems: RoadmapProblem[] = [];
  const firstLineOf = new Map<string, { id: string; line: number }>();
  let sectionTier: number | null = null;
  let section: { line: number; text: string; quiet: boolean } = { line: 0, text: '', quiet: false };
  let fence: string | null = null;
  let inComment = false;
  let blockStart = 0;

  for (let i = 0; i < lines.length; i++) {
    const text = lines[i];
    const lineNo = i + 1;

    // Items shown in code examples or commented out are not tasks.
    if (fence !== null) {
      const close = FENCE_RE.exec(text);
      if (close && close[1][0] === fence[0] && close[1].length >= fence.length && text.trim() === close[1]) fence = null;
      continue;
    }
    if (inComment) {
      if (text.includes('-->')) inComment = false;
      continue;
    }
    const open = FENCE_RE.exec(text);
    if (open) {
      fence = open[1];
      blockStart = lineNo;
      continue;
    }
    if (text.trimStart().startsWith('<!--') && !text.includes('-->')) {
      inComment = true;
      blockStart = lineNo;
      continue;
    }

    const heading = HEADING_RE.exec(text);
    if (heading) {
      const level = heading[1].length;
      const title = (heading[2] ?? '').trim();
      // Level 1 closes a tier section too; level 3+ are sub-headings inside the current section.
      if (level <= 2) {
        sectionTier = level === 2 ? tierOfHeading(title) : null;
        section = { line: lineNo, text: text.trim(), quiet: level === 2 && QUIET_SECTION_RE.test(title.replace(/^[*_\s]+/, '')) };
      }
      const odd = oddHeading(level, title, lineNo, text.trim());
      if (odd) problems.push(odd);
      continue;
    }
    if (sectionTier === null) {
      // A Done or Notes list is meant to be skipped; an item anywhere else outside a tier is a mistake to name.
      if (!section.quiet && ITEMISH_RE.test(text)) {
        const where = section.line ? `under "${section.text}" (line ${section.line})` : 'before any tier heading';
        problems.push({ line: lineNo, severity: 'warning', message: `Item outside any tier, ${where}; ignored. Expected it under a \`## Tier <n>\` heading, e.g. \`## Tier 0\`: ${text.trim()}` });
      }
      continue;
    }

    const match = ITEM_RE.exec(text);
    if (!match) {
      if (ITEMISH_RE.test(text)) {
        problems.push({
          line: lineNo,
          message: `Line looks like a roadmap item but is not "**T<tier>-<id> · <title>**": ${text.trim()}`,
          severity: 'warning',
        });
      }
      continue;
    }

    i = readItem(lines, i, match, sectionTier, firstLineOf, items, problems);
  }
  // An unclosed fence or comment hides everything after it: say so rather than lose items silently.
  if (fence !== null || inComment) {
    const what = fence !== null ? 'Code fence' : 'HTML comment';
    problems.push({ line: blockStart, message: `${what} opened here is never closed; the rest of the file was ignored.`, severity: 'warning' });
  }
  return { items, problems };
}

/**
 * One matched item line and the description under it: pushes the item (or the problem that rejects it).
 * Returns the index of the last line it consumed, so the caller's loop resumes after the description.
 */
function readItem(
  lines: string[],
  i: number,
  match: RegExpExecArray,
  sectionTier: number,
  firstLineOf: Map<string, { id: string; line: number }>,
  items: RoadmapItem[],
  problems: RoadmapProblem[],
): number {
  const lineNo = i + 1;
  const [, id, tierDigits, rawTitle] = match;
  const tier = Number.parseInt(tierDigits, 10);
  const title = (rawTitle ?? '').trim();
  const desc = readDescription(lines, i + 1);
  if (desc.unclosedAt !== null) {
    problems.push({
      line: desc.unclosedAt,
      message: `Description of ${id} has no closing italic marker; took the text up to the end of its paragraph.`,
      severity: 'warning',
    });
  }

  // Keyed by the lower-cased id: T0-abc and T0-ABC would share a branch on a case-insensitive file system.
  const first = firstLineOf.get(id.toLowerCase());
  if (first !== undefined) {
    const message = first.id === id
      ? `Duplicate id ${id} (first defined on line ${first.line}); ignored.`
      : `${id} and ${first.id} (line ${first.line}) map to the same branch: ids must differ in more than letter case; ${id} ignored. Rename one of them.`;
    problems.push({ line: lineNo, message, severity: 'error' });
    return desc.nextIndex - 1;
  }
  firstLineOf.set(id.toLowerCase(), { id, line: lineNo });
  if (tier !== sectionTier) {
    problems.push({
      line: lineNo,
      message: `${id} belongs to tier ${tier} by its id but sits under the tier ${sectionTier} heading; kept as tier ${tier}.`,
      severity: 'warning',
    });
  }
  if (title === '') problems.push({ line: lineNo, message: `${id} has no title.`, severity: 'warning' });
  items.push({ id, tier, title, description: desc.text, line: lineNo });
  return desc.nextIndex - 1;
}

/**
 * A heading that looks meant as a tier but is not one oxi reads: `### Tier 0` (wrong level) or
 * `## Tier zero` (no number). A warning with the expected form; the lines under it are not a tier.
 */
function oddHeading(level: number, title: string, line: number, text: string): RoadmapProblem | undefined {
  const bare = title.replace(/^[*_\s]+/, '');
  if (level === 2 && tierOfHeading(title) === null && /^tier\b/i.test(bare)) {
    return { line, severity: 'warning', message: `Heading "${text}" is not a tier oxi recognises: expected \`## Tier <number>\`, e.g. \`## Tier 0\`.` };
  }
  if (level !== 2 && tierOfHeading(title) !== null && /^tier/i.test(bare)) {
    return { line, severity: 'warning', message: `Heading "${text}" is level ${level}: tiers are level-2 headings, expected \`## ${bare}\`.` };
  }
  return undefined;
}

function tierOfHeading(heading: string): number | null {
  // Tolerates emphasis around the heading text, e.g. `## **Tier 1** — Foundations`.
  const match = TIER_HEADING_RE.exec(heading.trim().replace(/^[*_\s]+/, ''));
  if (!match) return null;
  const tier = Number.parseInt(match[1], 10);
  return Number.isSafeInteger(tier) ? tier : null;
}

interface Description {
  text: string;
  /** Index of the first line after the description (where the caller resumes). */
  nextIndex: number;
  /** 1-based line where an unclosed description starts, or null. */
  unclosedAt: number | null;
}

/** Reads the italic description that starts on the first non-blank line at or after `start`, if any. */
function readDescription(lines: string[], start: number): Description {
  let first = start;
  while (first < lines.length && lines[first].trim() === '') first++;
  const none: Description = { text: '', nextIndex: start, unclosedAt: null };
  if (first >= lines.length) return none;
  const opening = lines[first].trim();
  const marker = opening[0];
  // `**` is bold (likely the next item) and `* ` is a list marker: neither opens an italic description.
  if ((marker !== '_' && marker !== '*') || opening[1] === marker || (marker === '*' && WHITESPACE_RE.test(opening[1] ?? ' '))) {
    return none;
  }

  // The paragraph: the opening line plus following lines up to a blank line or a new block.
  const paragraph = [opening];
  let end = first + 1;
  while (end < lines.length && !endsParagraph(lines[end])) paragraph.push(lines[end++].trim());

  const text = paragraph.join('\n');
  const close = findItalicClose(text, marker);
  if (close === -1) {
    return { text: joinLines(text.slice(1)), nextIndex: end, unclosedAt: first + 1 };
  }
  const closeLine = first + countNewlines(text, close);
  return { text: joinLines(text.slice(1, close)), nextIndex: closeLine + 1, unclosedAt: null };
}

function endsParagraph(line: string): boolean {
  return (
    line.trim() === '' ||
    HEADING_RE.test(line) ||
    FENCE_RE.test(line) ||
    ITEMISH_RE.test(line) ||
    LIST_MARKER_RE.test(line) ||
    line.trimStart().startsWith('<!--')
  );
}

function joinLines(text: string): string {
  return text.split('\n').join(' ').trim();
}

function countNewlines(text: string, upTo: number): number {
  let count = 0;
  for (let i = 0; i < upTo; i++) if (text[i] === '\n') count++;
  return count;
}

/**
 * Index of the delimiter run that closes the italic opened by `text[0]`, or -1.
 * Follows CommonMark's flanking rules (so `snake_case` never closes), skips escapes, code spans,
 * link destinations and autolinks, and lets nested emphasis of the same marker close first.
 */
function findItalicClose(text: string, marker: string): number {
  const openers: number[] = [];
  const unmatchedTicks = new Set<number>();
  let i = 1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\\') {
      i += 2;
    } else if (ch === '`') {
      i = skipCodeSpan(text, i, unmatchedTicks);
    } else if (ch === ']' && text[i + 1] === '(') {
      i = skipLinkDestination(text, i + 1);
    } else if (ch === '<') {
      const autolink = /^<[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*>/.exec(text.slice(i, i + MAX_LINK_DESTINATION));
      i += autolink ? autolink[0].length : 1;
    } else if (ch === marker) {
      let runEnd = i;
      while (text[runEnd] === marker) runEnd++;
      const before = i === 0 ? '\n' : text[i - 1];
      const after = runEnd >= text.length ? '\n' : text[runEnd];
      const { canOpen, canClose } = flanking(marker, before, after);
      if (canClose) {
        let remaining = runEnd - i;
        while (remaining > 0 && openers.length > 0) {
          const top = openers.pop() as number;
          const used = Math.min(top, remaining);
          remaining -= used;
          if (top > used) openers.push(top - used);
        }
        if (remaining > 0) return runEnd - remaining;
      } else if (canOpen) {
        openers.push(runEnd - i);
      }
      i = runEnd;
    } else {
      i++;
    }
  }
  return -1;
}

function flanking(marker: string, before: string, after: string): { canOpen: boolean; canClose: boolean } {
  const beforeSpace = WHITESPACE_RE.test(before);
  const afterSpace = WHITESPACE_RE.test(after);
  const beforePunct = PUNCTUATION_RE.test(before);
  const afterPunct = PUNCTUATION_RE.test(after);
  const left = !afterSpace && (!afterPunct || beforeSpace || beforePunct);
  const right = !beforeSpace && (!beforePunct || afterSpace || afterPunct);
  if (marker === '*') return { canOpen: left, canClose: right };
  // Underscores inside words (`snake_case_name`) neither open nor close.
  return { canOpen: left && (!right || beforePunct), canClose: right && (!left || afterPunct) };
}

/**
 * Skips a code span starting at the backtick run at `start`; an unmatched run is literal text.
 * `unmatched` remembers run lengths with no closer further on, which keeps the scan from going quadratic.
 */
function skipCodeSpan(text: string, start: number, unmatched: Set<number>): number {
  let runEnd = start;
  while (text[runEnd] === '`') runEnd++;
  const length = runEnd - start;
  if (unmatched.has(length)) return runEnd;
  let j = runEnd;
  while (j < text.length) {
    if (text[j] !== '`') {
      j++;
      continue;
    }
    let k = j;
    while (text[k] === '`') k++;
    if (k - j === length) return k;
    j = k;
  }
  unmatched.add(length);
  return runEnd;
}

/** Skips `(destination)` after a link's `]`, balancing parentheses; returns the index after `)`. */
function skipLinkDestination(text: string, open: number): number {
  let depth = 0;
  // Bounded so that many unclosed `](` cannot make the scan quadratic.
  const limit = Math.min(text.length, open + MAX_LINK_DESTINATION);
  for (let j = open; j < limit; j++) {
    const ch = text[j];
    if (ch === '\\') j++;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return j + 1;
    else if (ch === '\n') break;
  }
  return open;
}
