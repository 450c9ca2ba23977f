/** docs/cli.md documents every command and every option the CLI has. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { ROOT } from '../helpers/project.js';

const doc = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');

describe('docs/cli.md', () => {
  // The program the binary runs, read in this process: one node start per command would cost a minute under load.
  it('has a section for every command, naming each of its options', () => {
    const missing: string[] = [];
    const cmds = buildProgram(() => undefined).commands;
    expect(cmds.length).toBeGreaterThan(10);
    for (const cmd of cmds) {
      const start = doc.indexOf(`### oxi ${cmd.name()}\n`);
      if (start < 0) {
        missing.push(`no "### oxi ${cmd.name()}" section`);
        continue;
      }
      const end = doc.indexOf('\n### ', start + 1);
      const section = doc.slice(start, end < 0 ? undefined : end);
      const options = cmd.options.map((o) => o.long).filter((o): o is string => o !== undefined && o !== '--help');
      for (const o of options) if (!section.includes(o)) missing.push(`oxi ${cmd.name()}: ${o} not documented`);
    }
    expect(missing).toEqual([]);
  });
});
