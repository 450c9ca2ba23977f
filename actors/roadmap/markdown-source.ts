/** The default roadmap source: the markdown file (src/roadmap/parse.ts reads it, append.ts writes one item). */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { RoadmapError } from '../../src/errors.js';
import { appendItem } from '../../src/roadmap/append.js';
import { parseRoadmap } from '../../src/roadmap/parse.js';
import type { AddedItem, NewItem, RoadmapSource, SourceRead } from '../../src/roadmap/source.js';

export class MarkdownRoadmapSource implements RoadmapSource {
  readonly kind = 'markdown';

  constructor(private readonly path: string) {}

  get where(): string {
    return this.path;
  }

  private text(): string {
    try {
      return readFileSync(this.path, 'utf8');
    } catch (cause) {
      throw new RoadmapError(`Could not read the roadmap at ${this.path}: ${(cause as Error).message}`, {
        fix: 'Create it, or set `roadmap` in the adapter to the right path.',
      });
    }
  }

  async read(): Promise<SourceRead> {
    const parsed = parseRoadmap(this.text());
    // A file has no "closed": an item deleted from it is only missing (its task is kept).
    return { items: parsed.items.map(({ id, tier, title, description }) => ({ id, tier, title, description })), closed: [], problems: parsed.problems };
  }

  async add(item: NewItem): Promise<AddedItem> {
    const { text, id } = appendItem(this.text(), item);
    // Written beside and renamed: a reader (the seeder) never sees half a file.
    const tmp = `${this.path}.oxi-tmp-${process.pid}`;
    writeFileSync(tmp, text);
    renameSync(tmp, this.path);
    return { id, where: this.path };
  }

  async prBody(): Promise<string> {
    return '';
  }

  async prOpened(): Promise<boolean> {
    return false;
  }

  async merged(): Promise<boolean> {
    return false;
  }
}
