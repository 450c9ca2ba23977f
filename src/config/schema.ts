// Over 400 lines on purpose: the adapter's zod schema is one tree, walked whole by describe.ts (the option reference) and validate.ts.
/**
 * The adapter schema: every project-specific value oxi needs, with its default.
 *
 * `AdapterInput` is what users write in `oxi.config.ts`; `Adapter` is what the rest of oxi
 * reads (defaults applied, every local path absolute). The resolution from one to the other is
 * `validateConfig` (validate.ts). Every field carries a description: docs/adapter.md is
 * generated from them (describe.ts), so write them for users.
 */
import { z } from 'zod';
import { roadmapForms, roadmapSchema, type RoadmapSourceConfig } from './roadmap-schema.js';

// ---------------------------------------------------------------- building blocks

/** Slug used in worktree folder names. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]*$/;
/** Session tags and host names. */
export const TAG_PATTERN = /^[a-z0-9-]+$/;
const ENV_VAR_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Prefixes of well-known secret tokens: pasting one where a variable *name* belongs is an error. */
const SECRET_PREFIX = /^(gh[pousr]_|github_pat_|xox[abpr]-|sk-)/;

const posInt = () => z.int().min(1);
const posNumber = () => z.number().positive();
const ms = (n: number, description: string) => posInt().default(n).describe(description);

/** A local path, resolved relative to the directory holding the config file (`~/` = home). */
const localPath = () => z.string().min(1);

/** A remote absolute path on an ssh host (never resolved locally). */
const remotePath = () =>
  z.string().refine((s) => s.startsWith('/'), { error: 'an absolute path on the remote host (starting with /)' });

/** The *name* of an environment variable: secrets never appear in the config. */
const envVarName = () =>
  z
    .string()
    .regex(ENV_VAR_PATTERN, { error: 'the name of an environment variable (e.g. GITHUB_TOKEN), not its value', abort: true })
    .refine((s) => !SECRET_PREFIX.test(s), {
      error: 'the name of an environment variable, not a secret token (put the token in the environment)',
    });

/** An object whose fields all have defaults: may be omitted, or given in part. */
const section = <T extends z.ZodRawShape>(shape: T, description: string) =>
  z.strictObject(shape).prefault({} as never).describe(description);

/** Refinement: `value` (at `key`) must not exceed `limit` (at `limitPath`). */
function atMost(ctx: z.RefinementCtx, key: string, value: number, limitPath: string, limit: number): void {
  if (value > limit) ctx.addIssue({ code: 'custom', path: [key], input: value, message: `a number <= ${limitPath} (${limit})` });
}

// ---------------------------------------------------------------- repo

const forgeSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('local').describe('No forge: branches are merged locally, no PRs.') }),
    z.strictObject({
      kind: z.literal('github').describe('Open PRs on GitHub (or GitHub Enterprise).'),
      owner: z.string().min(1).describe('Repository owner (user or organisation), e.g. `acme`.'),
      name: z.string().min(1).describe('Repository name, e.g. `widgets`.'),
      tokenEnv: envVarName()
        .default('GITHUB_TOKEN')
        .describe('Name of the environment variable holding the GitHub token (never the token itself).'),
      apiUrl: z
        .url({ protocol: /^https?$/, error: 'an http(s) URL such as https://github.example.com/api/v3' })
        .optional()
        .describe('REST API base URL for GitHub Enterprise; omit for github.com.'),
      remote: z.string().min(1).optional().describe('The git remote of the main clone that is this GitHub repository (task branches are pushed there); `origin` when omitted.'),
    }),
  ])
  .default({ kind: 'local' })
  .describe('Where PRs are opened and watched.');

const repoShape = {
  path: localPath().default('.').describe('The main clone of the repository (relative to the config file).'),
  mainBranch: z.string().min(1).default('main').describe('Branch that task branches start from and merge into.'),
  forge: forgeSchema,
};

/** Optional and without a prefault: whether the user wrote it is what tells `repo` from `repos` (validate.ts fills the defaults). */
export const repoSchema = z
  .strictObject(repoShape)
  .optional()
  .meta({ description: 'The repository oxi works on (one repository; for several, `repos` instead).', defaultText: '{ path: ".", mainBranch: "main", forge: { kind: "local" } }' });

// ---------------------------------------------------------------- hosts

const hostName = () =>
  z
    .string()
    .regex(TAG_PATTERN, { error: 'a host name matching /^[a-z0-9-]+$/ (lowercase letters, digits, dashes)' })
    .describe('Unique host name (`[a-z0-9-]+`).');
const maxWorkers = () => posInt().default(2).describe('Agents running at once on this host.');

/**
 * The bounds on each SSH failure (docs/remote-hosts.md explains which failure each one ends).
 * Optional: an adapter without it reads exactly as before, and the transport applies the same defaults.
 */
const sshConnectionSchema = z
  .strictObject({
    keepaliveIntervalMs: ms(5000, 'How often an SSH keepalive is sent on each connection.'),
    keepaliveCountMax: z.int().min(1).default(3).describe('Unanswered keepalives after which a connection is declared dead (a silent partition is detected within (keepaliveCountMax + 1) × keepaliveIntervalMs).'),
    connectTimeoutMs: ms(15_000, 'Bound on connecting and the SSH handshake (banner, key exchange, authentication).'),
    commandTimeoutMs: ms(60_000, 'Bound on the small commands oxi runs on the host (probe, liveness, file reads and writes, starting and stopping a worker), and the grace after a timed command\'s own limit.'),
    execTimeoutMs: ms(30 * 60_000, 'Bound on a command that sets no time limit of its own (git fetch, push, worktree setup).'),
  })
  .optional()
  .describe('How the SSH connection to this host detects a partition and bounds each failure (all optional).');

const hostSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    name: hostName(),
    kind: z.literal('local').describe('Run workers on this machine.'),
    maxWorkers: maxWorkers(),
  }),
  z.strictObject({
    name: hostName(),
    kind: z.literal('ssh').describe('Run workers on a remote machine over ssh.'),
    address: z.string().min(1).describe('Hostname or IP address, e.g. `build-1.internal`.'),
    port: z.int().min(1).max(65535).default(22).describe('ssh port.'),
    user: z.string().min(1).describe('ssh user.'),
    identityFile: localPath().optional().describe('Local private key file (resolved like other local paths).'),
    knownHosts: localPath().optional().describe('Local known_hosts file to verify the host key against.'),
    maxWorkers: maxWorkers(),
    mainClone: remotePath().optional().describe('Absolute path of the repository clone on the remote host (required with `repo`; with `repos`, name each clone in `repos` instead).'),
    worktreesRoot: remotePath().describe('Absolute remote directory under which worktrees are created.'),
    repos: z
      .record(
        z.string().regex(NAME_PATTERN, { error: 'a repository name of `repos` (`[a-z0-9][a-z0-9-]*`)' }),
        z.strictObject({
          mainClone: remotePath().describe('Absolute path of this repository\'s clone on the remote host.'),
          worktreesRoot: remotePath().optional().describe('Absolute remote directory for this repository\'s worktrees; default: the host\'s worktreesRoot (each repository gets its own folder under it).'),
        }),
      )
      .optional()
      .describe('With `repos`: the clone of each repository this host has, by repository name. A task of a repository the host has no clone of is never placed there.'),
    connection: sshConnectionSchema,
  }),
]);

const hostsSchema = z
  .array(hostSchema)
  .min(1)
  .superRefine((hosts, ctx) => {
    const seen = new Map<string, number>();
    hosts.forEach((h, i) => {
      const first = seen.get(h.name);
      if (first === undefined) seen.set(h.name, i);
      else
        ctx.addIssue({
          code: 'custom',
          path: [i, 'name'],
          input: h.name,
          message: `a unique host name ("${h.name}" is already used by hosts.${first})`,
        });
    });
  })
  .default([{ name: 'local', kind: 'local', maxWorkers: 2 }])
  .describe('Machines that run workers. Host names must be unique.');

// ---------------------------------------------------------------- budget, policy, checks

const budgetSchema = z
  .strictObject({
    perTaskUsd: posNumber().default(2).describe('Spend cap for one task, in USD.'),
    dailySoftUsd: posNumber().default(20).describe('Daily spend after which no new task is started.'),
    dailyHardUsd: posNumber().default(50).describe('Daily spend cap: a session starts only if it fits under it with every running session\'s per-task cap reserved; nothing new starts until the next UTC day.'),
  })
  .superRefine((b, ctx) => {
    atMost(ctx, 'dailySoftUsd', b.dailySoftUsd, 'budget.dailyHardUsd', b.dailyHardUsd);
    atMost(ctx, 'perTaskUsd', b.perTaskUsd, 'budget.dailyHardUsd', b.dailyHardUsd);
  })
  .prefault({})
  .describe('Spending limits (USD).');

const scopePrefixes = (defaults: string[], description: string) =>
  z
    .array(
      z.string().refine((s) => !s.startsWith('/') && !s.split('/').includes('..'), {
        error: 'a repo-relative path prefix (no leading / and no ..)',
      }),
    )
    .default(defaults)
    .describe(description);

const policySchema = section(
  {
    autoMerge: z.boolean().default(true).describe('Merge a PR once checks and the critic approve.'),
    dirtyTree: z
      .enum(['files_touched_only', 'strict', 'permissive'])
      .default('files_touched_only')
      .describe('What uncommitted changes in the main clone block: only files the task touches, any, or none.'),
    maxAttempts: posInt().default(3).describe('Dispatch attempts (failures, reaps) before a task is abandoned. Environment errors (a full disk) do not count.'),
    maxFixAttempts: z.int().min(0).default(2).describe('Critic/check rejections answered by a fix attempt. A PR step that fails (forge or network error) is retried instead.'),
    maxPrFailures: posInt().default(8).describe('Failures in a row of one PR step (open, checks, review, merge: a forge or network error) retried after a backoff before a human is asked. They spend no attempt.'),
    scope: section(
      {
        allowed: scopePrefixes([''], 'Path prefixes agents may change (`""` = everything).'),
        blocked: scopePrefixes(['.env', 'secrets/'], 'Path prefixes agents must never change; such a diff is rejected.'),
        sensitive: scopePrefixes(['.github/'], 'Path prefixes whose changes are never auto-merged.'),
        protected: scopePrefixes(
          [],
          'More path prefixes whose changes always wait for a human (`awaiting_human`, reason `touches protected path X`), added to the built-in list (the adapter file, the state dir, `.git*`, the roadmap, CI config, the checks\' own files: docs/security.md). The built-in list cannot be shortened.',
        ),
      },
      'Which paths agents may change (repo-relative prefixes).',
    ),
    onClosedPr: z
      .enum(['abandon', 'replan'])
      .default('abandon')
      .describe('What to do when a human closes a task PR without merging.'),
  },
  'Merge and retry policy.',
);

const checksShape = {
    command: z
      .array(z.string().min(1))
      .min(1)
      .default(['npm', 'test'])
      .describe('Check command as an argv array (no shell). The local forge runs it in a fresh checkout of the PR head, in the agents\' sandbox: it must install what it needs (e.g. ["sh", "-c", "npm ci && npm test"], with agents.sandbox.writable for a cache such as ~/.npm).'),
    timeoutMs: ms(600_000, 'Check command timeout.'),
    env: z
      .strictObject({
        allow: z.array(envVarName()).describe('Environment variables passed through to the checks; all others are dropped (a forge token never is).'),
        set: z.record(envVarName(), z.string()).default({}).describe('Extra environment variables set for the checks.'),
      })
      .optional()
      .describe('The checks\' own whitelisted environment; omitted, they get the agents\' (agents.env). `oxi doctor` prints which variable reaches which phase.'),
};

const checksSchema = section(checksShape, 'The checks a change must pass before review.');

// ---------------------------------------------------------------- workspace (setup, files, caches)

const BASE_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TERM', 'TMPDIR', 'USER'];

const repoRelative = () =>
  z.string().min(1).refine((s) => !s.startsWith('/') && !s.split('/').includes('..'), { error: 'a path inside the repository (no leading / and no ..)' });

