/**
 * A scripted Anthropic Messages API on loopback, for driving the real `claude` CLI offline.
 * Streaming requests get SSE (message_start … message_stop); the scripted model decides each reply
 * from the request (the prompt, and how many tool results it has seen), so the CLI really runs tools.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ModelReply =
  | { text: string }
  | { tool: { name: string; input: Record<string, unknown> } }
  | { status: number; message?: string }
  /** Never answer (a hung connection): the CLI goes silent, as on a stalled API. */
  | { hang: true };

export interface AnthropicRequest {
  model: string;
  /** All text of the conversation's user turns (system prompt excluded). */
  userText: string;
  /** tool_result blocks seen so far, in order. */
  toolResults: Array<{ content: string; isError: boolean }>;
  raw: Record<string, unknown>;
}

export interface ScriptedModelServer {
  url: string;
  requests: AnthropicRequest[];
  close(): Promise<void>;
}

export async function startAnthropicApi(script: (req: AnthropicRequest) => ModelReply): Promise<ScriptedModelServer> {
  const requests: AnthropicRequest[] = [];
  let seq = 0;
  const server: Server = createServer(async (req, res) => {
    if (req.method !== 'POST') return void res.writeHead(200).end();
    const body = JSON.parse((await readBody(req)) || '{}') as Record<string, unknown>;
    if (!req.url?.startsWith('/v1/messages') || req.url.includes('count_tokens')) {
      return void json(res, 200, { input_tokens: 100 });
    }
    const parsed = parseRequest(body);
    requests.push(parsed);
    const reply = script(parsed);
    if ('hang' in reply) return;
    if ('status' in reply) {
      return void json(res, reply.status, { type: 'error', error: { type: reply.status === 429 ? 'rate_limit_error' : reply.status === 529 ? 'overloaded_error' : 'api_error', message: reply.message ?? `scripted ${reply.status}` } });
    }
    seq += 1;
    const id = `msg_scripted_${seq}`;
    const usage = { input_tokens: 200, output_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    const block = 'text' in reply ? { type: 'text', text: reply.text } : { type: 'tool_use', id: `toolu_scripted_${seq}`, name: reply.tool.name, input: reply.tool.input };
    const stop = 'text' in reply ? 'end_turn' : 'tool_use';
    if (body.stream !== true) {
      return void json(res, 200, { id, type: 'message', role: 'assistant', model: parsed.model, content: [block], stop_reason: stop, stop_sequence: null, usage });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': `req_scripted_${seq}` });
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    send('message_start', { type: 'message_start', message: { id, type: 'message', role: 'assistant', model: parsed.model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } });
    if (block.type === 'text') {
      send('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
      send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: block.text } });
    } else {
      send('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
      send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } });
    }
    send('content_block_stop', { type: 'content_block_stop', index: 0 });
    send('message_delta', { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
    send('message_stop', { type: 'message_stop' });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

function parseRequest(body: Record<string, unknown>): AnthropicRequest {
  const texts: string[] = [];
  const toolResults: AnthropicRequest['toolResults'] = [];
  for (const message of (body.messages as Array<{ role: string; content: unknown }>) ?? []) {
    if (message.role !== 'user') continue;
    const blocks = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : (message.content as Array<Record<string, unknown>>);
    for (const b of blocks) {
      if (b.type === 'text' && typeof b.text === 'string') texts.push(b.text);
      if (b.type === 'tool_result') {
        const content = typeof b.content === 'string' ? b.content : JSON.stringify(b.content);
        toolResults.push({ content, isError: b.is_error === true });
      }
    }
  }
  return { model: String(body.model ?? 'unknown'), userText: texts.join('\n'), toolResults, raw: body };
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function json(res: import('node:http').ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}
