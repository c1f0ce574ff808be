// The run store: training runs on disk (format in ./types.ts), listed, opened, renamed,
// deleted and compared. It only reads what the trainer writes, except two edits:
//
//  - rename rewrites the `name` field of run.json atomically (temporary file + rename), keeping
//    every other field as it was;
//  - delete moves the run directory into `<root>/.trash/<id>.<epoch-ms>` (recoverable by moving
//    it back; `emptyTrash` removes it for good). The trash lives inside the store root so the
//    move is a rename on the same filesystem, and `.`-folders are never listed as runs.
//
// Both refuse a run that is still running (a live trainer rewrites run.json with its own copy
// and would undo the rename; deleting under it would crash it): cancel it first.
//
// Effective status: run.json says `running` while the trainer lives. The store reports such a
// run as `interrupted` when its process is gone: on this host, when `process.kill(pid, 0)`
// fails with ESRCH; on another host (a shared folder), when its heartbeat `updatedAt` is older
// than HEARTBEAT_STALE_MS.
import { isTemporaryName, pidAlive, writeJsonAtomic } from '../atomic.js';
import { HEARTBEAT_STALE_MS, type LivenessProbe, ownerGone } from '../lock.js';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { plmwHome } from '../models/store.js';
import type { CompareRow, CompareTable, MetricRecord, MetricsProblem, RunDetail, RunJson, RunStatus, RunSummary } from './types.js';

export * from './types.js';

export const RUN_FILE = 'run.json';
export const METRICS_FILE = 'metrics.jsonl';
export const TRASH_DIR = '.trash';
/** A run on another host whose heartbeat is older than this is interrupted (the same rule frees a run's lock). */
export { HEARTBEAT_STALE_MS };
const STATUSES: readonly RunStatus[] = ['running', 'completed', 'interrupted', 'failed', 'cancelled'];
/** Run ids are directory names. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$/;

export type RunStoreErrorCode = 'not_found' | 'conflict' | 'invalid';

export class RunStoreError extends Error {
  override name = 'RunStoreError';
  constructor(
    readonly code: RunStoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Default store root: `<PLMW_HOME>/runs`. */
export function runsRoot(home: string = plmwHome()): string {
  return path.join(home, 'runs');
}

export function runDir(root: string, id: string): string {
  if (!RUN_ID_PATTERN.test(id)) throw new RunStoreError('invalid', `invalid run id '${id}': a run id is a folder name (letters, digits, '_', '-', '.', not first)`);
  return path.join(root, id);
}

export { pidAlive };
export type { LivenessProbe };

/** The status a run really has, and why when it differs from run.json. */
export function effectiveStatus(run: Pick<RunJson, 'status' | 'pid' | 'hostname' | 'updatedAt'>, probe: LivenessProbe = {}): { status: RunStatus; reason?: string } {
  if (run.status !== 'running') return { status: run.status };
  const gone = ownerGone({ pid: run.pid, host: run.hostname, at: run.updatedAt }, probe);
  return gone ? { status: 'interrupted', reason: gone.replace(/^held on /, 'runs on ') } : { status: 'running' };
}

