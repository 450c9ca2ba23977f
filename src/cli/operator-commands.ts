/** The operator's commands: init, service, brief, doctor (registered by main.ts). */
import type { Command } from 'commander';
import type { GlobalOptions } from './context.js';
import { briefCommand } from './commands/brief.js';
import { serviceCommand } from './commands/service.js';

type Opts = (cmd: Command) => GlobalOptions & Record<string, unknown>;

export function registerOperatorCommands(program: Command, g: Opts, setExit: (code: number) => void): void {
  program.command('brief').description('markdown recap: merged PRs, abandoned tasks, spend vs caps, stalls reaped, kills, hosts')
    .option('--hours <n>', 'length of the window', '24').option('--until <iso>', 'end of the window (default: now)')
    .option('--post', 'also send it through the adapter\'s notifications (exit 1 if a delivery fails)').option('--json', 'print JSON')
    .action(async (_o, cmd) => setExit(await briefCommand(g(cmd))));
  program.command('service <kind>').description('print (or --write) a systemd or launchd unit that runs `oxi run` with this adapter\'s config and DB paths')
    .option('--write', 'write it where the service manager looks (~/.config/systemd/user, ~/Library/LaunchAgents)')
    .option('--out <file>', 'write it to this file instead').option('--json', 'print JSON')
    .action(async (kind: string, _o, cmd) => serviceCommand(g(cmd), kind));
}
