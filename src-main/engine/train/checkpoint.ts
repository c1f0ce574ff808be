// Checkpoints hold the trainable tensors only (never the frozen backbone), the optimizer
// moments, and the loop position, so a run resumes exactly where the checkpoint was taken.
//
// A run keeps its last two resumable checkpoints (checkpoints/step-N.safetensors) and the best
// one (checkpoints/best.safetensors); run.json records each file's sha256 (CheckpointRecord).
// A checkpoint is written first and recorded second, so a kill between the two leaves an
// unrecorded file that the next save removes, never a record of a file that is not there. On
// resume the newest recorded checkpoint whose bytes still match its sha256 is used; a damaged
// newer one is reported by name (resumeFrom), and when none is good the run refuses to resume
// rather than starting again from scratch.

import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { sha256OfFile } from '../atomic.js';
import { readSafetensors, writeSafetensors } from '../esm2/safetensors.js';
import type { CheckpointRecord, RunRecord } from '../runs/types.js';

export interface LoopState {
  /** optimizer steps taken */
  step: number;
  /** epoch to run next, and batches of it already done */
  epoch: number;
  batchInEpoch: number;
  /** lines of metrics.jsonl written when the checkpoint was taken */
  metricsLines: number;
  elapsedSeconds: number;
  best: { value: number; epoch: number } | null;
  epochsWithoutImprovement: number;
  stopped: boolean;
  /** running sums of step losses for the epoch's mean and for the next train line */
  epochLoss: { sum: number; count: number };
  logLoss: { sum: number; count: number };
}

export type TensorMap = Map<string, { shape: number[]; data: Float32Array }>;

/** Resumable checkpoints kept per run. */
export const CHECKPOINTS_KEPT = 2;
export const BEST_CHECKPOINT = 'checkpoints/best.safetensors';
const STEP_FILE = /^step-\d+\.safetensors$/;

/** The file (relative to the run folder) of the resumable checkpoint taken after `step` steps. */
export function stepCheckpointFile(step: number): string {
  return `checkpoints/step-${String(step).padStart(8, '0')}.safetensors`;
}

export async function saveCheckpoint(file: string, params: TensorMap, moments: { m: TensorMap; v: TensorMap } | null, state: LoopState): Promise<{ bytes: number; sha256: string }> {
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [n, t] of params) tensors[n] = { dtype: 'F32', shape: t.shape, data: t.data };
  if (moments)
    for (const kind of ['m', 'v'] as const) for (const [n, t] of moments[kind]) tensors[`optimizer.${kind}.${n}`] = { dtype: 'F32', shape: t.shape, data: t.data };
  // The loop state lives in the same file's metadata: one atomic rename, never a state that
  // disagrees with its tensors.
  return writeSafetensors(file, tensors, { plmw_state: JSON.stringify(state) });
}

/** Writes a checkpoint under `rel` (relative to runDir) and returns its record for run.json. */
export async function writeCheckpoint(runDir: string, rel: string, params: TensorMap, moments: { m: TensorMap; v: TensorMap } | null, state: LoopState): Promise<CheckpointRecord> {
  const { bytes, sha256 } = await saveCheckpoint(path.join(runDir, rel), params, moments, state);
  return { file: rel, sha256, bytes, step: state.step, epoch: state.epoch, metricsLines: state.metricsLines };
}

/** The records after adding `rec`: newest first, CHECKPOINTS_KEPT of them. */
export function keepNewest(list: readonly CheckpointRecord[] | undefined, rec: CheckpointRecord): CheckpointRecord[] {
  return [rec, ...(list ?? []).filter((r) => r.file !== rec.file)].slice(0, CHECKPOINTS_KEPT);
}

/** Removes step checkpoints that run.json no longer records (older ones, or one written but never recorded). */
export function removeUnrecorded(runDir: string, kept: readonly CheckpointRecord[]): void {
  const keep = new Set(kept.map((r) => path.basename(r.file)));
  let names: string[];
  try {
    names = readdirSync(path.join(runDir, 'checkpoints'));
  } catch {
    return;
  }
  for (const n of names) if (STEP_FILE.test(n) && !keep.has(n)) rmSync(path.join(runDir, 'checkpoints', n), { force: true });
}