const workspaceSchema = section(
  {
    setup: z
      .strictObject({
        command: z.array(z.string().min(1)).min(1).describe('Setup command as an argv array (no shell), e.g. `["npm", "ci"]`; use `["sh", "-c", "..."]` for several steps. Runs in the task\'s workspace, on its host, in the agents\' sandbox with the workspace and the cache directory writable.'),
        timeoutMs: ms(600_000, 'Setup command timeout; a setup over it is killed and counts as failed.'),
        env: section(
          {
            allow: z.array(envVarName()).default(BASE_ENV).describe('Environment variables passed through to the setup (e.g. `NPM_TOKEN`); a name listed here and not in agents.env.allow reaches the setup only, never an agent.'),
            set: z
              .record(envVarName(), z.string())
              .default({})
              .describe('Extra variables for the setup; `{cache}` in a value is replaced by the cache directory. npm_config_cache, YARN_CACHE_FOLDER, PIP_CACHE_DIR and XDG_CACHE_HOME point into the cache directory unless set here.'),
          },
          'The setup\'s own whitelisted environment (never the agents\').',
        ),
        cacheKey: z
          .array(repoRelative())
          .optional()
          .describe('Repository files whose content keys the setup (e.g. `["package-lock.json"]`): a fix attempt runs the setup again only when their hash changed. Omitted: the setup runs once per attempt.'),
      })
      .optional()
      .describe('Installs what the repository needs (dependencies, build cache) in each fresh workspace, once after provisioning and before the worker\'s first session (docs/workspaces.md).'),
    files: z
      .array(
        z.strictObject({
          from: z.string().min(1).describe('A file of the main clone (repository-relative, e.g. `.env.example`) or an absolute path / `~/` path on the engine\'s machine.'),
          to: repoRelative().describe('Where it goes in the workspace, e.g. `.env`.'),
        }),
      )
      .default([])
      .describe('Files the repository does not track, copied into each workspace before the setup (e.g. `.env.example` → `.env`).'),
  },
  'How each task\'s workspace is prepared before an agent works in it (docs/workspaces.md).',
);

// ---------------------------------------------------------------- agents

const backend = z
  .enum(['scripted', 'claude', 'codex', 'acp'])
  .describe('Agent backend: `scripted` replays a script (tests, demos), `claude` / `codex` run those CLIs, `acp` any agent that speaks the Agent Client Protocol (agents.acp.command).');
const model = () => z.string().min(1).optional().describe('Model name passed to the backend; omit for its default.');

const routeObject = () =>
  z.strictObject({
      backend,
      model: model(),
      fallbacks: z
        .array(z.strictObject({ backend, model: model() }))
        .default([])
        .describe('Routes tried in order when the backend is unavailable (rate limits, outages).'),
  });

const route = (description: string) => routeObject().prefault({ backend: 'scripted' }).describe(description);

const argvPrefix = (bin: string) =>
  z.array(z.string().min(1)).min(1).default([bin]).describe(`The program (and leading arguments) to run, as an argv array; default \`["${bin}"]\` from PATH.`);

const claudeSchema = section(
  {
    command: argvPrefix('claude'),
    permissionMode: z
      .enum(['default', 'acceptEdits', 'plan', 'bypassPermissions'])
      .default('acceptEdits')
      .describe('`--permission-mode` of worker runs (planner and critic run in `default` mode with read-only tools). `bypassPermissions` as root needs `IS_SANDBOX=1`, which oxi then sets.'),
    allowedTools: z
      .array(z.string().min(1))
      .default(['Read', 'Write', 'Edit', 'Glob', 'Grep', 'Bash(git *)', 'Bash(npm *)', 'Bash(node *)'])
      .describe('`--allowedTools` of worker runs (Claude Code permission rules).'),
    extraArgs: z.array(z.string()).default([]).describe('More arguments appended to every claude run.'),
  },
  'Settings of the `claude` backend (Claude Code, `claude -p`).',
);

const codexSchema = section(
  {
    command: argvPrefix('codex'),
    sandbox: z
      .enum(['read-only', 'workspace-write', 'danger-full-access'])
      .default('workspace-write')
      .describe('`--sandbox` of worker runs (planner and critic run `read-only`).'),
    approvalPolicy: z
      .enum(['never', 'on-request', 'on-failure', 'untrusted'])
      .default('never')
      .describe('Passed as `-c approval_policy=...` (codex refuses `-a` after `exec`).'),
    rateCard: localPath()
      .optional()
      .describe('JSON file of USD prices per million tokens by model, `{"<model>": {"input": 1.25, "cachedInput": 0.125, "output": 10}}`; codex reports tokens only.'),
    config: z.array(z.string().min(1)).default([]).describe('Extra `-c key=value` overrides passed to every codex run (e.g. a model provider).'),
    sessionsDir: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Where codex writes its session files, read after each run for reasoning tokens `--json` may omit (on the host the run was on).', defaultText: '<CODEX_HOME of the agent env, else $HOME/.codex>/sessions' }),
    sessionWaitMs: z.int().min(0).default(3000).describe('How long to wait after a codex run for its session file to hold the run\'s token count; past it, the spend is recorded with a `budget.undercount_risk` row.'),
  },
  'Settings of the `codex` backend (`codex exec`).',
);

/** One host an agent may reach through the network proxy: `host`, `host:port`, `*.domain`, or the object form. */
const allowEntry = z.union([
  z.string().min(1).describe('`host` (ports 443 and 80), `host:port`, or `*.domain` (any subdomain).'),
  z.strictObject({
    host: z.string().min(1).describe('Host name or IP literal; `*.domain` matches every subdomain.'),
    port: z.int().min(1).max(65535).optional().describe('The one port allowed (default: 443 and 80).'),
    methods: z
      .array(z.string().regex(/^[A-Za-z]+$/))
      .optional()
      .describe('HTTP methods allowed to this host (default: all). An HTTPS tunnel hides its requests, so it needs `CONNECT` in this list.'),
  }),
]);

const networkModeSchema = z.enum(['open', 'allowlist', 'none']);

