// Ctrl-C (SIGINT), SIGTERM and SIGHUP in `plmw`. By default a signal ends the command at once:
// the exit handlers remove every temporary the process has open (engine/atomic.ts) and release
// its locks (engine/lock.ts), so an interrupted command leaves its old files as they were and no
// half-written ones. A command that can stop cleanly at its next step (training records the run
// as cancelled) asks for gracefulStop(): the first signal then aborts that signal and the command
// winds down; a second signal, or GRACE_MS without an end, stops it at once.
import { removeLiveTemporaries } from '../engine/atomic.js';

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
export type StopSignal = keyof typeof EXIT_CODES;
const GRACE_MS = 10_000;

let controller: AbortController | undefined;
let received: StopSignal | undefined;

/** The signal that stopped the command, if one did. */
export function stoppedBy(): { signal: StopSignal; exitCode: number } | undefined {
  return received && { signal: received, exitCode: EXIT_CODES[received] };
}

/** For a command that stops cleanly between steps: aborted by the first signal. */
export function gracefulStop(): AbortSignal {
  controller ??= new AbortController();
  return controller.signal;
}

function stopNow(code: number): never {
  removeLiveTemporaries();
  process.exit(code);
}

export function installSignalHandlers(): void {
  for (const [signal, code] of Object.entries(EXIT_CODES) as [StopSignal, number][]) {
    process.on(signal, () => {
      const first = received === undefined;
      received ??= signal;
      if (first && controller && !controller.signal.aborted) {
        controller.abort(new DOMException(`stopped by ${signal}`, 'AbortError'));
        process.stderr.write(`\nplmw: ${signal}: stopping after the current step (send it again to stop at once)\n`);
        setTimeout(() => stopNow(code), GRACE_MS).unref();
        return;
      }
      stopNow(code);
    });
  }
}
