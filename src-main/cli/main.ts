#!/usr/bin/env node
// `plmw`: the command-line front of the engine (no Electron). Usage: npm run plmw -- <command> [options]
import { userFacing } from './command.js';
import { commands } from './commands/index.js';
import { installSignalHandlers, stoppedBy } from './signals.js';

function help(): string {
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

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  const [name, ...rest] = argv.filter((a) => a !== '--debug');
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name ? 0 : 2;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    console.error(`plmw: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.usage);
    return 0;
  }
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
  }
}

installSignalHandlers();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(`plmw: internal error: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
