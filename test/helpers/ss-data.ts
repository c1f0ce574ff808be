// Small secondary-structure training sets cut from the shared LIFT_SS files.
import { readLiftSsFile } from '../../src-main/engine/data/lift-ss.js';
import { ssLabelled } from '../../src-main/engine/tasks/secondary-structure/task.js';
import type { LabelledSequence } from '../../src-main/engine/train/trainer.js';
import { shared } from './paths.js';

export async function ssSubset(file: string, count: number, maxLength = 120): Promise<LabelledSequence[]> {
  const r = await readLiftSsFile(shared('data', 'secondary-structure', 'lift_ss', file), { strict: true });
  return ssLabelled(r.records.filter((x) => x.sequence.length <= maxLength).slice(0, count), 'ss8');
}
