// The workbench session: what the page had open (loaded sequences and their selection, form
// values, the view, the jobs it was following), kept in the user data folder so that a reload, a
// second window or a restart finds it again. One JSON file per part, <home>/session/<part>.json,
// each written atomically (a crash leaves the old or the new file, never half of one); the page
// saves a part when it changes and reads all parts when it starts.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../atomic.js';

export const SESSION_PART = /^[a-z][a-z0-9-]{0,40}$/;
/** Largest part accepted (a loaded FASTA of ~100 MB of residues is still one part). */
export const MAX_PART_BYTES = 200 * 1024 * 1024;

export function sessionDir(home: string): string {
  return path.join(home, 'session');
}

export interface SessionParts {
  dir: string;
  parts: Record<string, { value: unknown; savedAt: string }>;
  /** parts that could not be read (kept on disk, reported, not used) */
  problems: string[];
}

interface Stored {
  savedAt: string;
  value: unknown;
}

export async function readSession(home: string): Promise<SessionParts> {
  const dir = sessionDir(home);
  const out: SessionParts = { dir, parts: {}, problems: [] };
  if (!existsSync(dir)) return out;
  for (const f of (await readdir(dir)).sort()) {
    const m = /^(.+)\.json$/.exec(f);
    if (!m || !SESSION_PART.test(m[1])) continue;
    try {
      const s = JSON.parse(await readFile(path.join(dir, f), 'utf8')) as Stored;
      if (typeof s !== 'object' || s === null || typeof s.savedAt !== 'string' || !('value' in s)) throw new Error('not a session part');
      out.parts[m[1]] = { value: s.value, savedAt: s.savedAt };
    } catch (e) {
      out.problems.push(`${path.join(dir, f)}: ${(e as Error).message}`);
    }
  }
  return out;
}

export async function writeSessionPart(home: string, part: string, value: unknown): Promise<{ savedAt: string; bytes: number }> {
  if (!SESSION_PART.test(part)) throw new RangeError(`session part '${part}': must be lowercase letters, digits and '-'`);
  const savedAt = new Date().toISOString();
  const text = `${JSON.stringify({ savedAt, value } satisfies Stored)}\n`;
  if (text.length > MAX_PART_BYTES) throw new RangeError(`session part '${part}' is ${text.length} bytes, more than the ${MAX_PART_BYTES} kept`);
  await mkdir(sessionDir(home), { recursive: true });
  writeFileAtomic(path.join(sessionDir(home), `${part}.json`), text);
  return { savedAt, bytes: text.length };
}
