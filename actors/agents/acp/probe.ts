/**
 * `oxi doctor`'s look at an ACP agent: start its command and do the protocol handshake (`initialize`), which
 * spends no tokens, then stop it. Says which agent answered, its protocol version, whether it can resume a
 * session (session/load, used by `oxi say`), and whether it asks for a login first.
 */
import { spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import * as acp from '@agentclientprotocol/sdk';

export interface AcpProbe {
  ok: boolean;
  agent?: string;
  protocolVersion?: number;
  loadSession?: boolean;
  authMethods?: string[];
  error?: string;
}

export async function probeAcpAgent(command: readonly string[], env: Record<string, string>, cwd: string, timeoutMs = 20_000): Promise<AcpProbe> {
  const [program, ...args] = command;
  const child = spawn(program!, args, { cwd, env, stdio: ['pipe', 'pipe', 'ignore'] });
  const failed = new Promise<AcpProbe>((resolve) => {
    child.once('error', (error) => resolve({ ok: false, error: `could not start ${program}: ${error.message}` }));
    child.once('exit', (code, signal) => resolve({ ok: false, error: `${program} exited (${signal ?? `code ${code}`}) before answering initialize` }));
  });
  // A closed connection is the agent dying: its exit (which follows closely) says more than "connection closed".
  const failedOr = (p: AcpProbe) => Promise.race([failed, new Promise<AcpProbe>((r) => setTimeout(() => r(p), 2000).unref())]);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<AcpProbe>((resolve) => (timer = setTimeout(() => resolve({ ok: false, error: `${program} did not answer initialize within ${timeoutMs} ms` }), timeoutMs)));
  const stream = acp.ndJsonStream(Writable.toWeb(child.stdin) as WritableStream<Uint8Array>, Readable.toWeb(child.stdout) as ReadableStream<Uint8Array>);
  const handshake = acp
    .client({ name: 'oxi-doctor' })
    .connectWith(stream, (ctx) => ctx.request(acp.methods.agent.initialize, { protocolVersion: acp.PROTOCOL_VERSION, clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false } }))
    .then(
      (init): AcpProbe => ({
        ok: true,
        agent: init.agentInfo ? `${init.agentInfo.name} ${init.agentInfo.version}` : program,
        protocolVersion: init.protocolVersion,
        loadSession: init.agentCapabilities?.loadSession === true,
        authMethods: (init.authMethods ?? []).map((m) => m.name ?? m.id),
      }),
      (error: Error): Promise<AcpProbe> => failedOr({ ok: false, error: `${program} answered initialize with an error: ${error.message}` }),
    );
  try {
    return await Promise.race([handshake, failed, timedOut]);
  } finally {
    clearTimeout(timer);
    child.kill('SIGTERM');
  }
}
