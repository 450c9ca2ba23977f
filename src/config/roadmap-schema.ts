/**
 * Where tasks come from: the markdown roadmap file (the default; a plain string is its path) or
 * GitHub Issues. Kept apart from schema.ts so each roadmap source reads as one unit.
 */
import { z } from 'zod';

/** `{number}` is the issue number; the rest must be valid in a task id (it names branches and folders). */
const ID_FORMAT = /^[A-Za-z0-9_-]*\{number\}[A-Za-z0-9_-]*$/;

export const markdownRoadmapSchema = z.strictObject({
  source: z.literal('markdown').describe('Items are read from a markdown file.'),
  path: z.string().min(1).default('ROADMAP.md').describe('The roadmap file (relative to the config file).'),
});

export const githubIssuesRoadmapSchema = z.strictObject({
  source: z.literal('github-issues').describe('Items are the open issues of `repo.forge` (which must be `github`) that carry the `include` labels.'),
  labels: z
    .strictObject({
      include: z.array(z.string().min(1)).min(1).default(['oxi']).describe('An issue becomes a task when it carries every one of these labels.'),
      tiers: z
        .record(z.string().min(1), z.int().min(0))
        .default({ 'tier-0': 0, 'tier-1': 1, 'tier-2': 2 })
        .describe('Label → tier. An issue with several tier labels takes the lowest tier; relabelling changes the tier of a task not yet dispatched.'),
    })
    .prefault({})
    .describe('Which issues are tasks, and their tiers.'),
  idFormat: z
    .string()
    .regex(ID_FORMAT, { error: 'a task id template containing {number}, e.g. "GH-{number}" (letters, digits, _ and - around it)' })
    .default('GH-{number}')
    .describe('Task id of an issue, `{number}` being its number; a title starting with a `T0-104`-style id uses that id instead.'),
  defaultTier: z.int().min(0).optional().meta({ description: 'Tier of an issue with no tier label.', defaultText: 'the highest tier in labels.tiers' }),
});

/** The three forms, without a default (a `repos` entry that omits its roadmap takes the top-level one). */
export const roadmapForms = z.union([z.string().min(1), markdownRoadmapSchema, githubIssuesRoadmapSchema]);

export const roadmapSchema = roadmapForms
  .default('ROADMAP.md')
  .describe('The roadmap: a markdown file path (relative to the config file), `{ source: "markdown", path }`, or `{ source: "github-issues", labels: { include, tiers }, idFormat }` (docs/roadmap-sources.md).');

export type GithubIssuesRoadmapConfig = z.output<typeof githubIssuesRoadmapSchema>;
/** The resolved roadmap source: a markdown file (absolute path) or GitHub Issues. */
export type RoadmapSourceConfig = { source: 'markdown'; path: string } | GithubIssuesRoadmapConfig;
