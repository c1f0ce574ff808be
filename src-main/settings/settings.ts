// User settings (model folder, execution providers, threads), one JSON file: in the Electron
// front `<userData>/settings.json`, in browser mode and the CLI `<PLMW_HOME>/settings.json`.
// Checked with the contract's schema on read and write; written atomically. A damaged file
// never stops the app: the defaults apply and the problem is reported with the file's path.
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { SETTINGS_SCHEMA, type Settings } from '../api/contract.js';
import { ApiError } from '../api/errors.js';
import { writeJsonAtomic } from '../engine/runs/store.js';

export type { Settings } from '../api/contract.js';
export const SETTINGS_FILE = 'settings.json';

export interface LoadedSettings {
  settings: Settings;
  /** why the file was not used (unreadable, invalid JSON, a field out of the contract) */
  problem?: string;
}

export function settingsFile(dir: string): string {
  return path.join(dir, SETTINGS_FILE);
}

/** Read settings; a missing file gives the defaults ({}). */
export function loadSettings(file: string): LoadedSettings {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { settings: {} };
    return { settings: {}, problem: `${file}: ${(e as Error).message}` };
  }
  try {
    return { settings: SETTINGS_SCHEMA.parse(JSON.parse(text), 'request') };
  } catch (e) {
    const why = e instanceof ApiError ? e.message : `not valid JSON (${(e as Error).message})`;
    return { settings: {}, problem: `${file}: ${why}; using the defaults` };
  }
}

/** Validate and write settings (temporary file + rename). */
export async function saveSettings(file: string, settings: unknown): Promise<Settings> {
  const s = SETTINGS_SCHEMA.parse(settings, 'request');
  await mkdir(path.dirname(file), { recursive: true });
  await writeJsonAtomic(file, s);
  return s;
}
