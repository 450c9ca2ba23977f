import { WebSocket } from 'ws';

export interface Socket {
  ws: WebSocket;
  /** Messages not yet taken by nextMessage, oldest first. */
  queue: any[];
  closed: Promise<void>;
  wake: () => void;
}

/** Opens a websocket; rejects with the HTTP status when the server refuses the upgrade. */
export function openSocket(url: string, headers: Record<string, string> = {}): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const { origin, ...rest } = headers;
    const ws = new WebSocket(url, { headers: rest, origin });
    const socket: Socket = { ws, queue: [], closed: new Promise((r) => ws.once('close', () => r())), wake: () => undefined };
    ws.on('message', (data) => {
      socket.queue.push(JSON.parse(data.toString()));
      socket.wake();
    });
    ws.once('open', () => resolve(socket));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', (error) => reject(error));
  });
}

/** The next message of `type` (matching `match`), skipping the others; fails after `timeoutMs`. */
export async function nextMessage(s: Socket, type: string, match: (m: any) => boolean = () => true, timeoutMs = 10_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const i = s.queue.findIndex((m) => m.type === type && match(m));
    if (i >= 0) return s.queue.splice(i, 1)[0];
    if (Date.now() > deadline) throw new Error(`no "${type}" message within ${timeoutMs} ms (got ${s.queue.map((m) => m.type).join(', ') || 'nothing'})`);
    await new Promise<void>((r) => {
      const t = setTimeout(r, 100);
      s.wake = () => (clearTimeout(t), r());
    });
  }
}