/** Why a recorded checkpoint cannot be used (missing, changed bytes), or undefined when it is intact. */
export function checkpointProblem(runDir: string, rec: Pick<CheckpointRecord, 'file' | 'sha256'>): string | undefined {
  const file = path.join(runDir, rec.file);
  if (!existsSync(file)) return `${file} is missing`;
  let sha: string;
  try {
    sha = sha256OfFile(file);
  } catch (e) {
    return (e as Error).message;
  }
  return sha === rec.sha256 ? undefined : `${file} is damaged (sha256 ${sha.slice(0, 12)}…, run.json recorded ${rec.sha256.slice(0, 12)}…)`;
}

export interface LoadedCheckpoint {
  params: TensorMap;
  m: TensorMap;
  v: TensorMap;
  state: LoopState;
}

/** Reads a checkpoint; with `sha256`, first checks that the file still has the bytes recorded for it. */
export function loadCheckpoint(file: string, sha256?: string): LoadedCheckpoint {
  if (sha256 !== undefined) {
    const problem = checkpointProblem(path.dirname(file), { file: path.basename(file), sha256 });
    if (problem) throw new Error(problem);
  }
  const f = readSafetensors(file);
  const params: TensorMap = new Map();
  const m: TensorMap = new Map();
  const v: TensorMap = new Map();
  for (const [name, t] of f.tensors) {
    const entry = { shape: t.shape, data: t.toFloat32() };
    if (name.startsWith('optimizer.m.')) m.set(name.slice(12), entry);
    else if (name.startsWith('optimizer.v.')) v.set(name.slice(12), entry);
    else params.set(name, entry);
  }
  const raw = f.metadata.plmw_state;
  if (!raw) throw new Error(`${file}: not a plm-workbench checkpoint (no loop state)`);
  return { params, m, v, state: JSON.parse(raw) as LoopState };
}

/** The best checkpoint of a run, checked against run.json's record of it when there is one. */
export function loadBestCheckpoint(runDir: string, record: Pick<RunRecord, 'bestCheckpoint'>): LoadedCheckpoint {
  return loadCheckpoint(path.join(runDir, BEST_CHECKPOINT), record.bestCheckpoint?.sha256);
}

export interface ResumePoint {
  /** the checkpoint to continue from; null: nothing was checkpointed, start at the beginning */
  checkpoint: (LoadedCheckpoint & { file: string; record: CheckpointRecord | null }) | null;
  /** what the user must be told: damaged checkpoints passed over, unverified legacy files */
  warnings: string[];
}

/** A run that cannot resume: every recorded checkpoint is damaged. */
export class NoUsableCheckpointError extends Error {
  override name = 'NoUsableCheckpointError';
}

/**
 * Where an interrupted run continues: the newest recorded checkpoint that is intact. Throws
 * NoUsableCheckpointError when checkpoints were recorded and none is intact (starting again
 * would silently throw the run's progress away).
 */
export function resumeFrom(runDir: string, record: Pick<RunRecord, 'checkpoints'> | null): ResumePoint {
  const warnings: string[] = [];
  const recorded = record?.checkpoints ?? [];
  if (recorded.length === 0) {
    // Runs written before checkpoints were recorded: their one file, used unverified.
    const legacy = path.join(runDir, 'checkpoints', 'last.safetensors');
    if (record && existsSync(legacy)) {
      warnings.push(`${legacy} has no recorded sha256 (written by an older version); resuming from it unverified`);
      return { checkpoint: { ...loadCheckpoint(legacy), file: legacy, record: null }, warnings };
    }
    return { checkpoint: null, warnings };
  }
  const problems: string[] = [];
  for (const rec of recorded) {
    let problem = checkpointProblem(runDir, rec);
    if (!problem) {
      try {
        const loaded = loadCheckpoint(path.join(runDir, rec.file));
        for (const p of problems) warnings.push(`${p}; resuming from the previous checkpoint, ${path.join(runDir, rec.file)} (step ${rec.step})`);
        return { checkpoint: { ...loaded, file: path.join(runDir, rec.file), record: rec }, warnings };
      } catch (e) {
        problem = `${path.join(runDir, rec.file)} is unreadable: ${(e as Error).message}`;
      }
    }
    problems.push(problem);
  }
  throw new NoUsableCheckpointError(`${runDir}: no intact checkpoint to resume from (${problems.join('; ')}); the run cannot continue: start it again in a new folder`);
}
