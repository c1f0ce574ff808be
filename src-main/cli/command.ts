// A CLI command: its name, a one-line summary, its usage text and the function that runs it.
// Commands parse their own options with node:util parseArgs and print errors that name the
// offending file, record and line.
import { isOsError, osReason, WriteError } from '../engine/atomic.js';
import { InputError } from '../engine/data/errors.js';
import { LockHeldError } from '../engine/lock.js';
import { DownloadError } from '../engine/models/hub.js';
import { RunStoreError } from '../engine/runs/store.js';
import { NoUsableCheckpointError } from '../engine/train/checkpoint.js';

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

/** An error meant for the user: printed without a stack, exit status 1 (2 for usage errors). */
export class UserError extends Error {
  override name = 'UserError';
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** node:util parseArgs's refusals (unknown option, missing value, stray argument): usage errors. */
export function isUsageError(e: unknown): boolean {
  return typeof (e as { code?: unknown })?.code === 'string' && (e as { code: string }).code.startsWith('ERR_PARSE_ARGS_');
}

/**
 * The one line to print for an error the user can act on (their input, their disk, a busy run),
 * with its exit status; undefined for an unexpected error (a bug), which the front reports as such.
 */
export function userFacing(e: unknown): { message: string; exitCode: number } | undefined {
  if (e instanceof UserError) return { message: e.message, exitCode: e.exitCode };
  if (isUsageError(e)) return { message: (e as Error).message, exitCode: 2 };
  if (e instanceof WriteError || e instanceof InputError || e instanceof LockHeldError || e instanceof NoUsableCheckpointError || e instanceof DownloadError || e instanceof RunStoreError) {
    return { message: e.message, exitCode: 1 };
  }
  if (isOsError(e)) {
    // e.g. EACCES opening an output folder: name the path, say the reason in words.
    const x = e as NodeJS.ErrnoException & { dest?: string };
    const where = x.path ? `${x.path}${x.dest ? ` -> ${x.dest}` : ''}: ` : '';
    return { message: `${where}${x.syscall ? `cannot ${x.syscall}: ` : ''}${osReason(e)} [${x.code}]`, exitCode: 1 };
  }
  return undefined;
}
