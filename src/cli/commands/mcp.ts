/**
 * `oxi mcp`: serves the Model Context Protocol on stdin/stdout until the client goes away
 * (docs/mcp.md). stdout belongs to the protocol: anything else oxi says goes to stderr.
 */
import { readFileSync } from 'node:fs';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createOxiMcpServer } from '../../mcp/server.js';
import { openDb } from '../../store/db.js';
import { resolveAdapter, type GlobalOptions } from '../context.js';

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export async function mcpCommand(global: GlobalOptions & { allowControl?: boolean }): Promise<number> {
  const adapter = await resolveAdapter(global);
  const db = openDb(adapter.paths.db);
  try {
    const server = createOxiMcpServer({ adapter, db, allowControl: global.allowControl === true, version: packageVersion() });
    const transport = new StdioServerTransport();
    const closed = new Promise<void>((resolve) => (server.server.onclose = resolve));
    await server.connect(transport);
    process.stderr.write(`oxi mcp: serving ${adapter.name} on stdio${global.allowControl ? ' (kill/unkill allowed)' : ''}\n`);
    // The client closing our stdin is the end of the session (the SDK's transport does not watch for it).
    process.stdin.once('end', () => void server.close());
    process.once('SIGTERM', () => void server.close());
    await closed;
    return 0;
  } finally {
    db.close();
  }
}
