/**
 * A sample project whose adapter dispatches onto two SSH hosts, each a real sshd on 127.0.0.1 with its
 * own clone (origin = the project) and worktree root, and different slot counts.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { sampleProject } from './project.js';
import { startSshd, type TestSshd } from './sshd.js';

export interface TwoHosts {
  project: ReturnType<typeof sampleProject>;
  hosts: Record<'alpha' | 'beta', TestSshd>;
  cleanup(): Promise<void>;
}

export async function twoHostProject(options: { tasks: number; script?: (script: { tasks: Record<string, Record<string, unknown>> }) => void; engine?: Record<string, unknown>; config?: (c: Record<string, any>) => void }): Promise<TwoHosts> {
  const alpha = await startSshd();
  const beta = await startSshd();
  const entry = (name: string, s: TestSshd, maxWorkers: number) => ({
    name, kind: 'ssh', address: '127.0.0.1', port: s.port, user: s.user, identityFile: s.identityFile, knownHosts: s.knownHosts,
    maxWorkers, mainClone: join(s.dir, 'clone'), worktreesRoot: join(s.dir, 'work'),
  });
  const project = sampleProject({
    tasks: options.tasks,
    script: options.script,
    config: (c) => {
      c.hosts = [entry('alpha', alpha, 1), entry('beta', beta, 2)];
      c.planTier = { maxWorkers: 3 };
      c.engine = { ...(c.engine ?? {}), hostProbeIntervalMs: 500, ...(options.engine ?? {}) };
      options.config?.(c);
    },
  });
  for (const s of [alpha, beta]) execFileSync('git', ['clone', '-q', project.dir, join(s.dir, 'clone')]);
  return {
    project,
    hosts: { alpha, beta },
    async cleanup() {
      await alpha.cleanup();
      await beta.cleanup();
      project.cleanup();
    },
  };
}
