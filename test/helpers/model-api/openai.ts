/**
 * A scripted OpenAI Responses API on loopback, for driving the real `codex exec` CLI offline.
 * Replies are SSE (response.created → output items → response.completed); a tool reply is a
 * `function_call` to codex's `exec_command` shell tool, so the CLI really runs the command.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { json, readBody } from './anthropic.js';

export type ResponsesReply = { text: string } | { exec: string } | { status: number; message?: string };

export interface ResponsesRequest {
  model: string;
  /** All user-message text of the conversation. */
  userText: string;
  /** function_call_output items seen so far. */
  toolOutputs: string[];
  raw: Record<string, unknown>;
}

export interface ScriptedResponsesServer {
  /** Base URL including /v1, for codex's model_providers.<id>.base_url. */
  url: string;
  requests: ResponsesRequest[];
  close(): Promise<void>;
}

/** Token usage each completed response reports (codex's `--json` usage and its session file are built from it). */
export interface ScriptedUsage {
  input: number;
  output: number;
  reasoning: number;
}

export async function startResponsesApi(script: (req: ResponsesRequest) => ResponsesReply, usage: ScriptedUsage = { input: 1000, output: 50, reasoning: 0 }): Promise<ScriptedResponsesServer> {
  const requests: ResponsesRequest[] = [];
  let seq = 0;
  const server: Server = createServer(async (req, res) => {
    if (req.method !== 'POST') return void json(res, 200, { object: 'list', data: [] });
    const body = JSON.parse((await readBody(req)) || '{}') as Record<string, unknown>;
    if (!req.url?.includes('/responses')) return void json(res, 404, { error: { message: `no route ${req.url}` } });
    const parsed = parseRequest(body);
    requests.push(parsed);
    const reply = script(parsed);
    if ('status' in reply) return void json(res, reply.status, { error: { message: reply.message ?? `scripted ${reply.status}`, type: 'scripted' } });
    seq += 1;
    const responseId = `resp_scripted_${seq}`;
    const item =
      'text' in reply
        ? { type: 'message', id: `msg_${seq}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: reply.text, annotations: [] }] }
        : { type: 'function_call', id: `fc_${seq}`, call_id: `call_${seq}`, name: 'exec_command', arguments: JSON.stringify({ cmd: reply.exec }), status: 'completed' };
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (data: Record<string, unknown>) => res.write(`event: ${String(data.type)}\ndata: ${JSON.stringify(data)}\n\n`);
    const base = { id: responseId, object: 'response', model: parsed.model, status: 'in_progress', output: [] as unknown[] };
    send({ type: 'response.created', response: base });
    send({ type: 'response.output_item.added', output_index: 0, item: 'text' in reply ? { ...item, content: [], status: 'in_progress' } : item });
    if ('text' in reply) send({ type: 'response.output_text.delta', item_id: item.id, output_index: 0, content_index: 0, delta: reply.text });
    send({ type: 'response.output_item.done', output_index: 0, item });
    send({
      type: 'response.completed',
      response: { ...base, status: 'completed', output: [item], usage: { input_tokens: usage.input, input_tokens_details: { cached_tokens: 0 }, output_tokens: usage.output, output_tokens_details: { reasoning_tokens: usage.reasoning }, total_tokens: usage.input + usage.output } },
    });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function parseRequest(body: Record<string, unknown>): ResponsesRequest {
  const texts: string[] = [];
  const toolOutputs: string[] = [];
  for (const item of (body.input as Array<Record<string, unknown>>) ?? []) {
    if (item.type === 'function_call_output') toolOutputs.push(typeof item.output === 'string' ? item.output : JSON.stringify(item.output));
    if (item.type === 'message' && item.role === 'user') {
      for (const c of (item.content as Array<Record<string, unknown>>) ?? []) if (typeof c.text === 'string') texts.push(c.text);
    }
  }
  return { model: String(body.model ?? 'unknown'), userText: texts.join('\n'), toolOutputs, raw: body };
}