const networkSchema = z
  .union([
    networkModeSchema,
    z.strictObject({
      mode: networkModeSchema.optional().describe('As the plain-string form; default: `allowlist` where the sandbox supports it (bubblewrap on a local host), else `open` (oxi doctor warns).'),
      allow: z.array(allowEntry).default([]).describe('Hosts agents may reach besides the defaults: the model API of the agent\'s backend (from its base URL) and the package registry.'),
      setupAllow: z.array(allowEntry).default([]).describe('More hosts the workspace setup may reach besides `allow` (setup usually installs dependencies).'),
      defaults: z.boolean().default(true).describe('Add the defaults (model API of the backend, npm registry) to `allow`; `false` allows only what `allow` lists.'),
    }),
  ])
  .optional()
  .describe('The agent\'s network: `open` (no limit), `allowlist` (no direct network; a local proxy run by oxi lets through only allowed hosts and records each refused request in the ledger as `network.denied`), or `none` (no network at all). docs/security.md.');

const acpSchema = section(
  {
    command: z
      .array(z.string().min(1))
      .min(1)
      .default(['gemini', '--experimental-acp'])
      .describe('The ACP agent to run, as an argv array (it speaks ACP on stdio), e.g. `["gemini", "--experimental-acp"]` or an adapter for another CLI.'),
    allowedTools: z
      .array(z.string().min(1))
      .optional()
      .describe("Tool rules the agent's permission requests are answered from, in Claude Code's form (`Read`, `Edit`, `Bash(npm *)`); default: agents.claude.allowedTools, the claude worker's list."),
    writeScope: z
      .enum(['workspace', 'plan'])
      .default('workspace')
      .describe("Where the worker's edits may go: `workspace` (anywhere in it but policy.scope.blocked), `plan` (only the plan's files_touched); an edit outside is refused at the tool call."),
    rateCard: localPath()
      .optional()
      .describe('JSON file of USD prices per million tokens by model (as agents.codex.rateCard), used when the agent reports tokens but no cost.'),
  },
  'Settings of the `acp` backend (any Agent Client Protocol agent; docs/agents.md).',
);

const agentsSchema = section(
  {
    planner: route('Agent that turns a roadmap item into a plan.'),
    worker: route('Agent that writes the change.'),
    critic: route('Agent that reviews the change.'),
    shadow: z
      .strictObject({
        backend,
        model: model(),
        sample: z.number().min(0).max(1).default(1).describe('Share of worker sessions also run on the shadow route, 0..1 (decided per task and attempt from a hash, so a restart never re-rolls); default 1: every session.'),
      })
      .optional()
      .describe('Shadow runs (docs/agents.md): each worker session is also run on this route with the same prompt, in a sibling workspace sandboxed like any agent, and never shipped; both results are recorded as a pair (`oxi shadow`). Off when absent.'),
    scripted: section(
      { script: localPath().optional().describe("Path to the scripted agent's script JSON.") },
      'Settings of the `scripted` backend.',
    ),
    env: section(
      {
        allow: z
          .array(envVarName())
          .default(['PATH', 'HOME', 'LANG', 'LC_ALL', 'TERM', 'TMPDIR', 'USER'])
          .describe('Environment variables passed through to agent subprocesses; all others are dropped.'),
        set: z
          .record(envVarName(), z.string())
          .default({})
          .describe('Extra environment variables set for agent subprocesses.'),
      },
      'Whitelisted environment for agent subprocesses.',
    ),
    timeouts: section(
      {
        wallMinutes: posNumber().default(60).describe('Hard wall-clock limit of one agent run.'),
        stallMinutes: posNumber().default(10).describe('An agent silent for this long is stopped.'),
      },
      'Agent run limits.',
    ),
    maxTurns: posInt().default(50).describe('Maximum turns of one agent run.'),
    claude: claudeSchema,
    codex: codexSchema,
    acp: acpSchema,
    prompts: section(
      {
        planner: z.string().min(1).optional().describe('Planner prompt template (`{{taskId}}`, `{{title}}`, `{{description}}`, `{{memory}}`).'),
        worker: z.string().min(1).optional().describe('Worker prompt template (`{{plan}}`, `{{feedback}}` and the planner\'s fields).'),
        critic: z.string().min(1).optional().describe('Critic prompt template (`{{plan}}`, `{{diff}}`, `{{scope}}`).'),
      },
      'Prompt templates overriding the built-in ones (src/agents/prompts.ts).',
    ),
    sandbox: z
      .strictObject({
        mode: z
          .enum(['auto', 'bubblewrap', 'none'])
          .default('auto')
          .describe('How agent sessions are confined: `auto` uses bubblewrap (Linux) or sandbox-exec (macOS) where the host has it, `bubblewrap` insists on bubblewrap, `none` runs agents unconfined (oxi doctor and the dashboard then say "agents are NOT sandboxed").'),
        required: z
          .boolean()
          .default(false)
          .describe('Refuse to start any agent on a host where no sandbox is available (the task waits, no attempt is spent) instead of running it unconfined.'),
        network: z
          .enum(['open', 'none'])
          .optional()
          .describe('Older form of agents.network (`open` or `none`), still read when agents.network is not set: `none` gives a sandboxed agent no network at all, not even loopback to the host.'),
        writable: z
          .array(z.string().min(1).refine((s) => s.startsWith('/') || s.startsWith('~/'), { error: 'an absolute path, or one starting with ~/ (the agent\'s HOME on its host)' }))
          .default([])
          .describe('More paths a sandboxed agent (any role: worker, planner, critic) may write besides its workspace, e.g. `~/.npm` for npm\'s cache (`~/` is the agent\'s HOME on its host; paths that do not exist are skipped). Each one widens what an agent can reach.'),
      })
      .superRefine((s, ctx) => {
        if (s.mode === 'none' && s.required)
          ctx.addIssue({ code: 'custom', path: ['required'], input: s.required, message: 'false while agents.sandbox.mode is "none" (a required sandbox that is switched off would refuse every dispatch): set mode to "auto" or "bubblewrap", or required to false' });
      })
      .prefault({})
      .describe('The sandbox every agent session (worker, planner, critic) runs in: its workspace is its only writable path (docs/security.md).'),
    network: networkSchema,
    plannerRetries: z.int().min(0).default(1).describe('Extra planner runs when its answer is not a valid plan, before the task fails.'),
    oauthExpiringHours: posNumber().default(24).describe('Claude OAuth credentials expiring within this many hours are reported as `expiring`.'),
  },
  'Which agents run, and how.',
);

