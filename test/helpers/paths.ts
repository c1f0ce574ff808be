// Paths to the repository and to the shared fixtures beside it. A missing fixture is a test
// failure, never a skip.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED = path.resolve(REPO, '../shared');

/** A path under ../shared that must exist. */
export function shared(...parts: string[]): string {
  const p = path.join(SHARED, ...parts);
  if (!existsSync(p)) throw new Error(`missing shared fixture: ${p}`);
  return p;
}

export const fixtureModel = (name: 'tiny' | 'small' | 't6-shape') => shared('fixtures', 'esm2', `esm2-${name}-random`);
