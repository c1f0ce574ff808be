// Option parsing shared by the CLI commands.
import { UserError } from './command.js';
import { resolveModelArg } from '../engine/jobs/infer-job.js';
import { plmwHome } from '../engine/models/store.js';
import { type ProviderName, PROVIDER_PREFERENCE } from '../engine/runtime/index.js';

/** A model folder path, or the name of a model installed in the user data directory. */
export function resolveModelDir(arg: string): string {
  try {
    return resolveModelArg(arg, plmwHome());
  } catch (e) {
    throw new UserError(`${(e as Error).message}; download it with \`plmw models download NAME\` or import a folder with \`plmw models import DIR\``);
  }
}

export function parseProviders(s: string | undefined): ProviderName[] | undefined {
  if (!s) return undefined;
  const list = s.split(',').map((p) => p.trim().toLowerCase());
  for (const p of list) if (!PROVIDER_PREFERENCE.includes(p as ProviderName)) throw new UserError(`--provider: unknown provider '${p}' (choose from ${PROVIDER_PREFERENCE.join(', ')})`, 2);
  return list as ProviderName[];
}

/** One self-overwriting status line on a terminal; nothing when stderr is not a terminal. */
export function progressLine(text: string): void {
  if (!process.stderr.isTTY) return;
  process.stderr.write(`\r\x1b[2K${text}`);
}

/**
 * A numeric option: undefined when absent; a usage error (exit 2) naming the option when it is
 * not a number, not whole where a count is wanted, or below the minimum.
 */
export function numberOption(name: string, value: string | undefined, o: { whole?: boolean; min?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  const min = o.min ?? 0;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || (o.whole && !Number.isInteger(n))) {
    throw new UserError(`--${name}: expected a ${o.whole ? 'whole ' : ''}number >= ${min}, got '${value}'`, 2);
  }
  return n;
}