// ---------------------------------------------------------------- repos (several repositories in one engine)

const branchPrefix = () =>
  z
    .string()
    .regex(/^[A-Za-z0-9._/-]*$/, { error: 'a branch-name prefix (letters, digits, . _ / -)', abort: true })
    .refine((s) => !s.includes('..') && !s.startsWith('/'), { error: 'a branch-name prefix without .. or a leading /' });

const scopeOverride = (description: string) =>
  z
    .array(z.string().refine((s) => !s.startsWith('/') && !s.split('/').includes('..'), { error: 'a repo-relative path prefix (no leading / and no ..)' }))
    .optional()
    .describe(description);

const repoEntrySchema = z.strictObject({
  name: z
    .string()
    .regex(NAME_PATTERN, { error: 'a repository name matching /^[a-z0-9][a-z0-9-]*$/ (lowercase letters, digits, dashes)' })
    .describe('Short slug naming the repository (`[a-z0-9][a-z0-9-]*`, unique): task ids read `<name>/<id>`, and it names the repository\'s folders.'),
  path: localPath().describe('The main clone of the repository (relative to the config file).'),
  mainBranch: z.string().min(1).default('main').describe('Branch that task branches start from and merge into.'),
  forge: forgeSchema,
  roadmap: roadmapForms.optional().meta({
    description: 'This repository\'s roadmap (same forms as the top-level `roadmap`; a markdown path is relative to the config file).',
    defaultText: 'the top-level roadmap; a markdown path is then read in this repository\'s clone',
  }),
  checks: z.strictObject(checksShape).optional().meta({ description: 'This repository\'s checks (same fields as the top-level `checks`).', defaultText: 'the top-level checks' }),
  scope: z
    .strictObject({
      allowed: scopeOverride('Path prefixes agents may change in this repository; default: policy.scope.allowed.'),
      blocked: scopeOverride('Path prefixes agents must never change in this repository; default: policy.scope.blocked.'),
      sensitive: scopeOverride('Path prefixes of this repository whose changes are never auto-merged; default: policy.scope.sensitive.'),
    })
    .optional()
    .describe('This repository\'s scope policy; each omitted list is policy.scope\'s. policy.scope.protected and the built-in protected paths apply to every repository.'),
  branches: z
    .strictObject({ prefix: branchPrefix().optional().describe('Task branch = prefix + task id (without the repository name) lowercased; default: branches.prefix.') })
    .optional()
    .describe('Task branch naming in this repository.'),
  budget: z
    .strictObject({
      perTaskUsd: posNumber().optional().describe('Spend cap for one task of this repository (at most budget.perTaskUsd).'),
      dailySoftUsd: posNumber().optional().describe('Daily spend of this repository after which none of its new tasks start (at most budget.dailySoftUsd).'),
      dailyHardUsd: posNumber().optional().describe('Daily spend cap of this repository (at most budget.dailyHardUsd).'),
    })
    .optional()
    .describe('Caps of this repository inside the global budget (each omitted one is the global one).'),
  routing: z
    .strictObject({
      planner: routeObject().optional().describe('Planner route for this repository\'s tasks.'),
      worker: routeObject().optional().describe('Worker route for this repository\'s tasks.'),
      critic: routeObject().optional().describe('Critic route for this repository\'s tasks.'),
    })
    .optional()
    .describe('Agent routes for this repository\'s tasks, overriding agents.planner / worker / critic.'),
});

const reposSchema = z
  .array(repoEntrySchema)
  .min(1)
  .superRefine((repos, ctx) => {
    const seen = new Map<string, number>();
    repos.forEach((r, i) => {
      const first = seen.get(r.name);
      if (first === undefined) seen.set(r.name, i);
      else ctx.addIssue({ code: 'custom', path: [i, 'name'], input: r.name, message: `a unique repository name ("${r.name}" is already used by repos.${first})` });
    });
  })
  .optional()
  .describe('Several repositories in one engine, instead of `repo` (docs/adapter.md, "One repository or several"): hosts, agents, the global budget, the killswitch, the dashboard and notifications are shared.');

/** Cross-field rules of `repo` / `repos` (called from the adapter's superRefine). */
function refineRepos(a: z.output<typeof adapterObject>, ctx: z.RefinementCtx): void {
  if (a.repo !== undefined && a.repos !== undefined)
    ctx.addIssue({ code: 'custom', path: ['repos'], input: a.repos.map((r) => r.name), message: 'either `repo` or `repos`, not both (move repo into repos as an entry with a name, or drop repos)' });
  const names = new Set((a.repos ?? []).map((r) => r.name));
  a.hosts.forEach((h, i) => {
    if (h.kind !== 'ssh') return;
    if (a.repos === undefined && h.mainClone === undefined)
      ctx.addIssue({ code: 'custom', path: ['hosts', i, 'mainClone'], message: 'an absolute path on the remote host (required: the repository\'s clone there)' });
    if (a.repos === undefined && h.repos !== undefined)
      ctx.addIssue({ code: 'custom', path: ['hosts', i, 'repos'], input: Object.keys(h.repos), message: 'no per-repository clones with a single `repo` (use mainClone, or name the repositories in `repos`)' });
    for (const name of Object.keys(h.repos ?? {}))
      if (a.repos !== undefined && !names.has(name))
        ctx.addIssue({ code: 'custom', path: ['hosts', i, 'repos'], input: name, message: `keys that are repositories of repos (${[...names].join(', ')}), not "${name}"` });
  });
  a.repos?.forEach((r, i) => {
    for (const key of ['perTaskUsd', 'dailySoftUsd', 'dailyHardUsd'] as const) {
      const v = r.budget?.[key];
      if (v !== undefined && v > a.budget[key])
        ctx.addIssue({ code: 'custom', path: ['repos', i, 'budget', key], input: v, message: `a number <= budget.${key} (${a.budget[key]}): a repository's cap lies inside the global one` });
    }
    const roadmap = r.roadmap ?? a.roadmap;
    if (typeof roadmap === 'object' && roadmap.source === 'github-issues' && r.forge.kind !== 'github')
      ctx.addIssue({ code: 'custom', path: ['repos', i, 'roadmap'], input: 'github-issues', message: 'a roadmap source that matches the forge: "github-issues" needs this repository\'s forge.kind "github"' });
  });
}

