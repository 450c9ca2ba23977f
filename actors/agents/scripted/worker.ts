/**
 * The scripted agent worker: oxi's embedded STAND-IN for a coding agent (Claude Code / Codex), used offline,
 * in tests and in the demo. It does what a script file says — write these files, commit, or misbehave —
 * and prints claude-style stream-json on stdout so the engine handles it exactly like `claude -p`.
 *
 *   node dist/actors/agents/scripted/worker.js --task <id> --script <json file> --cwd <worktree> [--attempt N] [--fix N] [--prompt TEXT]
 *
 * Behaviours: ok, slow, hang, crash, uncommitted, garbage, fail_first (crash when --attempt is 1, ok after).
 * On --fix N ≥ 1 it runs the task's fix step N (its own files), as an agent fixes what the feedback in its prompt says.
 * See docs/scripted-agent.md.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadScript, resolveTask, type ResolvedTask, type Script } from './script.js';

const TICK_MS = 200;
const GIT_IDENTITY = ['-c', 'user.name=oxi-agent', '-c', 'user.email=agent@localhost', '-c', 'commit.gpgsign=false'];

interface Args {
  task: string;
  script: string;
  cwd: string;
  attempt: number;
  /** 0: a first attempt; N: the Nth fix after feedback. */
  fix: number;
  /** The prompt, as `claude -p` gets it; absent when the worker is run by hand. */
  prompt?: string;
}

function parseCli(): Args {
  const usage = 'usage: worker.js --task <id> --script <json file> --cwd <worktree> [--attempt N] [--fix N] [--prompt TEXT]';
  try {
    const { values } = parseArgs({
      options: { task: { type: 'string' }, script: { type: 'string' }, cwd: { type: 'string' }, attempt: { type: 'string' }, fix: { type: 'string' }, prompt: { type: 'string' } },
      strict: true,
    });
    const attempt = values.attempt === undefined ? 1 : Number(values.attempt);
    const fix = values.fix === undefined ? 0 : Number(values.fix);
    if (!values.task || !values.script || !values.cwd || !Number.isInteger(attempt) || attempt < 1 || !Number.isInteger(fix) || fix < 0) {
      throw new Error('--task, --script and --cwd are required; --attempt must be an integer ≥ 1 and --fix an integer ≥ 0');
    }
    return { task: values.task, script: values.script, cwd: resolve(values.cwd), attempt, fix, ...(values.prompt !== undefined ? { prompt: values.prompt } : {}) };
  } catch (error) {
    process.stderr.write(`scripted-agent: ${(error as Error).message}\n${usage}\n`);
    process.exit(2);
  }
}

/** Writes claude stream-json events (shapes from shared/reference/agent-streams.md). */
class Emitter {
  readonly sessionId = randomUUID();
  turns = 0;
  private readonly started = Date.now();

  emit(event: Record<string, unknown>): void {
    process.stdout.write(`${JSON.stringify({ ...event, session_id: this.sessionId, uuid: randomUUID() })}\n`);
  }

  init(cwd: string): void {
    this.emit({ type: 'system', subtype: 'init', cwd, model: 'scripted', tools: ['Write', 'Bash'], mcp_servers: [], permissionMode: 'default', apiKeySource: 'none' });
  }

  /** The prompt the session was started with, replayed as a user turn (as claude's --replay-user-messages does). */
  prompt(text: string): void {
    this.emit({ type: 'user', message: { role: 'user', content: text }, parent_tool_use_id: null });
  }

  /** One assistant turn: a line of text and optionally a tool call. */
  assistant(text: string, tool?: { name: string; input: Record<string, unknown> }): void {
    this.turns += 1;
    const content: unknown[] = [{ type: 'text', text }];
    if (tool) content.push({ type: 'tool_use', id: `toolu_scripted_${this.turns}`, name: tool.name, input: tool.input });
    this.emit({
      type: 'assistant',
      message: { id: `msg_scripted_${this.turns}`, type: 'message', role: 'assistant', model: 'scripted', content, stop_reason: null, usage: { input_tokens: 100, output_tokens: 10 } },
      parent_tool_use_id: null,
    });
    if (tool) {
      this.emit({
        type: 'user',
        message: { role: 'user', content: [{ tool_use_id: `toolu_scripted_${this.turns}`, type: 'tool_result', content: 'ok', is_error: false }] },
        parent_tool_use_id: null,
      });
    }
  }

