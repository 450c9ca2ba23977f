import { Command, CommanderError } from 'commander';
import { OxiError } from '../errors.js';
import { dbError, isDbError } from '../store/db-errors.js';
import { registerOperatorCommands } from './operator-commands.js';
import type { GlobalOptions } from './context.js';
import { errorLines, unknownCommandLines, usageLines } from './messages.js';
import { oxiVersion } from './version.js';

/** The one place that exits the process. */
export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('oxi')
    .description('A self-hosted delivery loop: roadmap → plan → coding agents → PR → critic → merge.')
    .option('--config <file>', 'the adapter file (default: oxi.config.{ts,mjs,js,json} in the working directory)')
    .option('--db <file>', 'the database (default: the adapter\'s paths.db)')
    .version(oxiVersion(), '-V, --version', 'print the oxi version')
    .exitOverride();
  // An unknown command lists the commands, not the whole help.
  program.configureOutput({
    outputError: (text, write) => {
      const unknown = /unknown command '([^']*)'/.exec(text);
      write(unknown ? unknownCommandLines(unknown[1], program.commands.map((c) => c.name()), /Did you mean ([^?]+)\?/.exec(text)?.[1]) : usageLines(text));
    },
  });
  const g = (cmd: Command): GlobalOptions & Record<string, unknown> => ({ ...program.opts(), ...cmd.opts() });

  program.command('demo').description('create a sample project and run the engine on it until every item is merged or abandoned')
    .option('--dir <dir>', 'where the sample project lives (created, or resumed when it is a demo already)', 'oxi-demo')
    .option('--tasks <n>', 'roadmap items in a new sample project', '3')
    .option('--repos <n>', 'a new demo of n sample repositories served by one engine (task ids <repo>/<id>; docs/multi-repo.md)')
    .option('--no-dashboard', 'do not serve the dashboard')
    .option('--agent <backend>', 'run the demo with a real agent instead of the scripted one: claude or codex (needs its credentials)', 'scripted')
    .option('--inspect [url]', 'stream the actor system to the Stately inspector (our relay, or the relay at url)')
    .option('--json', 'print the summary as JSON')
    .option('--open', 'keep the dashboard up after the demo settles, until Ctrl-C')
    .action(async (_o, cmd) => setExit(await (await import('./commands/run.js')).demoCommand(g(cmd))));
  program.command('run').description('run the engine as a daemon (PID file under .oxi/; SIGTERM drains)')
    .option('--no-dashboard', 'do not serve the dashboard')
    .option('--halt-exit <code>', 'exit code when the engine halts itself (default 3; the launchd unit uses 0 so launchd does not restart it)')
    .option('--inspect [url]', 'stream the actor system to the Stately inspector (our relay, or the relay at url)')
    .action(async (_o, cmd) => setExit(await (await import('./commands/run.js')).runCommand(g(cmd))));
  program.command('dashboard').description('serve the live dashboard and its API for this project (next to a running daemon, or none)')
    .option('--port <n>', 'port (default: the adapter\'s engine.dashboard.port, 8765; 0 picks a free one)')
    .option('--bind <address>', 'address to listen on (default 127.0.0.1; anything else requires the token for every request)')
    .option('--json', 'print the URL as JSON')
    .action(async (_o, cmd) => setExit(await (await import('./commands/dashboard.js')).dashboardCommand(g(cmd))));
  program.command('tick').description('one pass: run until nothing is left to do now, then stop (for cron/systemd timers)')
    .option('--times <n>', 'passes to run', '1').option('--json', 'print JSON')
    .action(async (_o, cmd) => setExit(await (await import('./commands/run.js')).tickCommand(g(cmd))));
  program.command('status').description('engine state, kill reason, counts per status, hosts, today\'s spend')
    .option('--json', 'print JSON').option('--dry-run', 'only validate the adapter and the roadmap')
    .action(async (_o, cmd) => (await import('./commands/read.js')).statusCommand(g(cmd)));
  program.command('tasks').description('list tasks (`<repo>/<id>` when the adapter names several repositories)').option('--json', 'print JSON').option('--status <status>', 'only tasks with this status')
    .option('--repo <name>', 'only tasks of this repository (a name from the adapter\'s repos)')
    .action(async (_o, cmd) => (await import('./commands/read.js')).tasksCommand(g(cmd)));
  program.command('roadmap').description('the parsed roadmap items, in file order (grouped by repository when the adapter names several)').option('--file <file>', 'a roadmap file (default: the adapter\'s)').option('--json', 'print JSON')
    .option('--repo <name>', 'only this repository\'s roadmap (a name from the adapter\'s repos)')
    .action(async (_o, cmd) => (await import('./commands/read.js')).roadmapCommand(g(cmd)));
  program.command('kill').description('set the killswitch: no actor starts a new side effect').option('--reason <text>', 'why (required)')
    .option('--hard', 'also terminate running agent sessions').option('--json', 'print JSON')
    .action(async (_o, cmd) => (await import('./commands/control.js')).killCommand(g(cmd)));
  program.command('unkill').description('clear the killswitch: every actor resumes where it was').option('--json', 'print JSON')
    .action(async (_o, cmd) => (await import('./commands/control.js')).unkillCommand(g(cmd)));
  program.command('send <actorId> <event>').description('deliver an event to a live actor in the running daemon (e.g. oxi send task:T0-1 task.retry)')
    .option('--data <json>', 'event payload as a JSON object').option('--json', 'print JSON')
    .action(async (actorId: string, event: string, _o, cmd) => (await import('./commands/control.js')).sendCommand(g(cmd), actorId, event));
  program.command('retry <taskId>').description('an abandoned task back to the queue, or a waiting one (backoff, deferred, awaiting_human, pr_backoff) resumed now')
    .option('--json', 'print JSON')
    .action(async (taskId: string, _o, cmd) => (await import('./commands/retry.js')).retryCommand(g(cmd), taskId));
  program.command('mcp').description('serve the Model Context Protocol on stdio: tools for Claude Code, Claude Desktop, editors and other agents (docs/mcp.md)')
    .option('--allow-control', 'also offer the kill and unkill tools')
    .action(async (_o, cmd) => setExit(await (await import('./commands/mcp.js')).mcpCommand(g(cmd))));
  program.command('promote').description('the promote recipe: its last runs, or --now to run it once (through the daemon when one runs; exit 1 when the command fails)')
    .option('--now', 'run it once now, whatever its schedule and even when not enabled')
    .option('--repo <name>', 'the repository whose recipe runs (needed when several are configured)')
    .option('--json', 'print JSON')
    .action(async (_o, cmd) => setExit(await (await import('./commands/promote.js')).promoteCommand(g(cmd))));
  registerOperatorCommands(program, g, setExit);
  program.command('shadow').description('shadow runs (agents.shadow): the last 50 pairs of real and shadow sessions, their agreement rate and cost delta')
    .option('--json', 'print JSON')
    .action(async (_o, cmd) => (await import('./commands/shadow.js')).shadowCommand(g(cmd)));
  program.command('tail <taskId>').description("follow the task's agent streams (planner, worker, critic) and its workspace setup's output live, in human form")
    .option('--json', 'print the raw NDJSON lines').option('--no-follow', 'print what is there and exit')
    .action(async (taskId: string, _o, cmd) => (await import('./commands/tail.js')).tailCommand(g(cmd), taskId));
  program.command('say <taskId> <message>').description("tell a task's live agent something: queued until its turn ends, then its session is resumed with it")
    .option('--json', 'print JSON')
    .action(async (taskId: string, message: string, _o, cmd) => (await import('./commands/say.js')).sayCommand(g(cmd), taskId, message));
  program.command('attach <taskId>').description("follow a task's transcript live and send each line typed as a message to its agent (oxi tail + oxi say)")
    .action(async (taskId: string, _o, cmd) => (await import('./commands/say.js')).attachCommand(g(cmd), taskId));
  return program;
}

export async function main(argv = process.argv): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof OxiError) {
      process.stderr.write(errorLines(error.message, error.fix));
      return 2;
    }
    if (isDbError(error)) {
      const e = dbError('the database (the adapter\'s paths.db, or --db)', error);
      process.stderr.write(errorLines(e.message, e.fix));
      return 2;
    }
    process.stderr.write(`oxi: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
  }
  return code;
}

process.exitCode = await main();
// Stray handles (a slow socket close) must not keep a finished command alive.
setTimeout(() => process.exit(process.exitCode), 2000).unref();
