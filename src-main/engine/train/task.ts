// What the trainer needs from a task: its head, how to score validation predictions, and which
// score selects the best epoch (higher is better).
import type { Esm2Config } from '../esm2/config.js';
import type { Head } from './head.js';
import type { LabelledSequence } from './trainer.js';

export interface TaskSpec {
  name: string;
  head(cfg: Esm2Config): Head;
  /**
   * probs[i]: the head's per-residue output [len+2, C] per validation sequence, token positions
   * (row 0 = <cls>); params: the trained tensors at this point (e.g. a CRF's transitions).
   */
  metrics(val: readonly LabelledSequence[], probs: readonly Float32Array[], numClasses: number, params: ReadonlyMap<string, Float32Array>): Record<string, number>;
  selectMetric: string;
}
