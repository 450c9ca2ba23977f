/**
 * A loopback TCP relay that can simulate a silent network partition in userland (network namespaces
 * need privileges CI may not have). Clients connect to `port`; each connection is forwarded to the
 * upstream (a real sshd) on its own upstream socket.
 *
 * `partition()` stops forwarding in both directions while keeping every socket open: no RST, no FIN,
 * so neither side learns anything — exactly what a cable pulled between two routers looks like.
 * Bytes sent meanwhile stay in the kernel buffers (reading is paused), the way TCP keeps retransmitting.
 * Connections accepted during a partition are held the same way (a SYN that got through, then silence).
 *
 * `heal()` resumes forwarding: held bytes are delivered, as TCP's retransmissions would deliver them,
 * and a side that closed during the partition has its close passed on only now (a real peer would get
 * an RST on its next retransmission to a host that forgot the connection).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket;
  /** Chunks read in flight when the partition began, delivered on heal. */
  held: { toUpstream: Buffer[]; toClient: Buffer[] };
  /** A side that ended or failed while partitioned: its close is passed on after the heal. */
  closedWhilePartitioned: boolean;
}

export interface BlackholeProxy {
  port: number;
  /** Whether forwarding is stopped. */
  readonly partitioned: boolean;
  /** Connections currently relayed (both sockets open). */
  connections(): number;
  partition(): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startBlackholeProxy(upstreamPort: number, upstreamHost = '127.0.0.1'): Promise<BlackholeProxy> {
  const pairs = new Set<Pair>();
  let partitioned = false;

  const closePair = (pair: Pair) => {
    if (!pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream.destroy();
  };

  const relay = (pair: Pair, from: Socket, to: Socket, held: Buffer[]) => {
    from.on('data', (chunk: Buffer) => {
      if (partitioned) held.push(chunk);
      else to.write(chunk);
    });
    const gone = () => {
      // Why: during a partition a FIN or RST never reaches the other side.
      if (partitioned) pair.closedWhilePartitioned = true;
      else closePair(pair);
    };
    from.on('end', gone);
    from.on('close', gone);
    from.on('error', () => gone());
  };

  const server: Server = createServer((client) => {
    const upstream = connect({ host: upstreamHost, port: upstreamPort });
    const pair: Pair = { client, upstream, held: { toUpstream: [], toClient: [] }, closedWhilePartitioned: false };
    pairs.add(pair);
    if (partitioned) {
      client.pause();
      upstream.pause();
    }
    relay(pair, client, upstream, pair.held.toUpstream);
    relay(pair, upstream, client, pair.held.toClient);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });

  return {
    port: (server.address() as { port: number }).port,
    get partitioned() {
      return partitioned;
    },
    connections: () => pairs.size,
    partition() {
      partitioned = true;
      for (const p of pairs) {
        p.client.pause();
        p.upstream.pause();
      }
    },
    heal() {
      partitioned = false;
      for (const p of [...pairs]) {
        if (p.closedWhilePartitioned) {
          closePair(p);
          continue;
        }
        for (const chunk of p.held.toUpstream.splice(0)) p.upstream.write(chunk);
        for (const chunk of p.held.toClient.splice(0)) p.client.write(chunk);
        p.client.resume();
        p.upstream.resume();
      }
    },
    async close() {
      for (const p of [...pairs]) closePair(p);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
