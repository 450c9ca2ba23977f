/**
 * The roadmap-source port: where tasks come from. The markdown file is the default
 * (actors/roadmap/markdown-source.ts); GitHub Issues is the other (actors/roadmap/github-issues.ts).
 * The seeder reads it each tick; the PR effects tell it about PRs and merges so it can link and close.
 */
import type { RoadmapProblem } from './parse.js';

export interface SourceItem {
  id: string;
  tier: number;
  title: string;
  description: string;
}

export interface SourceRead {
  /** Open items, in the source's order (file order; issue number order). */
  items: SourceItem[];
  /** Items of `active` tasks a human closed at the source (an issue closed): their tasks are abandoned. */
  closed: Array<{ id: string; reason: string }>;
  problems: RoadmapProblem[];
  /** Whether the source said nothing changed since the last read (a 304): no rate limit spent. */
  unchanged?: boolean;
}

export interface NewItem {
  tier: number;
  title: string;
  description: string;
  /** A `T<tier>-<n>` id; omitted, the source picks one (the next free id; the issue number). */
  id?: string;
}

export interface AddedItem {
  id: string;
  /** Where it went: the file, or the web address. */
  where: string;
}

export interface RoadmapSource {
  readonly kind: 'markdown' | 'github-issues';
  /** What `oxi doctor`, `oxi roadmap` and errors name: the file, or owner/name issues with their labels. */
  readonly where: string;
  /** The open items; `active` are the ids of tasks not yet merged or abandoned (the source reports which it closed). */
  read(active: string[]): Promise<SourceRead>;
  /** Adds one well-formed item (validated by the parser; a labelled issue). */
  add(item: NewItem): Promise<AddedItem>;
  /** Lines the task's PR body carries for the source (`Closes #123`), or ''. */
  prBody(taskId: string): Promise<string>;
  /** The task's PR is open: the source links it (an issue comment), once however often it is told. Returns whether it wrote. */
  prOpened(taskId: string, pr: { number: number; url?: string }): Promise<boolean>;
  /** The task merged: the source closes its item (the issue) if still open. Returns whether it closed one. */
  merged(taskId: string, pr: number | null): Promise<boolean>;
}
