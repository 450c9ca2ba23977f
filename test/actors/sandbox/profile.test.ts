/**
 * The pure parts of the sandbox: the mount plan's order, the bwrap argv, the macOS sandbox-exec profile
 * text (not run on macOS in CI), the probe's reading, and the refusal when a sandbox is required.
 */
import { describe, expect, it } from 'vitest';
import { bwrapArgv } from '../../../actors/sandbox/bwrap.js';
import { BRIDGE_JS } from '../../../actors/network/bridge.js';
import type { LaunchFacts, PathKind } from '../../../actors/sandbox/facts.js';
import { parseFacts, parseProbe } from '../../../actors/sandbox/facts.js';
import { planMounts } from '../../../actors/sandbox/mounts.js';
import { HostSandbox, statusFromProbe } from '../../../actors/sandbox/sandbox.js';
import { sandboxExecArgv, sbplProfile } from '../../../actors/sandbox/sbpl.js';
import { LocalHost } from '../../../actors/hosts/local-host.js';
import { SandboxUnavailableError } from '../../../src/errors.js';
import type { ExecOptions } from '../../../src/ports.js';
import type { SandboxRequest } from '../../../src/sandbox/port.js';

const MAIN = '/Users/op/proj';
const STATE = `${MAIN}/.oxi`;
const WS = `${STATE}/worktrees/proj-default/T1`;
const HOME = '/Users/op';

function facts(extra: Partial<LaunchFacts> = {}, dirs: string[] = [], files: string[] = []): LaunchFacts {
  const paths = new Map<string, PathKind>();
  for (const d of ['/usr', '/etc', '/opt', '/etc/ssh', MAIN, STATE, `${STATE}/worktrees`, WS, `${HOME}/.claude`, ...dirs]) paths.set(d, { kind: 'dir' });
  for (const f of ['/etc/shadow', `${HOME}/.claude.json`, `${HOME}/.claude/settings.json`, ...files]) paths.set(f, { kind: 'file' });
  paths.set('/bin', { kind: 'link', target: 'usr/bin' });
  return { home: HOME, alternates: [`${MAIN}/.git/objects`], paths, program: '/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js', packageRoot: '/usr/lib/node_modules/@anthropic-ai/claude-code', node: '/usr/bin/node', ...extra };
}

const request = (over: Partial<SandboxRequest> = {}): SandboxRequest => ({ role: 'worker', backend: 'claude', argv: ['claude', '-p', 'hi'], env: { PATH: '/usr/bin', HOME }, workspace: WS, writable: true, waited: false, ...over });
const hidden = [STATE, MAIN, `${STATE}/worktrees`];

describe('the mount plan', () => {
  it('binds the system read-only, the workspace read-write last, hides /etc secrets, resolves the program', () => {
    const plan = planMounts({ request: request(), facts: facts(), hidden, network: 'open' });
    const argv = bwrapArgv(plan, '/usr/bin/bwrap');
    const text = argv.join(' ');
    expect(text).toContain('--ro-bind /usr /usr');
    expect(text).toContain('--symlink usr/bin /bin');
    expect(text).toContain('--ro-bind /dev/null /etc/shadow');
    expect(text).toContain('--tmpfs /etc/ssh');
    expect(text).toContain(`--ro-bind ${MAIN}/.git/objects ${MAIN}/.git/objects`);
    expect(text).toContain(`--bind ${WS} ${WS}`);
    expect(text).toContain(`--bind ${HOME}/.claude ${HOME}/.claude`);
    // settings.json (hooks run commands) read-only on top of the writable ~/.claude.
    expect(argv.indexOf(`${HOME}/.claude/settings.json`)).toBeGreaterThan(argv.indexOf(`${HOME}/.claude`));
    // Nothing of the main clone's working tree or the state dir is bound (the root is an empty tmpfs).
    expect(argv).not.toContain(MAIN);
    expect(argv).not.toContain(STATE);
    expect(argv.slice(argv.indexOf('--') + 1)).toEqual(['/bin/sh', '-c', '"$@" & wait $!', 'oxi-sandbox-init', '/usr/bin/env', '-u', 'PWD', '/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js', '-p', 'hi']);
    expect(argv).not.toContain('--die-with-parent');
    expect(argv).not.toContain('--unshare-net');
    expect(text).toContain('--unshare-pid --as-pid-1 --unshare-ipc --unshare-uts');
  });

  it('an install dir that holds the hidden paths (the oxi checkout) gets them masked, then the tool bound again', () => {
    const plan = planMounts({ request: request({ readOnly: [`${MAIN}/node_modules`] }), facts: facts({ program: `${MAIN}/bin/fake.mjs`, packageRoot: MAIN }, [`${MAIN}/node_modules`]), hidden, network: 'none' });
    const ops = plan.mounts.map((m) => `${m.op} ${'dest' in m ? m.dest : ''}`);
    const bound = ops.indexOf(`ro ${MAIN}`);
    const masked = ops.indexOf(`tmpfs ${MAIN}`);
    expect(bound).toBeGreaterThanOrEqual(0);
    expect(masked).toBeGreaterThan(bound);
    expect(ops.lastIndexOf(`ro ${MAIN}/node_modules`)).toBeGreaterThan(masked);
    expect(ops.indexOf(`rw ${WS}`)).toBeGreaterThan(masked);
    expect(bwrapArgv(plan)).toContain('--unshare-net');
  });

  it('planner and critic: the main clone read-only with the state dir masked inside it; dies with the engine', () => {
    const plan = planMounts({ request: request({ role: 'critic', workspace: MAIN, writable: false, waited: true }), facts: facts(), hidden, network: 'open' });
    const argv = bwrapArgv(plan);
    expect(argv.join(' ')).toContain(`--ro-bind ${MAIN} ${MAIN}`);
    expect(argv.indexOf('--tmpfs', argv.indexOf(`--ro-bind`, argv.indexOf(MAIN) - 1))).toBeGreaterThan(-1);
    expect(argv.join(' ')).toContain(`--tmpfs ${STATE}`);
    expect(plan.mounts.some((m) => m.op === 'rw' && m.dest === MAIN)).toBe(false);
    expect(argv).toContain('--die-with-parent');
  });
});

