// A parsed data file as labelled sequences for a training task, with the checks every front
// needs: no rejected records, the right kind of file for the task, labels present. Fronts
// (CLI, API) word the failure for their users from `reason`.
import type { DetectedResult } from '../data/detect.js';
import { formatNote, type Note } from '../data/errors.js';
import type { SsRecord } from '../data/labels-ss.js';
import type { SignalPRecord } from '../data/signalp.js';
import type { LabelledSequence } from '../train/trainer.js';
import { type SsLabels, ssLabelled } from './secondary-structure/task.js';
import { spLabelled } from './signal-peptide/labels.js';

export class LabelledDataError extends Error {
  override name = 'LabelledDataError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

export interface LabelledDataOptions {
  task: 'ss' | 'sp';
  labels?: SsLabels;
  /** SignalP partitions to keep (null or absent: all) */
  partitions?: ReadonlySet<number> | null;
  /** how the task is named in messages (default 'task sp') */
  taskName?: string;
}

/** Items, and the notes the conversion adds to the parser's (signal-peptide region paths). */
export function labelledData(d: DetectedResult, file: string, o: LabelledDataOptions): { items: LabelledSequence[]; notes: Note[]; inexact: number } {
  const rejected = d.result.notes.filter((n) => n.kind === 'rejected');
  if (rejected.length) throw new LabelledDataError(file, `${rejected.length} record(s) rejected (first: ${formatNote(rejected[0])}); fix them first`);
  if (o.task === 'ss') {
    if (d.format === 'signalp' || d.format === 'fasta') throw new LabelledDataError(file, `${d.format} data has no secondary-structure labels (LIFT_SS, NetSurfP CSV or FLIP files have them)`);
    return { items: ssLabelled(d.result.records as SsRecord[], o.labels ?? 'ss8'), notes: [], inexact: 0 };
  }
  if (d.format !== 'signalp') throw new LabelledDataError(file, `${o.taskName ?? 'task sp'} needs a SignalP 3-line file (>ACCESSION|KINGDOM|TYPE|PARTITION), this is ${d.format}`);
  const keep = o.partitions ?? null;
  const records = (d.result.records as SignalPRecord[]).filter((r) => keep === null || keep.has(r.partition));
  if (records.some((r) => r.labels === null)) throw new LabelledDataError(file, 'records without a label line cannot be trained on');
  const sp = spLabelled(records);
  return { items: sp.items, notes: sp.notes, inexact: sp.inexact };
}
