// What the metric keys of the run store mean, in words for legends, table headers and tooltips
// (the keys stay what the trainer writes; only the labels are for people).
const LABELS: Record<string, string> = {
  loss: 'loss',
  q8: 'Q8 (8-state accuracy)',
  q3: 'Q3 (3-state accuracy)',
  sov3: 'SOV (3-state)',
  mcc2: 'MCC2 (mean over kingdoms and SP types)',
  mcc1: 'MCC1 (mean over kingdoms and SP types)',
  cs_recall: 'cleavage-site recall (±3 residues)',
  cs_precision: 'cleavage-site precision (±3 residues)',
  type_accuracy: 'SP type accuracy',
  lr: 'learning rate',
  elapsed_s: 'wall time (s)',
  sequences_per_s: 'sequences per second',
};

/** Short names for narrow places (table headers). */
const SHORT: Record<string, string> = {
  q8: 'Q8', q3: 'Q3', sov3: 'SOV3', mcc2: 'MCC2', mcc1: 'MCC1', cs_recall: 'CS recall', cs_precision: 'CS precision', type_accuracy: 'type accuracy', loss: 'loss',
};

export function metricLabel(key: string): string {
  return LABELS[key] ?? key.replace(/_/g, ' ');
}

export function metricShort(key: string): string {
  return SHORT[key] ?? metricLabel(key);
}

/** A TensorBoard-style tag (split/metric) in words: 'val/q8' -> 'validation Q8 (8-state accuracy)'. */
export function tagLabel(tag: string): string {
  const [split, key] = tag.split('/');
  const where = split === 'val' ? 'validation' : split === 'train' ? 'training' : split;
  return `${where} ${metricLabel(key ?? '')}`;
}
