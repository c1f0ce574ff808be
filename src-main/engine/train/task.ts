// What the trainer needs from a task: its head, how to score validation predictions, and which
// score selects the best epoch (higher is better).
import type { Esm2Config } from '../esm2/config.js';
import type { Head } from './head.js';
import type { LabelledSequence } from './trainer.js';

export interface TaskSpec {
  name: string;
  head(cfg: Esm2Config): Head;
  /** probs[i]: [len+2, C] per validation sequence, token positions (row 0 = <cls>) */
  metrics(val: readonly LabelledSequence[], probs: readonly Float32Array[], numClasses: number): Record<string, number>;
  selectMetric: string;
}