// ---------------------------------------------------------------- notifications, memory, engine

const notificationSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('log').describe('Write to the oxi log.') }),
  z.strictObject({ kind: z.literal('stderr').describe('Print to stderr.') }),
  z.strictObject({
    kind: z.literal('slack').describe('Post to a Slack incoming webhook.'),
    webhookEnv: envVarName().describe('Name of the environment variable holding the Slack webhook URL.'),
  }),
  z.strictObject({
    kind: z.literal('webhook').describe('POST JSON to a URL.'),
    urlEnv: envVarName().describe('Name of the environment variable holding the webhook URL.'),
  }),
]);

const memorySchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('none').describe('No memory between tasks.') }),
    z.strictObject({
      kind: z.literal('file').describe('Notes kept as files.'),
      dir: localPath().describe('Directory holding the notes.'),
    }),
  ])
  .default({ kind: 'none' })
  .describe('Where agents keep notes between tasks.');

const engineSchema = z
  .strictObject({
    maxLiveTasks: posInt()
      .optional()
      .meta({
        description: 'Task actors alive at once (planning, waiting for a slot, working, in review). Unset: one per host slot, at least 20.',
        defaultText: 'max(20, sum of hosts[].maxWorkers)',
      }),
    seedIntervalMs: ms(30_000, 'How often the roadmap is re-read for new tasks.'),
    reaperIntervalMs: ms(30_000, 'How often the reaper looks for stalled or dead workers.'),
    prWatchIntervalMs: ms(30_000, 'How often open PRs are polled.'),
    hostProbeIntervalMs: ms(15_000, 'How often hosts are probed for health (an unreachable host at most this long after its last try), and the logs dir while a full disk pauses dispatch.'),
    stallMs: ms(600_000, 'Reaper: no progress for this long → probe the worker.'),
    deadmanMs: ms(1_800_000, 'Reaper: no progress for this long → the worker is declared lost.'),
    backoffBaseMs: ms(30_000, 'First retry delay; doubles per attempt.'),
    backoffMaxMs: ms(1_800_000, 'Largest retry delay.'),
    drainTimeoutMs: ms(30_000, 'On shutdown, how long running work may take to reach a safe point.'),
    janitor: section(
      {
        keepMs: ms(86_400_000, 'How long the workspace and branch of a merged or abandoned task (and the workspaces of its shadow runs) are kept for inspection before the janitor (run with the reaper) removes them, on the engine\'s machine and on SSH hosts (over the host\'s connection, only inside its worktreesRoot). An abandoned task keeps `refs/oxi/tasks/<id>` (its last attempt, for a retry or a human); a merged one loses it too (its change is on the main branch).'),
        logsKeepMs: ms(1_209_600_000, 'How long the agent stream files of a merged or abandoned task (every role: planner, worker, critic, shadow, setup) are kept after it ended before the janitor removes them: `<paths.logs>/<task>/` on the engine\'s machine and `<worktreesRoot>/.oxi-logs/<namespace>/<task>/` on SSH hosts (only strictly inside those roots, never through a link). Its ledger rows, PR and outcome stay; `oxi tail` and the dashboard then say the logs were removed. Longer than `keepMs` by default (14 days).'),
      },
      'Cleanup of finished tasks\' workspaces, branches and agent logs, and of shadow runs\' workspaces, on local and SSH hosts.',
    ),
    retention: section(
      {
        ledgerDays: posInt().default(30).describe('Ledger rows older than this many days are moved by the janitor into a monthly archive database under `<stateDir>/archive/` (`oxi-archive-YYYY-MM.db`). Rows of tasks not yet merged or abandoned, and the newest task-less row of each kind (what gates read as their last word), stay whatever their age.'),
        terminalSnapshotDays: posInt().default(7).describe('The persisted snapshot of a task merged or abandoned longer ago than this many days is moved to the same archive (a finished task is never restored from it; its row and ledger stay).'),
        intervalMs: ms(3_600_000, 'How often the janitor (run with the reaper) looks for rows past their retention.'),
      },
      'How long the database keeps old ledger rows and finished tasks\' snapshots before archiving them (see docs/runbooks.md "Database growth and retention").',
    ),
    restartIntensity: section(
      {
        maxRestarts: posInt().default(5).describe('Restarts allowed within `periodMs` before giving up.'),
        periodMs: ms(60_000, 'Window over which restarts are counted.'),
      },
      'Supervisor restart intensity.',
    ),
    dashboard: section(
      {
        port: z.int().min(0).max(65535).default(8765).describe('Dashboard port (`0` picks a free port).'),
        bind: z.string().min(1).default('127.0.0.1').describe('Address the dashboard listens on.'),
        tokenEnv: envVarName()
          .optional()
          .describe('Name of the environment variable holding the dashboard access token; omit for no token.'),
      },
      'The web dashboard.',
    ),
  })
  .superRefine((e, ctx) => atMost(ctx, 'backoffBaseMs', e.backoffBaseMs, 'engine.backoffMaxMs', e.backoffMaxMs))
  .prefault({})
  .describe('Engine timing and limits.');

// ---------------------------------------------------------------- inference gateway, triage