describe('the bwrap argv of an allowlist network', () => {
  it('no network of its own; the proxy dir bound read-only; PID 1 starts the bridge before the agent; proxy variables set, NO_PROXY unset', () => {
    const plan = planMounts({ request: request(), facts: facts(), hidden, network: 'proxy', proxy: { dir: `${STATE}/net/T1-worker`, socket: 'proxy.sock', bridge: { program: '/usr/bin/node', script: BRIDGE_JS } } });
    const argv = bwrapArgv(plan);
    expect(argv).toContain('--unshare-net');
    const bind = argv.indexOf(`${STATE}/net/T1-worker`);
    expect(argv.slice(bind - 1, bind + 2)).toEqual(['--ro-bind', `${STATE}/net/T1-worker`, '/run/oxi-net']);
    // After the masks over the state dir, so the bind is what the sandbox sees at /run/oxi-net.
    expect(bind).toBeGreaterThan(argv.lastIndexOf(STATE));
    const sh = argv.indexOf('/bin/sh');
    expect(argv[sh + 2]).toContain('"$n" -e "$b" "$s" "$p"');
    expect(argv.slice(sh + 3, sh + 8)).toEqual(['oxi-sandbox-init', '/usr/bin/node', expect.stringContaining("require('net')"), '/run/oxi-net/proxy.sock', '3128']);
    const env = argv.indexOf('/usr/bin/env', sh);
    expect(argv.slice(env, env + 7)).toEqual(['/usr/bin/env', '-u', 'PWD', '-u', 'NO_PROXY', '-u', 'no_proxy']);
    expect(argv).toContain('HTTPS_PROXY=http://127.0.0.1:3128');
    expect(argv).toContain('http_proxy=http://127.0.0.1:3128');
    expect(argv.at(-1)).toBe(plan.argv.at(-1));
    // "open" adds neither; "none" only the namespace.
    expect(bwrapArgv(planMounts({ request: request(), facts: facts(), hidden, network: 'open' }))).not.toContain('--unshare-net');
    const none = bwrapArgv(planMounts({ request: request(), facts: facts(), hidden, network: 'none' }));
    expect(none).toContain('--unshare-net');
    expect(none.join(' ')).not.toContain('PROXY');
  });
});

describe('the macOS sandbox-exec profile (text only: not run on macOS in CI)', () => {
  const plan = planMounts({ request: request(), facts: facts(), hidden, network: 'open' });
  const profile = sbplProfile({ plan, denied: [...hidden, HOME] });

  it('denies by default, hides the state dir, main clone and home, then allows the workspace back, in that order', () => {
    const lines = profile.trim().split('\n');
    expect(lines.slice(0, 2)).toEqual(['(version 1)', '(deny default)']);
    const deny = lines.findIndex((l) => l.startsWith('(deny file-read* file-write*') && l.includes(`(subpath "${STATE}")`) && l.includes(`(subpath "${HOME}")`) && l.includes(`(subpath "${MAIN}")`));
    const allowWs = lines.indexOf(`(allow file-read* file-write* (subpath "${WS}"))`);
    const allowClaude = lines.indexOf(`(allow file-read* file-write* (subpath "${HOME}/.claude"))`);
    expect(deny).toBeGreaterThan(1);
    expect(allowWs).toBeGreaterThan(deny);
    expect(allowClaude).toBeGreaterThan(deny);
    // claude's settings (hooks) stay read-only after ~/.claude is allowed; /etc/shadow is hidden.
    expect(lines.indexOf(`(deny file-write* (subpath "${HOME}/.claude/settings.json"))`)).toBeGreaterThan(allowClaude);
    expect(profile).toContain('(deny file-read* file-write* (literal "/etc/shadow"))');
    expect(profile).toContain('(allow process-info* (target same-sandbox))');
    expect(lines.at(-1)).toBe('(allow network*)');
    // Only these are writable: the workspace, the backend's home, the temp dirs.
    const writable = lines.filter((l) => l.startsWith('(allow') && l.includes('file-write*'));
    expect(writable.join('\n')).not.toContain(`"${MAIN}"`);
  });

  it('network "none" denies the network; the argv is sandbox-exec -p <profile> <program>', () => {
    const none = planMounts({ request: request(), facts: facts(), hidden, network: 'none' });
    expect(sbplProfile({ plan: none, denied: hidden }).trim().split('\n').at(-1)).toBe('(deny network*)');
    const argv = sandboxExecArgv({ plan: none, denied: hidden });
    expect(argv.slice(0, 2)).toEqual(['/usr/bin/sandbox-exec', '-p']);
    expect(argv.slice(3)).toEqual(['/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js', '-p', 'hi']);
  });

  it('quotes paths as SBPL strings', () => {
    const odd = planMounts({ request: request({ workspace: '/tmp/a "b"\\c' }), facts: facts({}, ['/tmp/a "b"\\c']), hidden, network: 'open' });
    expect(sbplProfile({ plan: odd, denied: [] })).toContain('(subpath "/tmp/a \\"b\\"\\\\c")');
  });
});

