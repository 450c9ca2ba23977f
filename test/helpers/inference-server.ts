/**
 * A real OpenAI chat-completions server on loopback, for the inference gateway. It speaks one of the three
 * cost conventions oxi reads: `litellm` (the `x-litellm-response-cost` header of a LiteLLM proxy),
 * `openrouter` (`usage.total_cost` in the body), `none` (tokens only, as xAI answers: rate card or undercount).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type CostConvention = 'litellm' | 'openrouter' | 'none';

export interface ChatRequest {
  path: string;
  authorization: string | null;
  body: { model?: string; messages?: Array<{ role: string; content: string }>; stream?: boolean; [k: string]: unknown };
  /** All message contents, joined. */
  text: string;
}

/** What the server does with one request: answer `text`, fail with `status`, send a raw body, or hang. */
export type ChatReply = { text: string } | { status: number; body?: string } | { raw: string } | { hang: true };

export interface InferenceServer {
  /** Base URL including /v1 (oxi POSTs to <url>/chat/completions). */
  url: string;
  requests: ChatRequest[];
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

export async function startInferenceServer(options: {
  convention: CostConvention;
  /** USD per call for the litellm and openrouter conventions. */
  costUsd?: number;
  reply?: (req: ChatRequest) => ChatReply;
}): Promise<InferenceServer> {
  const requests: ChatRequest[] = [];
  let seq = 0;
  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    let body: ChatRequest['body'] = {};
    try {
      body = JSON.parse(raw || '{}');
    } catch {
      body = {};
    }
    const request: ChatRequest = { path: req.url ?? '', authorization: req.headers.authorization ?? null, body, text: (body.messages ?? []).map((m) => m.content).join('\n') };
    requests.push(request);
    if (req.method !== 'POST' || !req.url?.endsWith('/v1/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
    }
    const reply = options.reply?.(request) ?? { text: 'The task stopped because the scripted critic rejected it.' };
    if ('hang' in reply) return; // never answers: the client's timeout must end it
    if ('status' in reply) {
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      return void res.end(reply.body ?? JSON.stringify({ error: { message: `scripted ${reply.status}` } }));
    }
    if ('raw' in reply) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(reply.raw);
    }
    seq += 1;
    const cost = options.costUsd ?? 0.0012;
    const usage: Record<string, unknown> = { prompt_tokens: Math.ceil(request.text.length / 4), completion_tokens: Math.ceil(reply.text.length / 4) };
    usage.total_tokens = (usage.prompt_tokens as number) + (usage.completion_tokens as number);
    if (options.convention === 'openrouter') usage.total_cost = cost;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.convention === 'litellm') headers['x-litellm-response-cost'] = String(cost);
    res.writeHead(200, headers);
    res.end(
      JSON.stringify({
        id: `chatcmpl-${seq}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model ?? 'unknown',
        choices: [{ index: 0, message: { role: 'assistant', content: reply.text }, finish_reason: 'stop' }],
        usage,
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
