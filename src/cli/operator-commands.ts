/** The operator's commands: init, service, brief, doctor (registered by main.ts). */
import type { Command } from 'commander';
import type { GlobalOptions } from './context.js';

type Opts = (cmd: Command) => GlobalOptions & Record<string, unknown>;

export function registerOperatorCommands(program: Command, g: Opts, setExit: (code: number) => void): void {
  program.command('init [dir]').description('set up oxi in a repository: asks nine questions, writes oxi.config.ts, creates .oxi/, validates')
    .option('--yes', 'no questions: take the defaults and the flags below (for scripts)')
    .option('--force', 'replace an existing adapter config')
    .option('--name <name>', 'project name (default: the directory name)')
    .option('--repo <owner/name|local>', 'GitHub repository, or "local" for no forge (default: from the origin remote)')
    .option('--main-branch <branch>', 'branch PRs merge into (default: the current branch)')
    .option('--branch-prefix <prefix>', 'task branch prefix', 'oxi/')
    .option('--roadmap <file>', 'roadmap file, created if missing', 'ROADMAP.md')
    .option('--per-task-usd <usd>', 'budget cap per task', '2')
    .option('--daily-soft-usd <usd>', 'daily spend after which no new task starts', '20')
    .option('--daily-hard-usd <usd>', 'daily spend past which no session starts', '50')
    .option('--plan-tier <name>', 'agent plan tier name (pro, max, api…)', 'default')
    .option('--max-workers <n>', 'agents at once across all hosts', '4')
    .option('--hosts <specs>', 'local[:workers],name=user@address[:port]/clone/path[:workers]', 'local:2')
    .option('--agents <backend>', 'backend for every role: claude, codex or scripted (default: claude)')
    .option('--planner <backend>', 'planner backend').option('--worker <backend>', 'worker backend').option('--critic <backend>', 'critic backend')
    .option('--checks <command>', 'check command, words separated by spaces (default: guessed from the repo)')
    .option('--setup <command>', 'workspace setup command run before each worker, e.g. "npm ci", or "none" (default: suggested from the lockfiles)')
    .option('--json', 'print JSON')
    .action(async (dir: string | undefined, _o, cmd) => setExit(await (await import('./commands/init.js')).initCommand(g(cmd), dir)));
  program.command('brief').description('markdown recap: merged PRs, abandoned tasks, spend vs caps, stalls reaped, kills, hosts')
    .option('--hours <n>', 'length of the window', '24').option('--until <iso>', 'end of the window (default: now)')
    .option('--post', 'also send it through the adapter\'s notifications (exit 1 if a delivery fails)').option('--json', 'print JSON')
    .action(async (_o, cmd) => setExit(await (await import('./commands/brief.js')).briefCommand(g(cmd))));
  program.command('doctor').description('check node, git, the config, the roadmap, the DB, hosts, agent CLIs and credentials, the forge token; each problem with its fix')
    .option('--repair', 'copy what can be read of a damaged database into a new file (the old one is kept beside it), then check')
    .option('--live', 'prove the agent credentials with one real, minimal call per backend (costs a few tokens; docs/cli.md)')
    .option('--json', 'print JSON')
    .action(async (_o, cmd) => setExit(await (await import('./commands/doctor.js')).doctorCommand(g(cmd))));
  program.command('service <kind>').description('print (or --write) a systemd or launchd unit that runs `oxi run` with this adapter\'s config and DB paths')
    .option('--write', 'write it where the service manager looks (~/.config/systemd/user, ~/Library/LaunchAgents)')
    .option('--out <file>', 'write it to this file instead').option('--json', 'print JSON')
    .action(async (kind: string, _o, cmd) => (await import('./commands/service.js')).serviceCommand(g(cmd), kind));
}
