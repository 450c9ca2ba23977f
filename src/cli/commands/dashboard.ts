import type { createWebSocketInspector } from '@statelyai/inspect';
import type { InspectionEvent } from 'xstate';
import { resolveToken } from '../../../inspector/auth.js';
import { storedToken } from '../../../inspector/token-file.js';
import { sanitize } from '../../../inspector/sanitize.js';
import { startDashboard, type DashboardServer } from '../../../inspector/server.js';
import type { Adapter } from '../../config/schema.js';
import { DashboardError, UsageError } from '../../errors.js';
import type { EngineHandle } from '../../runtime/engine.js';
import type { Db } from '../../store/db.js';
import { openDb } from '../../store/db.js';
import { resolveAdapter, type GlobalOptions } from '../context.js';

/** The line printed once at start: the token rides in the URL fragment, which browsers never send. */
export function announce(server: DashboardServer): string {
  const t = server.token as DashboardServer['token'] & { file?: string; created?: boolean };
  if (!t.generated) return `oxi: dashboard on ${server.url} (actions need the token from the adapter's engine.dashboard.tokenEnv)`;
  // Printed the one time the token file is made; later starts name the file, never the token.
  if (t.file && !t.created) return `oxi: dashboard on ${server.url} (the token for kill/unkill/retry is in ${t.file})`;
  return `oxi: dashboard on ${server.url}#token=${t.value} (the token after # is needed for kill/unkill/retry; shown this once${t.file ? `, kept in ${t.file}` : ''})`;
}

/** The adapter's token variable when it names one, else the generated token kept under the state dir. */
export function dashboardToken(adapter: Adapter) {
  return adapter.engine.dashboard.tokenEnv ? resolveToken(adapter.engine.dashboard.tokenEnv) : storedToken(adapter.paths.stateDir);
}

function parsePort(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: expected a whole number from 0 to 65535, got ${JSON.stringify(value)}.`, { fix: 'e.g. --port 8765 (0 picks a free port)' });
  return port;
}

export interface LiveView {
  server?: DashboardServer;
  /** The engine's extra inspection observer (the @statelyai/inspect client when --inspect). */
  inspect?: (event: InspectionEvent) => void;
  attach(engine: EngineHandle): void;
  close(): Promise<void>;
}

/**
 * The dashboard inside `oxi run` / `oxi demo`: started before the engine so the inspection
 * stream sees the whole actor system from its first actor. `inspect` true streams into our own
 * relay; a URL streams to an external one (e.g. `npx @statelyai/inspect`'s server).
 */
export async function startLiveView(options: { adapter: Adapter; db: Db; inspect?: boolean | string; dashboard?: boolean; log: (line: string) => void }): Promise<LiveView | undefined> {
  const { adapter, db, log } = options;
  let server: DashboardServer | undefined;
  if (options.dashboard !== false) {
    try {
      server = await startDashboard({ db, adapter, token: dashboardToken(adapter), inspect: options.inspect === true });
      log(announce(server));
    } catch (error) {
      if (!(error instanceof DashboardError)) throw error;
      // `oxi run` and `oxi demo` have no --port: name what they do have.
      const fix = /could not listen/.test(error.message) ? 'Set engine.dashboard.port in the adapter to another port (0 picks a free one), or pass --no-dashboard.' : error.fix;
      log(`oxi: dashboard not started: ${error.message}${fix ? ` Fix: ${fix}` : ''} The engine runs without it.`);
      if (typeof options.inspect !== 'string') return undefined;
    }
  }
  const target = typeof options.inspect === 'string' ? options.inspect : server?.relayUrl;
  let inspector: ReturnType<typeof createWebSocketInspector> | undefined;
  if (options.inspect && target) {
    // Loaded only when asked for: every CLI command would otherwise pay for it at start.
    const { createWebSocketInspector } = await import('@statelyai/inspect');
    inspector = createWebSocketInspector({
      url: target,
      maxDeferredEvents: 5000,
      sanitizeContext: (c: unknown) => sanitize(c) as never,
      sanitizeEvent: (e: unknown) => sanitize(e) as never,
    });
    log(`oxi: actor system inspection streaming to ${server?.relayUrl ? `${server.url}stately (Stately inspector bridge)` : target}`);
  }
  return {
    server,
    inspect: inspector ? (event) => inspector.inspect.next?.(event as never) : undefined,
    attach: (engine) => server?.attach(engine),
    async close() {
      inspector?.stop();
      await server?.close();
    },
  };
}

/** `oxi dashboard`: the page next to a running daemon (or none), reading the project's database. */
export async function dashboardCommand(global: GlobalOptions & { port?: string; bind?: string }): Promise<number> {
  const adapter = await resolveAdapter(global);
  const port = parsePort(global.port, adapter.engine.dashboard.port);
  const bind = global.bind ?? adapter.engine.dashboard.bind;
  const db = openDb(adapter.paths.db);
  try {
    const server = await startDashboard({ db, adapter, token: dashboardToken(adapter), port, bind });
    process.stderr.write(`${announce(server)}\n`);
    if (global.json) process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port, bind })}\n`);
    await untilSignal();
    await server.close();
    return 0;
  } finally {
    db.close();
  }
}

/** Resolves on the first SIGINT or SIGTERM (Ctrl-C), and stops listening for them. */
function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => (process.off('SIGINT', stop), process.off('SIGTERM', stop), resolve());
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** `oxi demo --open`: the dashboard on the adapter's port (or a free one when it is taken) until Ctrl-C. */
export async function serveUntilSignal(adapter: Adapter, db: Db, log: (line: string) => void): Promise<void> {
  const options = { db, adapter, token: dashboardToken(adapter), bind: adapter.engine.dashboard.bind };
  const server = await startDashboard({ ...options, port: adapter.engine.dashboard.port }).catch((error: unknown) => {
    if (!(error instanceof DashboardError)) throw error;
    return startDashboard({ ...options, port: 0 });
  });
  log(announce(server));
  log('oxi demo: the demo has settled; the dashboard stays up until Ctrl-C.');
  await untilSignal();
  await server.close();
}
