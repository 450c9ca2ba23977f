/**
 * The `acp` backend's session program: `node runner.js --spec=<json>`. It starts the ACP agent's command as its
 * child (same process group, same sandbox), speaks the Agent Client Protocol to it over stdio as the client,
 * creates (or loads, to resume) a session in the workspace, sends the prompt, answers permission requests from
 * oxi's tool policy, and writes the session to stdout in oxi's agent stream dialect (./transcript.ts).
 * It is what oxi launches, detached, as a worker: it holds the protocol connection, so a worker survives an
 * engine restart like any other (the engine re-adopts this process by its pid file and reads its stream).
 * SIGTERM (a kill, a stall or wall-clock timeout): `session/cancel`, then the agent is terminated.
 */
import { spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import * as acp from '@agentclientprotocol/sdk';
import { decide, type ToolPolicy } from './policy.js';
import { AcpTranscript } from './transcript.js';

export interface RunnerSpec {
  /** The agent's argv. */
  command: string[];
  cwd: string;
  prompt: string;
  /** An earlier session to resume (`session/load`) with this prompt. */
  resume?: string;
  model?: string;
  policy: ToolPolicy;
  /** The run is cancelled once the agent reports a cost above this (USD). */
  maxBudgetUsd?: number;
}

const write = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

/** The option that says yes (or no) once, else the always-variant, else none. */
function option(options: acp.PermissionOption[], allow: boolean): string | undefined {
  const kinds = allow ? ['allow_once', 'allow_always'] : ['reject_once', 'reject_always'];
  for (const kind of kinds) {
    const o = options.find((x) => x.kind === kind);
    if (o) return o.optionId;
  }
  return undefined;
}

export async function runSession(spec: RunnerSpec): Promise<number> {
  const [program, ...args] = spec.command;
  const agent = spawn(program!, args, { cwd: spec.cwd, env: process.env, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<string>((r) => agent.once('exit', (code, signal) => r(signal ?? `code ${code}`)));
  const spawned = await new Promise<Error | undefined>((r) => (agent.once('spawn', () => r(undefined)), agent.once('error', r)));
  const transcript = new AcpTranscript(write);
  if (spawned) {
    transcript.result('error', undefined, { subtype: 'error_during_execution', message: `could not start the ACP agent ${program}: ${spawned.message}` });
    return 1;
  }
  let sessionId: string | undefined;
  let replaying = false;
  let cancel: (() => void) | undefined;
  const client = acp
    .client({ name: 'oxi' })
    .onNotification(acp.methods.client.session.update, ({ params }) => {
      const update = params.update as unknown as Record<string, unknown> & { sessionUpdate: string };
      if (replaying) return transcript.replayed(update);
      transcript.update(update);
      const cost = transcript.costUsd;
      if (spec.maxBudgetUsd !== undefined && cost !== undefined && cost > spec.maxBudgetUsd) cancel?.();
    })
    .onRequest(acp.methods.client.session.requestPermission, ({ params }) => {
      const call = params.toolCall;
      const verdict = decide(spec.policy, call);
      const chosen = option(params.options, verdict.allow);
      if (!verdict.allow) transcript.deny(call.toolCallId, call.title ?? call.kind ?? 'tool', call.rawInput, verdict.reason);
      return { outcome: chosen ? { outcome: 'selected', optionId: chosen } : { outcome: 'cancelled' } };
    });
  const stream = acp.ndJsonStream(Writable.toWeb(agent.stdin!) as WritableStream<Uint8Array>, Readable.toWeb(agent.stdout!) as ReadableStream<Uint8Array>);
  let overBudget = false;
  const onTerm = () => cancel?.();
  process.once('SIGTERM', onTerm);
  try {
    const outcome = await Promise.race([
      client.connectWith(stream, async (ctx) => {
        const init = await ctx.request(acp.methods.agent.initialize, { protocolVersion: acp.PROTOCOL_VERSION, clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false } });
        const agentName = init.agentInfo ? `${init.agentInfo.name} ${init.agentInfo.version}` : program;
        let prompt = spec.prompt;
        if (spec.resume && init.agentCapabilities?.loadSession) {
          replaying = true;
          await ctx.request(acp.methods.agent.session.load, { sessionId: spec.resume, cwd: spec.cwd, mcpServers: [] });
          replaying = false;
          sessionId = spec.resume;
        } else {
          // Why: an agent that cannot load sessions gets the message in a new session, told where it stands.
          if (spec.resume) prompt = `You are continuing earlier work in this workspace (an earlier session that cannot be resumed here).\n\n${prompt}`;
          sessionId = (await ctx.request(acp.methods.agent.session.new, { cwd: spec.cwd, mcpServers: [] })).sessionId;
        }
        transcript.begin(sessionId, { cwd: spec.cwd, model: spec.model, agent: agentName });
        transcript.prompt(spec.prompt);
        cancel = () => {
          overBudget = spec.maxBudgetUsd !== undefined && (transcript.costUsd ?? 0) > spec.maxBudgetUsd;
          void ctx.notify(acp.methods.agent.session.cancel, { sessionId: sessionId! }).catch(() => undefined);
        };
        const response = await ctx.request(acp.methods.agent.session.prompt, { sessionId, prompt: [{ type: 'text', text: prompt }] });
        return response as acp.PromptResponse & { usage?: { inputTokens?: number; outputTokens?: number } };
      }),
      exited.then((how) => Promise.reject(new Error(`the ACP agent exited (${how}) before the turn ended`))),
    ]);
    if (overBudget) transcript.result(outcome.stopReason, outcome.usage, { subtype: 'error_max_budget_usd', message: `Reached maximum budget ($${spec.maxBudgetUsd})` });
    else transcript.result(outcome.stopReason, outcome.usage);
    return outcome.stopReason === 'end_turn' ? 0 : 1;
  } catch (error) {
    // A closed connection is the agent dying: say how it ended (its exit follows the closed pipe closely).
    const how = await Promise.race([exited, delay(2000, undefined)]);
    const message = how !== undefined
      ? `the ACP agent exited (${how}) before the turn ended`
      : error instanceof acp.RequestError ? `${error.message}${error.data ? ` ${JSON.stringify(error.data)}` : ''}` : (error as Error).message;
    transcript.result('error', undefined, { subtype: 'error_during_execution', message: `ACP agent ${program}: ${message}` });
    return 1;
  } finally {
    process.off('SIGTERM', onTerm);
    agent.kill('SIGTERM');
  }
}

function specFromArgv(argv: string[]): RunnerSpec {
  const arg = argv.find((a) => a.startsWith('--spec='));
  if (!arg) throw new Error('usage: runner.js --spec=<json>');
  return JSON.parse(arg.slice('--spec='.length)) as RunnerSpec;
}

// Run only as a program (the backend imports this module's types).
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  runSession(specFromArgv(process.argv.slice(2))).then(
    (code) => process.exit(code),
    (error: Error) => (process.stderr.write(`oxi acp runner: ${error.stack ?? error.message}\n`), process.exit(1)),
  );
}