/** Parse and check run.json (the fields the store relies on). */
export function parseRunJson(text: string, file: string): RunJson {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new RunStoreError('invalid', `${file}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RunStoreError('invalid', `${file}: expected a JSON object`);
  const r = v as Record<string, unknown>;
  if (r.format !== 1) throw new RunStoreError('invalid', `${file}: unsupported format ${JSON.stringify(r.format)} (this version reads format 1)`);
  if (!STATUSES.includes(r.status as RunStatus)) throw new RunStoreError('invalid', `${file}: status ${JSON.stringify(r.status)} is not one of ${STATUSES.join(', ')}`);
  for (const k of ['id', 'name', 'createdAt', 'updatedAt'] as const) {
    if (typeof r[k] !== 'string') throw new RunStoreError('invalid', `${file}: field '${k}' must be a string`);
  }
  return r as unknown as RunJson;
}

async function readRun(dir: string): Promise<{ run: RunJson; raw: Record<string, unknown> }> {
  const file = path.join(dir, RUN_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new RunStoreError('invalid', `${file}: missing`);
    throw e;
  }
  const run = parseRunJson(text, file);
  return { run, raw: run as unknown as Record<string, unknown> };
}

function summarize(id: string, dir: string, run: RunJson, probe?: LivenessProbe): RunSummary {
  const eff = effectiveStatus(run, probe);
  const s: RunSummary = { id, dir, name: run.name, status: eff.status };
  if (eff.status !== run.status) s.recordedStatus = run.status;
  if (eff.reason) s.reason = eff.reason;
  if (run.task !== undefined) s.task = run.task;
  if (run.method?.name !== undefined) s.method = run.method.name;
  const model = run.model?.name ?? run.model?.dir;
  if (model !== undefined) s.model = model;
  s.createdAt = run.createdAt;
  s.updatedAt = run.updatedAt;
  if (run.wallSeconds !== undefined) s.wallSeconds = run.wallSeconds;
  if (run.best !== undefined) s.best = run.best;
  if (run.final !== undefined) s.final = run.final;
  if (run.error !== undefined) s.error = run.error;
  if (run.id !== id) s.reason = [s.reason, `run.json says id '${run.id}'`].filter(Boolean).join('; ');
  return s;
}

/** Every run under `root`, newest first. Folders without a readable run.json are listed as 'invalid'. */
export async function listRuns(root: string, probe?: LivenessProbe): Promise<RunSummary[]> {
  let names: string[];
  try {
    names = (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out = await Promise.all(
    names.map(async (id): Promise<RunSummary> => {
      const dir = path.join(root, id);
      try {
        return summarize(id, dir, (await readRun(dir)).run, probe);
      } catch (e) {
        if (!(e instanceof RunStoreError)) throw e;
        return { id, dir, name: id, status: 'invalid', reason: e.message };
      }
    }),
  );
  return out.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || a.id.localeCompare(b.id));
}

async function existingRunDir(root: string, id: string): Promise<string> {
  const dir = runDir(root, id);
  if (!existsSync(dir)) throw new RunStoreError('not_found', `no run '${id}' in ${root}`);
  return dir;
}

/**
 * Parse metrics.jsonl. A last line without its newline that does not parse is a write cut off
 * by a crash: ignored and flagged (`tornTail`). Any other bad line is reported with its number.
 */
export function parseMetrics(text: string): { metrics: MetricRecord[]; problems: MetricsProblem[]; tornTail: boolean } {
  const lines = text.split('\n');
  const metrics: MetricRecord[] = [];
  const problems: MetricsProblem[] = [];
  let tornTail = false;
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    const last = i === lines.length - 1; // no newline after it
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      if (last) tornTail = true;
      else problems.push({ line: i + 1, message: `not valid JSON (${(e as Error).message})` });
      return;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) problems.push({ line: i + 1, message: 'not a JSON object' });
    else metrics.push(v as MetricRecord);
  });
  return { metrics, problems, tornTail };
}

async function dirFiles(dir: string): Promise<{ file: string; bytes: number; mtimeMs: number }[]> {
  const out: { file: string; bytes: number; mtimeMs: number }[] = [];
  const walk = async (d: string, rel: string) => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(p, r);
      else if (e.isFile() && !isTemporaryName(e.name)) {
        const st = await stat(p);
        out.push({ file: r, bytes: st.size, mtimeMs: st.mtimeMs });
      }
    }
  };
  await walk(dir, '');
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

/** One run with its metrics and the files it holds. */
export async function openRun(root: string, id: string, probe?: LivenessProbe): Promise<RunDetail> {
  const dir = await existingRunDir(root, id);
  const { run } = await readRun(dir);
  let text = '';
  try {
    text = await readFile(path.join(dir, METRICS_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const m = parseMetrics(text);
  const checkpoints = (await dirFiles(path.join(dir, 'checkpoints'))).map(({ file, bytes }) => ({ file, bytes }));
  const adapterFiles = await dirFiles(path.join(dir, 'adapter'));
  const detail: RunDetail = {
    ...summarize(id, dir, run, probe),
    run,
    metrics: m.metrics,
    metricsProblems: m.problems,
    tornTail: m.tornTail,
    checkpoints,
    evalFiles: (await dirFiles(path.join(dir, 'eval'))).map((f) => f.file),
  };
  if (adapterFiles.length) detail.adapter = { files: adapterFiles.map((f) => f.file), bytes: adapterFiles.reduce((a, f) => a + f.bytes, 0) };
  return detail;
}

async function assertNotLive(dir: string, id: string, what: string, probe?: LivenessProbe): Promise<{ run: RunJson; raw: Record<string, unknown> }> {
  const r = await readRun(dir);
  if (effectiveStatus(r.run, probe).status === 'running') {
    throw new RunStoreError('conflict', `cannot ${what} run '${id}': it is still running${r.run.pid ? ` (process ${r.run.pid})` : ''}; cancel it first`);
  }
  return r;
}

export { writeJsonAtomic };

/** Set the display name (run.json `name`), rewriting run.json atomically. */
export async function renameRun(root: string, id: string, name: string, probe?: LivenessProbe): Promise<RunSummary> {
  const trimmed = name.trim();
  if (trimmed === '') throw new RunStoreError('invalid', 'a run name must not be empty');
  const dir = await existingRunDir(root, id);
  const { raw } = await assertNotLive(dir, id, 'rename', probe);
  const next = { ...raw, name: trimmed };
  await writeJsonAtomic(path.join(dir, RUN_FILE), next);
  return summarize(id, dir, next as unknown as RunJson, probe);
}

/** Move a run into `<root>/.trash/`; returns where it went. */
export async function deleteRun(root: string, id: string, probe?: LivenessProbe): Promise<{ trashedTo: string }> {
  const dir = await existingRunDir(root, id);
  if (existsSync(path.join(dir, RUN_FILE))) {
    try {
      await assertNotLive(dir, id, 'delete', probe);
    } catch (e) {
      // An unreadable run.json cannot belong to a live run we could see: deleting it is fine.
      if (!(e instanceof RunStoreError) || e.code !== 'invalid') throw e;
    }
  }
  const trash = path.join(root, TRASH_DIR);
  await mkdir(trash, { recursive: true });
  const to = path.join(trash, `${id}.${Date.now()}`);
  await rename(dir, to);
  return { trashedTo: to };
}

/** Remove the trash folder for good. */
export async function emptyTrash(root: string): Promise<void> {
  await rm(path.join(root, TRASH_DIR), { recursive: true, force: true });
}

const NOT_METRICS = new Set(['step', 'epoch', 'split', 'elapsed_s', 'sequences_per_s']);

/** Final metrics from run.json, else (interrupted runs) the last validation record of metrics.jsonl. */
function finalMetrics(d: RunDetail): Record<string, number> {
  if (d.run.final) return d.run.final;
  const val = [...d.metrics].reverse().find((m) => m.split === 'val');
  const out: Record<string, number> = {};
  if (val) for (const [k, v] of Object.entries(val)) if (!NOT_METRICS.has(k) && typeof v === 'number') out[k] = v;
  return out;
}

/** A comparison table of the given runs, in the order given. */
export async function compareRuns(root: string, ids: readonly string[], probe?: LivenessProbe): Promise<CompareTable> {
  const rows: CompareRow[] = [];
  for (const id of ids) {
    const d = await openRun(root, id, probe);
    const r = d.run;
    const row: CompareRow = { id, name: d.name, status: d.status, final: finalMetrics(d) };
    if (r.task !== undefined) row.task = r.task;
    if (r.method) {
      const { name, ...options } = r.method;
      row.method = name;
      if (Object.keys(options).length) row.methodOptions = options;
    }
    if (r.params?.trainable !== undefined) row.trainableParams = r.params.trainable;
    if (r.params?.total !== undefined) row.totalParams = r.params.total;
    if (row.trainableParams !== undefined && row.totalParams) row.trainableFraction = row.trainableParams / row.totalParams;
    if (d.adapter) {
      row.adapterBytes = d.adapter.bytes;
      row.adapterSource = 'adapter';
    } else {
      const ck = (await dirFiles(path.join(d.dir, 'checkpoints'))).filter((f) => f.file.endsWith('.safetensors'));
      const newest = ck.sort((a, b) => b.mtimeMs - a.mtimeMs || b.file.localeCompare(a.file))[0];
      if (newest) {
        row.adapterBytes = newest.bytes;
        row.adapterSource = 'checkpoint';
      }
    }
    if (r.wallSeconds !== undefined) row.wallSeconds = r.wallSeconds;
    if (r.peakRssBytes !== undefined) row.peakRssBytes = r.peakRssBytes;
    if (r.best !== undefined) row.best = r.best;
    rows.push(row);
  }
  const metrics = [...new Set(rows.flatMap((r) => Object.keys(r.final)))].sort();
  return { rows, metrics };
}
