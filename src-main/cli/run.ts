// The `plmw` front's one loop: find the command, run it, and turn whatever it throws into what a
// person can read. User and OS errors are one line naming what failed (exit 1; a usage error
// shows the command's usage, exit 2); an unexpected error is one line too, with the stack only
// under --debug. Which execution provider ran, and why the others did not, is one line per
// distinct outcome, instead of the runtime's own output.
import { describeReport, watchProviderReports } from '../engine/runtime/providers.js';
import { type Command, userFacing } from './command.js';
import { stoppedBy } from './signals.js';

function help(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'plmw: ESM-2 inference, parameter-efficient fine-tuning and export from the command line',
    '',
    'usage: plmw <command> [options]      (from a checkout: npm run plmw -- <command> [options])',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `plmw <command> --help` for the options of one command; --debug (any command) prints the',
    'stack trace of an unexpected error.',
  ].join('\n');
}

export async function runCli(argv: string[], commands: readonly Command[]): Promise<number> {
  const debug = argv.includes('--debug');
  const [name, ...rest] = argv.filter((a) => a !== '--debug');
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help(commands));
    return name ? 0 : 2;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    console.error(`plmw: unknown command '${name}'\n\n${help(commands)}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.usage);
    return 0;
  }
  const said = new Set<string>();
  const unwatch = watchProviderReports((r) => {
    if (r.fallbacks.length === 0) return; // the provider asked for first ran: nothing to explain
    const line = describeReport(r);
    if (!said.has(line)) console.error(`plmw ${name}: ${line}`);
    said.add(line);
  });
  try {
    return await cmd.run(rest);
  } catch (e) {
    const stopped = stoppedBy();
    if (stopped && (e as Error)?.name === 'AbortError') {
      console.error(`plmw ${name}: stopped by ${stopped.signal}`);
      return stopped.exitCode;
    }
    const known = userFacing(e);
    if (known) {
      // A usage error shows the command's usage; anything else is one line naming what failed.
      console.error(`plmw ${name}: ${known.message}${known.exitCode === 2 && !known.message.includes('usage:') ? `\n\n${cmd.usage}` : ''}`);
      if (debug && e instanceof Error && e.stack) console.error(e.stack);
      return known.exitCode;
    }
    // Not the user's doing: one line, the stack only when asked for.
    console.error(`plmw ${name}: internal error: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}${debug ? '' : ' (run again with --debug for the stack trace)'}`);
    if (debug) console.error(e instanceof Error ? e.stack ?? e.message : e);
    return 1;
  } finally {
    unwatch();
  }
}
