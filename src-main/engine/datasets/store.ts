// Public training and test sets (registry.json): listed with their licence, downloaded into
// <home>/data/<name>/ with the models' downloader (models/download.ts downloadFile: a .partial
// file that an interrupted or cancelled download resumes with a Range request, progress, and a
// checksum check before the file is moved into place), and described by <home>/data/<name>/
// dataset.json (where it came from, its checksum, the licence and when it was accepted).
//
// A set whose licence is not an open one is fetched only with `acceptLicence: true`: the fronts
// show the licence's terms first (plmw data download asks for --accept-licence, the workbench a
// dialog) and the acceptance is recorded with the files.
//
// The origin of the files' URLs can be replaced (option `mirror`, or $PLMW_DATA_MIRROR): tests
// and offline sites serve the same paths from their own server.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeJsonAtomic } from '../atomic.js';
import { downloadFile, type FileProgress } from '../models/download.js';
import { DownloadError } from '../models/hub.js';
import registryJson from './registry.json' with { type: 'json' };

export interface DatasetFile {
  name: string;
  url: string;
  size?: number;
  sha256?: string;
  /** git blob id (sha1 of `blob <size>\0<content>`) where no sha256 is recorded */
  gitSha1?: string;
}

export interface DatasetSpec {
  name: string;
  task: 'ss' | 'sp';
  role: 'train' | 'validation' | 'test';
  title: string;
  format: string;
  source: string;
  licence: { name: string; url: string; open: boolean; terms: string };
  files: DatasetFile[];
}

export interface InstalledDataset {
  name: string;
  dir: string;
  installedAt: string;
  files: { name: string; path: string; size: number; sha256?: string; verified: string }[];
  licence: DatasetSpec['licence'];
  licenceAcceptedAt?: string;
  source: string;
}

export interface DatasetListing extends DatasetSpec {
  installed?: InstalledDataset;
  /** bytes of a download left unfinished (resumed by the next download) */
  partialBytes?: number;
}

export const DATASET_FILE = 'dataset.json';

export class DatasetError extends Error {
  override name = 'DatasetError';
  constructor(
    readonly code: 'unknown' | 'licence',
    message: string,
  ) {
    super(message);
  }
}

export function listDatasetSpecs(): readonly DatasetSpec[] {
  return registryJson.sets as DatasetSpec[];
}

export function findDataset(name: string): DatasetSpec {
  const s = listDatasetSpecs().find((d) => d.name === name);
  if (!s) throw new DatasetError('unknown', `unknown data set '${name}' (known: ${listDatasetSpecs().map((d) => d.name).join(', ')})`);
  return s;
}

export function datasetsRoot(home: string): string {
  return path.join(home, 'data');
}

function readInstalled(dir: string): InstalledDataset | undefined {
  const file = path.join(dir, DATASET_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const d = JSON.parse(readFileSync(file, 'utf8')) as InstalledDataset;
    return d.files.every((f) => existsSync(f.path)) ? d : undefined;
  } catch {
    return undefined;
  }
}

export function listDatasets(home: string): { root: string; sets: DatasetListing[] } {
  const root = datasetsRoot(home);
  return {
    root,
    sets: listDatasetSpecs().map((s) => {
      const dir = path.join(root, s.name);
      const installed = readInstalled(dir);
      const partial = s.files.reduce((a, f) => {
        const p = path.join(dir, `${f.name}.partial`);
        return a + (existsSync(p) ? statSync(p).size : 0);
      }, 0);
      return { ...s, ...(installed ? { installed } : {}), ...(partial ? { partialBytes: partial } : {}) };
    }),
  };
}

/** The URL with its origin replaced by the mirror's (same path). */
export function mirrored(url: string, mirror: string | undefined): string {
  if (!mirror) return url;
  const u = new URL(url);
  return `${mirror.replace(/\/+$/, '')}${u.pathname}`;
}

export interface DatasetProgress extends FileProgress {
  fileIndex: number;
  fileCount: number;
  overallDone: number;
  overallTotal?: number;
}

export interface DownloadDatasetOptions {
  home: string;
  /** required for sets whose licence is not open: the user has read and accepted it */
  acceptLicence?: boolean;
  /** replaces the origin of every file URL (default $PLMW_DATA_MIRROR) */
  mirror?: string;
  signal?: AbortSignal;
  onProgress?: (p: DatasetProgress) => void;
  retries?: number;
  idleTimeoutMs?: number;
}

/** Download (or resume) a data set; returns it installed. An installed set is returned as it is. */
export async function downloadDataset(name: string, o: DownloadDatasetOptions): Promise<InstalledDataset> {
  const spec = findDataset(name);
  const dir = path.join(datasetsRoot(o.home), spec.name);
  const have = readInstalled(dir);
  if (have) return have;
  if (!spec.licence.open && !o.acceptLicence) {
    throw new DatasetError('licence', `${spec.name} is distributed under "${spec.licence.name}" (${spec.licence.url}): ${spec.licence.terms} Accept the licence to download it.`);
  }
  await mkdir(dir, { recursive: true });
  const mirror = o.mirror ?? (process.env.PLMW_DATA_MIRROR || undefined);
  const sizes = spec.files.map((f) => f.size);
  const overallTotal = sizes.every((s) => s !== undefined) ? sizes.reduce((a, b) => a! + b!, 0) : undefined;
  let finished = 0;
  const files: InstalledDataset['files'] = [];
  for (const [i, f] of spec.files.entries()) {
    const dest = path.join(dir, f.name);
    const r = await downloadFile({
      url: mirrored(f.url, mirror),
      dest,
      expected: { name: f.name, size: f.size, sha256: f.sha256, gitSha1: f.gitSha1 },
      signal: o.signal,
      retries: o.retries,
      idleTimeoutMs: o.idleTimeoutMs,
      onProgress: o.onProgress
        ? (p) => o.onProgress!({ ...p, fileIndex: i, fileCount: spec.files.length, overallDone: finished + p.bytesDone, ...(overallTotal !== undefined ? { overallTotal } : {}) })
        : undefined,
    });
    if (r.verified === 'none') throw new DownloadError('unverifiable', `${f.name}: no checksum recorded for it; refusing an unverified file`);
    finished += r.size;
    files.push({ name: f.name, path: dest, size: r.size, sha256: r.sha256, verified: r.verified });
  }
  const installed: InstalledDataset = {
    name: spec.name, dir, installedAt: new Date().toISOString(), files, licence: spec.licence, source: spec.source,
    ...(spec.licence.open ? {} : { licenceAcceptedAt: new Date().toISOString() }),
  };
  await writeJsonAtomic(path.join(dir, DATASET_FILE), installed);
  return installed;
}