  success(summary: string, task: ResolvedTask, outputChars: number): void {
    this.emit({
      type: 'result', subtype: 'success', is_error: false, api_error_status: null,
      duration_ms: Date.now() - this.started, num_turns: this.turns, result: summary, stop_reason: 'end_turn',
      total_cost_usd: task.costUsd,
      usage: { input_tokens: 100 * Math.max(1, this.turns), output_tokens: Math.ceil(outputChars / 4), cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      permission_denials: [], terminal_reason: 'completed',
    });
  }

  failure(message: string): void {
    this.emit({
      type: 'result', subtype: 'error_during_execution', is_error: true, duration_ms: Date.now() - this.started,
      num_turns: this.turns, stop_reason: null, total_cost_usd: 0, usage: { input_tokens: 0, output_tokens: 0 },
      permission_denials: [], errors: [message],
    });
  }
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

function git(cwd: string, args: string[]): string {
  try {
    return execFileSync('git', [...GIT_IDENTITY, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`git ${args[0]} failed in ${cwd}: ${stderr || (error as Error).message}`);
  }
}

/** True when the index differs from HEAD (or there is no HEAD yet and something is staged). */
function hasStagedChanges(cwd: string): boolean {
  try {
    execFileSync('git', ['diff', '--cached', '--quiet'], { cwd, stdio: 'ignore' });
    return false;
  } catch (error) {
    if ((error as { status?: number }).status === 1) return true;
    throw new Error(`git diff --cached failed in ${cwd}: ${(error as Error).message}`);
  }
}

/** ok / slow / uncommitted: progress, write, maybe commit, success result. */
async function work(out: Emitter, args: Args, task: ResolvedTask, commit: boolean): Promise<void> {
  const paths = Object.keys(task.files);
  const what = args.fix > 0 ? `fix ${args.fix} of ${args.task}` : `Task ${args.task}`;
  out.assistant(`${what}: I will write ${paths.length} file(s): ${paths.join(', ') || '(none)'}.`);
  // Why: a steady trickle of events lets the engine's deadman see a live, progressing worker.
  const ticks = Math.ceil(task.delayMs / TICK_MS);
  for (let i = 1; i <= ticks; i++) {
    await sleep(Math.min(TICK_MS, task.delayMs - (i - 1) * TICK_MS));
    out.assistant(`Working on ${args.task} (${i}/${ticks})…`);
  }

  let outputChars = 0;
  for (const path of paths) {
    const target = resolve(args.cwd, path);
    const rel = relative(args.cwd, target);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new Error(`refusing to write ${path}: outside the worktree ${args.cwd}`);
    const content = task.files[path];
    out.assistant(`Writing ${path} (${Buffer.byteLength(content)} bytes).`, { name: 'Write', input: { file_path: target, bytes: Buffer.byteLength(content) } });
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    outputChars += content.length;
  }

  let summary = `Wrote ${paths.length} file(s) for ${args.task}`;
  if (commit && paths.length > 0) {
    git(args.cwd, ['add', '--', ...paths]);
    if (hasStagedChanges(args.cwd)) {
      out.assistant('Committing the change.', { name: 'Bash', input: { command: `git commit -m ${JSON.stringify(task.commitMessage)}` } });
      git(args.cwd, ['commit', '-q', '-m', task.commitMessage]);
      summary += ` and committed ${git(args.cwd, ['rev-parse', '--short', 'HEAD']).trim()}: ${task.commitMessage}`;
    } else {
      summary += '; nothing changed, so nothing was committed';
    }
  } else {
    summary += ' (not committed)';
  }
  out.success(`${summary}.`, task, outputChars);
}

function printGarbage(): void {
  process.stdout.write('Segmentation fault (not really): scripted garbage follows\n');
  process.stdout.write('<html><body>502 Bad Gateway</body></html>\n\n');
  process.stdout.write('{"type":"assistant","message":{"content":[{"type":"te'); // truncated JSON, no newline
}

async function main(): Promise<void> {
  const args = parseCli();
  const out = new Emitter();

  let script: Script;
  try {
    script = loadScript(args.script);
  } catch (error) {
    out.init(args.cwd);
    out.failure((error as Error).message);
    process.exitCode = 1;
    return;
  }
  const task = resolveTask(script, args.task, args.fix);
  if (task?.behaviour === 'garbage') return printGarbage();

  out.init(args.cwd);
  if (args.prompt !== undefined) out.prompt(args.prompt);
  if (task === undefined) {
    out.failure(`task ${args.task} is not in the script ${args.script} (it has: ${Object.keys(script.tasks).join(', ') || 'no tasks'})`);
    process.exitCode = 1;
    return;
  }
  // A fix step may demand proof that the feedback reached the agent: without it there is nothing to fix from.
  if (task.feedbackIncludes !== undefined && !(args.prompt ?? '').includes(task.feedbackIncludes)) {
    out.failure(`fix ${args.fix} of ${args.task} expected its prompt to contain ${JSON.stringify(task.feedbackIncludes)} (the feedback it fixes); ${args.prompt === undefined ? 'no --prompt was given' : 'the prompt does not contain it'}`);
    process.exitCode = 1;
    return;
  }

  // fail_first is keyed on --attempt (not a marker file): stateless, and works in linked worktrees where .git is a file.
  const behaviour = task.behaviour === 'fail_first' ? (args.attempt <= 1 ? 'crash' : 'ok') : task.behaviour;
  switch (behaviour) {
    case 'hang':
      // Why: an active timer keeps the process alive, silent, until it is signalled.
      setInterval(() => undefined, 1 << 30);
      return;
    case 'crash':
      process.stderr.write(`scripted-agent: simulated crash of ${args.task} (attempt ${args.attempt})\n`);
      process.exitCode = 1;
      return;
    default:
      try {
        await work(out, args, task, task.commit && behaviour !== 'uncommitted');
      } catch (error) {
        out.failure((error as Error).message);
        process.exitCode = 1;
      }
  }
}

await main();
