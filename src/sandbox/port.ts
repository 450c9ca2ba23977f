/**
 * The sandbox port (ARCHITECTURE §5, contract 3.7): where an agent session may write and what it may see.
 * Every agent launch (worker, planner, critic; any backend; any host) passes its argv through `wrap`, which
 * returns the argv that runs it confined: bubblewrap on Linux, a generated sandbox-exec profile on macOS,
 * or — only where neither exists and `agents.sandbox.required` is false — the argv unchanged.
 */

export type SandboxKind = 'bubblewrap' | 'sandbox-exec' | 'none';

/** What `oxi status --json` (`agents.sandbox`), the dashboard and `oxi doctor` report for a host. */
export interface SandboxStatus {
  kind: SandboxKind;
  /** Whether agents on this host will be sandboxed. */
  available: boolean;
  /** One line: the program and version in use, or why agents are NOT sandboxed. */
  reason: string;
}

export interface SandboxRequest {
  /** `checks`: the checks command of the local forge, which runs the change's own code (agent code, too). */
  /** `setup`: the workspace setup (docs/workspaces.md), with its own environment and its cache directory writable. */
  role: 'worker' | 'planner' | 'critic' | 'checks' | 'setup';
  /** The agent backend (claude, codex, scripted): decides which part of the home it may see. */
  backend: string;
  argv: readonly string[];
  /** The whole environment of the agent (already whitelisted); it is passed on unchanged. */
  env: Record<string, string>;
  /** The agent's working directory: the task's workspace (worker) or the main clone (planner, critic). */
  workspace: string;
  /** The worker writes its workspace; planner and critic only read it. */
  writable: boolean;
  /** More paths this launch alone may write (the setup's cache directory); no other role is given them. */
  writablePaths?: readonly string[];
  /** More paths the agent must read (e.g. the scripted agent's script and program files). */
  readOnly?: readonly string[];
  /** A waited run (planner, critic) dies with its parent; a detached worker must outlive an engine restart. */
  waited: boolean;
  /** The task the session works for: its refused network requests are recorded under it. */
  taskId?: string;
}

/** The network a launch got (agents.network): with `allowlist`, a proxy serves it until released. */
export interface LaunchNetwork {
  mode: 'open' | 'allowlist' | 'none';
  /** Stops the session's proxy (a waited run, once it ended; a worker's is ended when its task's run is over). */
  release(): Promise<void>;
}

export interface WrappedLaunch {
  argv: string[];
  status: SandboxStatus;
  network?: LaunchNetwork;
}

export interface AgentSandbox {
  /** Probed once per host (an unreachable host is asked again next time). */
  status(): Promise<SandboxStatus>;
  /** The argv to launch; throws SandboxUnavailableError when a sandbox is required and there is none. */
  wrap(request: SandboxRequest): Promise<WrappedLaunch>;
}

/** The plain-words line the doctor, status and dashboard print for a status. */
export function sandboxLine(status: SandboxStatus): string {
  return status.available ? `agents are sandboxed (${status.kind}: ${status.reason})` : `agents are NOT sandboxed (${status.reason})`;
}
