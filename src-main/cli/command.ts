// A CLI command: its name, a one-line summary, its usage text and the function that runs it.
// Commands parse their own options with node:util parseArgs and print errors that name the
// offending file, record and line.

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
