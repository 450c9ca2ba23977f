/**
 * Prompt templates, all in one place; an adapter may override any of them.
 * `{{name}}` placeholders are filled from the facts given.
 */
export const defaultPrompts = {
  planner: `You are planning one roadmap item of the project.
Item {{taskId}}: {{title}}
{{description}}

Files in the repository (first 300):
{{files}}

Lessons from earlier tasks (may be empty):
{{memory}}

Answer with JSON only: {"files_touched": [paths], "tests": [test names or commands], "dependencies": [task ids], "risk": "low|medium|high", "summary": "..."}`,
  worker: `Implement roadmap item {{taskId}}: {{title}}
{{description}}

Plan: {{plan}}
{{feedback}}
Work only on the files of the plan. Add or update tests. Commit your change on the current branch.`,
  critic: `Review this change against its plan. Reject anything outside the plan's files, anything touching sensitive paths, empty diffs, and missing tests.
Scope policy: {{scope}}
Plan: {{plan}}
Diff:
{{diff}}

Answer with JSON only: {"verdict": "approve" | "reject", "reasons": ["..."]}`,
} as const;

export type PromptName = keyof typeof defaultPrompts;

export function renderPrompt(template: string, facts: Record<string, unknown>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = facts[key];
    if (value === undefined || value === null) return '';
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}

/** The adapter's template for a role when it overrides one, else the built-in. */
export function templateFor(overrides: Partial<Record<PromptName, string | undefined>> | undefined, name: PromptName): string {
  return overrides?.[name] ?? defaultPrompts[name];
}
