/** How the CLI words its own errors (one prefix, the fix under the message). */

/** `oxi: <message>` once: messages that already name their command (`oxi init: …`) keep it without a second prefix. */
export function errorLines(message: string, fix?: string): string {
  const text = /^oxi[ :]/.test(message) ? message : `oxi: ${message}`;
  return `${text}\n${fix ? `  fix: ${fix}\n` : ''}`;
}

/** The reply to `oxi <typo>`: what came, what exists, and where the full help is. */
export function unknownCommandLines(name: string, commands: readonly string[], suggestion?: string): string {
  const known = commands.filter((c) => c !== 'help');
  return [
    `oxi: unknown command ${name}${suggestion ? ` (did you mean ${suggestion.replace(/'/g, '')}?)` : ''}`,
    `  commands: ${known.join(', ')}`,
    '  fix: oxi --help describes each command; oxi <command> --help shows its options.',
    '',
  ].join('\n');
}

/** Commander's own usage errors (`error: missing required argument …`) in the house form. */
export function usageLines(text: string): string {
  return `${text.trim().replace(/^error: /, 'oxi: ')}\n  fix: oxi <command> --help shows its arguments and options.\n`;
}
