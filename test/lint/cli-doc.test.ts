/** docs/cli.md documents every command and every option the CLI has. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { oxi, ROOT } from '../helpers/project.js';

const doc = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');

function commands(): string[] {
  const help = oxi(['--help']).stdout;
  const section = help.slice(help.indexOf('Commands:'));
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]).filter((c) => c !== 'help');
}

describe('docs/cli.md', () => {
  it('has a section for every command, naming each of its options', () => {
    const missing: string[] = [];
    const cmds = commands();
    expect(cmds.length).toBeGreaterThan(10);
    for (const cmd of cmds) {
      const start = doc.indexOf(`### oxi ${cmd}\n`);
      if (start < 0) {
        missing.push(`no "### oxi ${cmd}" section`);
        continue;
      }
      const end = doc.indexOf('\n### ', start + 1);
      const section = doc.slice(start, end < 0 ? undefined : end);
      const options = [...oxi([cmd, '--help']).stdout.matchAll(/^ {2}(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1]).filter((o) => o !== '--help');
      for (const o of options) if (!section.includes(o)) missing.push(`oxi ${cmd}: ${o} not documented`);
    }
    expect(missing).toEqual([]);
  });
});