describe('probing and refusing', () => {
  it('reads the probe: bwrap working, broken, missing; macOS', () => {
    expect(statusFromProbe(parseProbe('os Linux\nbwrap /usr/bin/bwrap\nversion bubblewrap 0.8.0\nworks yes\n'), 'auto')).toMatchObject({ kind: 'bubblewrap', available: true, reason: 'bubblewrap 0.8.0 at /usr/bin/bwrap' });
    expect(statusFromProbe(parseProbe('os Linux\nbwrap /usr/bin/bwrap\nversion bubblewrap 0.8.0\nworks no bwrap: No permissions to creating new namespace\n'), 'auto')).toMatchObject({ kind: 'none', available: false, reason: expect.stringContaining('cannot create namespaces here: bwrap: No permissions') });
    expect(statusFromProbe(parseProbe('os Linux\n'), 'auto')).toMatchObject({ available: false, reason: expect.stringContaining('bwrap is not installed') });
    expect(statusFromProbe(parseProbe('os Darwin\nsandbox-exec /usr/bin/sandbox-exec\n'), 'auto')).toMatchObject({ kind: 'sandbox-exec', available: true });
    expect(statusFromProbe(parseProbe('os Darwin\nsandbox-exec /usr/bin/sandbox-exec\n'), 'bubblewrap')).toMatchObject({ available: false });
    expect(statusFromProbe(parseProbe('os Linux\nbwrap /usr/bin/bwrap\nworks yes\n'), 'none')).toMatchObject({ kind: 'none', available: false, reason: 'agents.sandbox.mode is "none"' });
  });

  it('reads the launch facts, tabs and all', () => {
    const f = parseFacts('program\t/a/cli.js\npkgroot\t/a\nhome\t/h\ngitdir\t/m/.git/worktrees/t\ncommondir\t/m/.git\nalternate\t/m/.git/objects\ndir\t/usr\nfile\t/etc/shadow\nlink\t/bin\tusr/bin\n');
    expect(f).toMatchObject({ program: '/a/cli.js', packageRoot: '/a', home: '/h', gitdir: '/m/.git/worktrees/t', commondir: '/m/.git', alternates: ['/m/.git/objects'] });
    expect(f.paths.get('/bin')).toEqual({ kind: 'link', target: 'usr/bin' });
  });

  /** This machine, with a PATH on which no bwrap is found: a host without bubblewrap. */
  class HostWithoutBwrap extends LocalHost {
    override exec(argv: readonly string[], options: ExecOptions = {}) {
      return super.exec(argv, { ...options, env: { PATH: '/nonexistent' } });
    }
  }

  it('required: true and no sandbox → SandboxUnavailableError (an environment condition: the task waits, no attempt spent), nothing started', async () => {
    const settings = { mode: 'auto' as const, required: true, network: 'open' as const, writable: [] };
    const sandbox = new HostSandbox(new HostWithoutBwrap('bare'), settings, []);
    expect(await sandbox.status()).toMatchObject({ kind: 'none', available: false, reason: expect.stringContaining('bwrap is not installed') });
    const refused = await sandbox.wrap(request({ workspace: '/tmp' })).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SandboxUnavailableError);
    expect((refused as SandboxUnavailableError).outage).toBe('environment'); // the task waits, spending no attempt
    expect((refused as Error).message).toContain('agents.sandbox.required is true');
    expect((refused as SandboxUnavailableError).fix).toContain('apt-get install bubblewrap');
    // Not required: the agent runs unconfined, and the status says so.
    const lax = new HostSandbox(new HostWithoutBwrap('bare'), { ...settings, required: false }, []);
    const launch = await lax.wrap(request({ workspace: '/tmp' }));
    expect(launch.argv).toEqual(['claude', '-p', 'hi']);
    expect(launch.status.available).toBe(false);
  });
});