/** A short non-agentic call (no tools, no workspace) to an OpenAI-compatible endpoint: docs/agents.md. */
const inferenceSchema = z
  .strictObject({
    baseUrl: z
      .url({ protocol: /^https?$/, error: 'an http(s) URL of an OpenAI-compatible API, such as https://openrouter.ai/api/v1 (oxi POSTs to <baseUrl>/chat/completions)' })
      .describe('Base URL of an OpenAI-compatible API (a LiteLLM proxy, OpenRouter, xAI, a local server); oxi POSTs to `<baseUrl>/chat/completions`.'),
    apiKeyEnv: envVarName()
      .optional()
      .describe('Name of the environment variable holding the API key, read at each call (never the key itself; never logged or stored). Omit for an endpoint that needs no key.'),
    models: z
      .strictObject({
        triage: z.string().min(1).optional().describe('Model of the `triage` role (the stuck-task summary), e.g. `x-ai/grok-4-fast` on OpenRouter.'),
      })
      .prefault({})
      .describe('The model each inference role uses (routing by role: `triage`).'),
    timeoutMs: ms(30_000, 'Bound on one call, connection to last byte; a call over it fails with InferenceTimeoutError (triage records it once as `task.triage_missed`).'),
    rateCard: localPath()
      .optional()
      .describe('JSON file of USD prices per million tokens by model (as agents.codex.rateCard), used when the endpoint reports no cost (neither the `x-litellm-response-cost` header nor `usage.total_cost`).'),
  })
  .optional()
  .describe('The inference gateway: short, non-streaming calls for the engine\'s own questions (docs/agents.md). Each call is checked against the daily hard cap first and its cost recorded as spend.');

const triageSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe('When a task is abandoned or parked in `awaiting_human`, ask the `triage` model for a one-paragraph summary of why (from its ledger), recorded as a `task.triage` ledger row and shown in `oxi tasks`, the dashboard and the brief. Needs inference.models.triage.'),
    maxAgeHours: posNumber().default(24).describe('At start, tasks that stopped longer ago than this without a summary are left alone (so enabling triage does not summarise a long history at once).'),
  })
  .optional()
  .describe('Stuck-task triage (off by default; off, nothing is called and nothing is recorded).');
// ---------------------------------------------------------------- promote

/** "daily HH:MM" (UTC) or "after-merge"; machines/promote-schedule.ts reads it. */
const PROMOTE_SCHEDULE = /^(daily ([01][0-9]|2[0-3]):[0-5][0-9]|after-merge)$/;

const promoteRecipeSchema = z.strictObject({
  command: z
    .array(z.string().min(1))
    .min(1, { error: 'a command as argv words, e.g. ["npm", "run", "promote"] (never a shell string)' })
    .describe('The promote command as argv words (run without a shell), e.g. `["./scripts/promote.sh", "--prod"]`. It runs in the main clone of its repository.'),
  schedule: z
    .string()
    .regex(PROMOTE_SCHEDULE, { error: 'a schedule: "daily HH:MM" (24-hour clock, UTC) or "after-merge"' })
    .describe('When it runs: `daily HH:MM` (UTC, once a day at that time; a run missed while no daemon ran happens once at the next start) or `after-merge` (after a task merges, once per batch of merges noticed together).'),
  enabled: z.boolean().default(false).describe('Whether the schedule runs it. Off by default, so it can be configured and left dormant; `oxi promote --now` runs it either way.'),
  repo: z
    .string()
    .regex(NAME_PATTERN, { error: 'a repository name matching /^[a-z0-9][a-z0-9-]*$/' })
    .optional()
    .describe('The repository it promotes (its name); omit with a single repository. In a list, every entry but one names its own.'),
  env: z
    .array(envVarName())
    .default([])
    .describe('Environment variables passed through to the command besides PATH, HOME, LANG, LC_ALL, TERM, TMPDIR and USER; all others are dropped, and the forge token never passes.'),
  timeoutMinutes: posNumber().default(30).describe('A run still going after this long is stopped (its whole process group) and recorded as failed.'),
});

const promoteSchema = z
  .union([promoteRecipeSchema, z.array(promoteRecipeSchema).min(1)])
  .optional()
  .superRefine((p, ctx) => {
    if (!Array.isArray(p)) return;
    // One recipe per repository: the name picks it in `oxi promote --repo` and names its actor.
    const seen = new Set<string>();
    p.forEach((r, i) => {
      const key = r.repo ?? '';
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i, 'repo'], input: r.repo, message: r.repo ? `a repository named once: "${r.repo}" has two promote recipes` : 'a repository name on every recipe but one (two recipes without `repo`)' });
      seen.add(key);
    });
  })
  .describe('The promote recipe: a command run on a schedule (or with `oxi promote --now`), each run a `promote.run` ledger row (docs/adapter.md, "Promote"). One recipe, or a list of them with the same fields, one per repository.');

// ---------------------------------------------------------------- the adapter

const adapterObject = z.strictObject({
    name: z
      .string()
      .regex(NAME_PATTERN, {
        error: 'a name matching /^[a-z0-9][a-z0-9-]*$/ (lowercase letters, digits, dashes; used in folder names)',
      })
      .describe('Project name (`[a-z0-9][a-z0-9-]*`), used in worktree folder names.'),
    repo: repoSchema,
    repos: reposSchema,
    roadmap: roadmapSchema,
    branches: section(
      {
        prefix: branchPrefix()
          .default('oxi/')
          .describe('Task branch = prefix + task id lowercased.'),
      },
      'Task branch naming.',
    ),
    sessionTag: z
      .string()
      .regex(TAG_PATTERN, { error: 'a tag matching /^[a-z0-9-]+$/ (lowercase letters, digits, dashes)' })
      .default('default')
      .describe('Two engines with different tags never collide (`[a-z0-9-]+`).'),
    paths: section(
      {
        stateDir: localPath().default('.oxi').describe('Directory for oxi state (relative to the config file).'),
        db: localPath().optional().meta({ description: 'The SQLite database.', defaultText: '<stateDir>/oxi.db' }),
        logs: localPath().optional().meta({ description: 'Log directory.', defaultText: '<stateDir>/logs' }),
        worktreesRoot: localPath()
          .optional()
          .meta({ description: 'Directory holding local worktrees.', defaultText: '<stateDir>/worktrees' }),
      },
      'Where oxi keeps its own files. Relative paths are resolved against the config file.',
    ),
    hosts: hostsSchema,
    planTier: section(
      {
        name: z.string().min(1).default('default').describe('Name of the agent plan tier (for reports).'),
        maxWorkers: posInt().default(4).describe('Agents running at once across all hosts (the plan’s limit).'),
      },
      'The agent subscription tier.',
    ),
    budget: budgetSchema,
    policy: policySchema,
    checks: checksSchema,
    workspace: workspaceSchema,
    agents: agentsSchema,
    notifications: z
      .array(notificationSchema)
      .default([{ kind: 'log' }])
      .describe('Where events (merged, abandoned, budget reached…) are sent.'),
    memory: memorySchema,
    engine: engineSchema,
    inference: inferenceSchema,
    triage: triageSchema,
    promote: promoteSchema,
  });

