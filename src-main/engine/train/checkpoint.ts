// Checkpoints hold the trainable tensors only (never the frozen backbone), the optimizer
// moments, and the loop position, so a run resumes exactly where the checkpoint was taken.

import { readSafetensors, writeSafetensors } from '../esm2/safetensors.js';

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

export async function saveCheckpoint(file: string, params: TensorMap, moments: { m: TensorMap; v: TensorMap } | null, state: LoopState): Promise<void> {
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [n, t] of params) tensors[n] = { dtype: 'F32', shape: t.shape, data: t.data };
  if (moments)
    for (const kind of ['m', 'v'] as const) for (const [n, t] of moments[kind]) tensors[`optimizer.${kind}.${n}`] = { dtype: 'F32', shape: t.shape, data: t.data };
  // The loop state lives in the same file's metadata: one atomic rename, never a state that
  // disagrees with its tensors.
  await writeSafetensors(file, tensors, { plmw_state: JSON.stringify(state) });
}

export function loadCheckpoint(file: string): { params: TensorMap; m: TensorMap; v: TensorMap; state: LoopState } {
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
