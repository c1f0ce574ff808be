// Shared pieces of the UI job kinds: the runs root, the task of a train request, and training
// data given as text or as a path, read by the same detecting parsers as `plmw train`.
import path from 'node:path';
import type { DataInput, TrainEstimateRequest, TrainRequest } from '../../../api/contract.js';
import { ApiError } from '../../../api/errors.js';
import { parseDetected, readDataFile, type DetectedResult } from '../../data/detect.js';
import type { Note } from '../../data/errors.js';
import { runsRoot } from '../../runs/store.js';
import { LabelledDataError, labelledData } from '../../tasks/labelled-data.js';
import { ssTask } from '../../tasks/secondary-structure/task.js';
import { spTask } from '../../tasks/signal-peptide/task.js';
import type { TaskSpec } from '../../train/task.js';
import type { LabelledSequence } from '../../train/trainer.js';

export function resolveRunsRoot(root: string | undefined, home: string): string {
  return path.resolve(root ?? runsRoot(home));
}

type TaskFields = Pick<TrainRequest, 'task' | 'labels' | 'head' | 'noKingdom'>;

export function taskOf(r: TaskFields): TaskSpec {
  return r.task === 'sp' ? spTask({ kingdom: !r.noKingdom }) : ssTask(r.labels ?? 'ss8', { head: r.head ?? 'linear' });
}

/** The trainer's method options from the request's (names as the engine reads them). */
export function methodOptionsOf(r: Pick<TrainRequest | TrainEstimateRequest, 'options'>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r.options ?? {})) if (v !== undefined) o[k] = v;
  return o;
}

export async function readInput(d: DataInput, which: string): Promise<{ file: string; detected: DetectedResult }> {
  if (d.path !== undefined) return { file: d.path, detected: await readDataFile(d.path) };
  const file = d.name ?? `<${which}>`;
  return { file, detected: parseDetected(d.text!, { file }) };
}

/** Labelled sequences of a data input for the task; rejected records or a wrong format fail with the located reason. */
export async function loadLabelled(d: DataInput, which: 'train' | 'val', r: TaskFields): Promise<{ items: LabelledSequence[]; notes: Note[] }> {
  const { file, detected } = await readInput(d, which);
  let data;
  try {
    data = labelledData(detected, file, { task: r.task, labels: r.labels });
  } catch (e) {
    if (e instanceof LabelledDataError) throw new ApiError('bad_request', `${which} data (${file}): ${e.reason}`, which);
    throw e;
  }
  if (data.items.length === 0) throw new ApiError('bad_request', `${which} data (${file}): no sequences`, which);
  return { items: data.items, notes: [...detected.result.notes, ...data.notes] };
}

export const isAbort = (e: unknown) => e instanceof DOMException && e.name === 'AbortError';
