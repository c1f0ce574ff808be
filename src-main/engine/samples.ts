// The sample files that ship in resources/samples (listed in its index.json): proteins to try
// prediction on, and small public training/validation sets so that a first run works offline.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SampleFile } from '../api/contract.js';

/** resources/ next to src-main/ (a checkout, tsx); the Electron main passes its own. */
export function defaultResourcesDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'resources');
}

export function listSamples(resourcesDir: string): { dir: string; samples: SampleFile[] } {
  const dir = path.join(resourcesDir, 'samples');
  const index = path.join(dir, 'index.json');
  if (!existsSync(index)) return { dir, samples: [] };
  const entries = (JSON.parse(readFileSync(index, 'utf8')) as { samples: Omit<SampleFile, 'path'>[] }).samples;
  return { dir, samples: entries.map((s) => ({ ...s, path: path.join(dir, s.name) })).filter((s) => existsSync(s.path)) };
}
