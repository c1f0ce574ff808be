#!/usr/bin/env node
// `plmw`: the command-line front of the engine (no Electron). Usage: npm run plmw -- <command> [options]
import { commands } from './commands/index.js';
import { runCli } from './run.js';
import { installSignalHandlers } from './signals.js';

installSignalHandlers();
runCli(process.argv.slice(2), commands).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(`plmw: internal error: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
