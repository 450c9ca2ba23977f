/** The operator's commands: init, service, brief, doctor (registered by main.ts). */
import type { Command } from 'commander';
import type { GlobalOptions } from './context.js';
import { serviceCommand } from './commands/service.js';

type Opts = (cmd: Command) => GlobalOptions & Record<string, unknown>;

export function registerOperatorCommands(program: Command, g: Opts, setExit: (code: number) => void): void {
  void setExit;
  program.command('service <kind>').description('print (or --write) a systemd or launchd unit that runs `oxi run` with this adapter\'s config and DB paths')
    .option('--write', 'write it where the service manager looks (~/.config/systemd/user, ~/Library/LaunchAgents)')
    .option('--out <file>', 'write it to this file instead').option('--json', 'print JSON')
    .action(async (kind: string, _o, cmd) => serviceCommand(g(cmd), kind));
}