export const adapterSchema = adapterObject
  .superRefine((a, ctx) => {
    refineRepos(a, ctx);
    if (a.triage?.enabled && !a.inference?.models.triage) {
      ctx.addIssue({ code: 'custom', path: ['triage', 'enabled'], input: true, message: 'inference.models.triage set when triage is enabled (the model that writes the summary): add `inference: { baseUrl, apiKeyEnv, models: { triage: "<model>" } }`, or set triage.enabled to false' });
    }
    // Issues are read, commented on and closed through the GitHub forge's repository and token.
    if (a.repos === undefined && typeof a.roadmap === 'object' && a.roadmap.source === 'github-issues' && (a.repo?.forge.kind ?? 'local') !== 'github') {
      ctx.addIssue({ code: 'custom', path: ['roadmap', 'source'], input: a.roadmap.source, message: 'a roadmap source that matches the forge: "github-issues" needs repo.forge.kind "github" (its owner, name and token are used)' });
    }
  })
  .describe('The oxi adapter.');

// ---------------------------------------------------------------- types

/** The live-set floor when hosts are few: tasks in review or checks hold no slot but stay alive. */
export const MIN_LIVE_TASKS = 20;

/**
 * `engine.maxLiveTasks` when unset: one live task per host slot (50 hosts × 8 slots → 400), never under
 * MIN_LIVE_TASKS. Not capped by planTier.maxWorkers: the pool caps running agents by it, while the live set
 * also holds tasks that run none (waiting for a slot, in checks, in review). Shards keep spawning O(N).
 */
export function defaultMaxLiveTasks(hosts: ReadonlyArray<{ maxWorkers: number }>): number {
  return Math.max(MIN_LIVE_TASKS, hosts.reduce((sum, h) => sum + h.maxWorkers, 0));
}

/** What users write in `oxi.config.ts` (every field but `name` optional). */
export type AdapterInput = z.input<typeof adapterSchema>;

/** The schema's output: defaults applied, paths not yet resolved. */
export type ParsedAdapter = z.output<typeof adapterSchema>;

/** Resolved local paths: all absolute, `db`/`logs`/`worktreesRoot` defaulted under `stateDir`. */
export interface AdapterPaths {
  stateDir: string;
  db: string;
  logs: string;
  worktreesRoot: string;
}

/** Where the adapter came from: set by loadAdapter, absent for an adapter built in memory. */
export interface ConfigSource {
  /** Absolute path of the config file that was loaded. */
  path: string;
  /** sha256 (hex) of its bytes as loaded. */
  sha256: string;
  /** Local files a code config imports (absolute), found by reading its import specifiers. */
  imports: string[];
  /** A code config imports a package (e.g. `oxi`): the package manifests decide what code it runs. */
  importsPackages: boolean;
  /** git's blob ids of the loaded bytes: whether they are what a commit holds (src/config/source.ts). */
  gitBlob: { sha1: string; sha256: string };
}

/** The fully resolved adapter: defaults applied, every local path absolute. */
/** One repository: its clone (absolute path), main branch and forge. */
export type RepoConfig = z.output<z.ZodObject<typeof repoShape>>;
export type ChecksConfig = z.output<typeof checksSchema>;
export type ScopeConfig = z.output<typeof policySchema>['scope'];
export type BudgetConfig = z.output<typeof budgetSchema>;
export type RepoEntry = z.output<typeof repoEntrySchema>;

/**
 * Everything per repository, resolved: defaults from the top-level fields filled in, paths absolute.
 * With `repo` there is one, named after the adapter (src/config/repos.ts derives it on demand).
 */
export interface RepoView {
  name: string;
  repo: RepoConfig;
  roadmap: string;
  roadmapSource: RoadmapSourceConfig;
  checks: ChecksConfig;
  /** allowed / blocked / sensitive of this repository; protected is policy.scope's (shared). */
  scope: ScopeConfig;
  branches: { prefix: string };
  budget: BudgetConfig;
  routing: NonNullable<RepoEntry['routing']>;
}

/** The fully resolved adapter: defaults applied, every local path absolute. */
export type Adapter = Omit<ParsedAdapter, 'paths' | 'roadmap' | 'repo' | 'repos' | 'engine'> & {
  paths: AdapterPaths;
  /** `maxLiveTasks` resolved (defaultMaxLiveTasks when unset). */
  engine: ParsedAdapter['engine'] & { maxLiveTasks: number };
  source?: ConfigSource;
  /** The repository (with `repos`: the first one; per-task code reads its task's repository through src/config/repos.ts). */
  repo: RepoConfig;
  /** The markdown roadmap file (absolute); with the GitHub Issues source, where one would be (still a protected path). */
  roadmap: string;
  /** Where tasks come from (src/config/roadmap-schema.ts). */
  roadmapSource: RoadmapSourceConfig;
  /** Present only when the config names `repos` (task ids are then `<repo>/<id>`); read it through src/config/repos.ts. */
  repos?: RepoView[];
  /** Set on the view of one repository made by `adapterForRepo` (src/config/repos.ts): the repository it is scoped to. */
  scopedTo?: string;
};

export type HostConfig = Adapter['hosts'][number];
export type SshHostConfig = Extract<HostConfig, { kind: 'ssh' }>;
export type AgentRoute = Adapter['agents']['planner'];
export type NotificationConfig = Adapter['notifications'][number];
export type MemoryConfig = Adapter['memory'];
export type SandboxSettings = Adapter['agents']['sandbox'];
export type NetworkConfig = Adapter['agents']['network'];
export type WorkspaceSettings = Adapter['workspace'];
export type PromoteRecipe = z.output<typeof promoteRecipeSchema>;
export type SetupSettings = NonNullable<Adapter['workspace']['setup']>;
export type InferenceSettings = NonNullable<Adapter['inference']>;
