// Secondary-structure metrics: Q3 / Q8, per-class precision/recall/F1, confusion matrix, SOV'99.
//
// Inputs are per-protein pairs (truth, prediction) of class indices in the order of
// labels-ss.ts (SS3: H E C; SS8: G H I B E S T C). Truth is -1 at masked residues (X,
// unresolved, excluded by a source mask or by the P convention); masked residues are never
// scored. Predictions must be valid indices everywhere (they are produced for every residue).
// All values are fractions in [0, 1] (multiply by 100 for the usual percent display).
//
// Definitions:
//   accuracy (Q3/Q8)   pooled: correct scored residues / scored residues, over all proteins;
//   perProteinAccuracy mean over proteins (with >= 1 scored residue) of each protein's accuracy;
//   confusion[t][p]    scored residues with true class t predicted as p;
//   precision(c)       TP / predicted-c (null when nothing was predicted c);
//   recall(c)          TP / true-c (null when no residue is truly c);
//   f1(c)              2PR/(P+R); 0 when P+R = 0; null when P or R is null;
//   macroF1            mean F1 over classes with true-c > 0, an undefined F1 counted as 0.
// SOV'99 (Zemla, Venclovas, Fidelis, Rost 1999, Proteins 34:220), per protein and state i:
//   S(i)  = pairs (s1, s2) of an observed segment s1 and a predicted segment s2 of state i that
//           overlap by at least one residue; S'(i) = observed segments of state i overlapping no
//           predicted segment of state i;
//   N(i)  = sum over S(i) of len(s1) + sum over S'(i) of len(s1)  (an s1 counted once per pair);
//   SOV   = sum_i sum_{S(i)} [(minov + delta) / maxov * len(s1)] / sum_i N(i),
//   minov = residues in both segments, maxov = extent of their union (first to last residue),
//   delta = min(maxov - minov, minov, floor(len(s1)/2), floor(len(s2)/2)).
// Masked residues belong to no observed segment (they split observed segments), while the
// prediction at those residues still forms predicted segments: the same treatment as the SOV
// script shipped with LIFT_SS (SOV.pl, reference residues 'X' dropped from N and the sum).
// Dataset SOV is given two ways: pooled (sum of all proteins' numerators / sum of all N, what
// that script prints) and the mean of per-protein SOV values (proteins with N > 0).
import { SS3_STATES, SS8_STATES, SS8_TO_SS3 } from '../../data/labels-ss.js';

export interface SsPair {
  id?: string;
  /** true class per residue, -1 = masked */
  truth: ArrayLike<number>;
  /** predicted class per residue */
  pred: ArrayLike<number>;
}

export interface ClassMetrics {
  state: string;
  /** residues truly in this class (scored) */
  support: number;
  /** scored residues predicted as this class */
  predicted: number;
  truePositives: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

export interface SovResult {
  /** sum of numerators / sum of N over all proteins; null when no observed segment exists */
  pooled: number | null;
  /** mean of per-protein SOV over proteins with N > 0 */
  perProteinMean: number | null;
  perState: { state: string; sov: number | null; n: number }[];
}

export interface SsMetrics {
  /** state letters, in index order */
  states: string;
  accuracy: number | null;
  perProteinAccuracy: number | null;
  scoredResidues: number;
  /** proteins with at least one scored residue */
  scoredProteins: number;
  confusion: number[][];
  perClass: ClassMetrics[];
  macroF1: number | null;
  sov: SovResult | null;
}

/** Per-protein SOV'99 contributions for each state: the numerator sum and N. */
export function sov99Parts(truth: ArrayLike<number>, pred: ArrayLike<number>, numStates: number): { sum: number; n: number }[] {
  if (truth.length !== pred.length) throw new Error(`SOV: truth has ${truth.length} residues, prediction ${pred.length}`);
  const parts: { sum: number; n: number }[] = [];
  for (let s = 0; s < numStates; s++) {
    const obs = segments(truth, s);
    const prd = segments(pred, s);
    let sum = 0;
    let n = 0;
    for (const [a1, b1] of obs) {
      const len1 = b1 - a1 + 1;
      let overlapped = false;
      for (const [a2, b2] of prd) {
        if (b2 < a1 || b1 < a2) continue;
        overlapped = true;
        const len2 = b2 - a2 + 1;
        const minov = Math.min(b1, b2) - Math.max(a1, a2) + 1;
        const maxov = Math.max(b1, b2) - Math.min(a1, a2) + 1;
        const delta = Math.min(maxov - minov, minov, Math.floor(len1 / 2), Math.floor(len2 / 2));
        sum += ((minov + delta) / maxov) * len1;
        n += len1;
      }
      if (!overlapped) n += len1;
    }
    parts.push({ sum, n });
  }
  return parts;
}

/** SOV'99 of one protein over all states; null when the protein has no observed segment. */
export function sov99(truth: ArrayLike<number>, pred: ArrayLike<number>, numStates: number): number | null {
  let sum = 0;
  let n = 0;
  for (const p of sov99Parts(truth, pred, numStates)) {
    sum += p.sum;
    n += p.n;
  }
  return n > 0 ? sum / n : null;
}

/** Maximal runs [start, end] (inclusive, 0-based) of `state` in `labels`. */
function segments(labels: ArrayLike<number>, state: number): [number, number][] {
  const out: [number, number][] = [];
  let start = -1;
  for (let i = 0; i <= labels.length; i++) {
    const inState = i < labels.length && labels[i] === state;
    if (inState && start < 0) start = i;
    else if (!inState && start >= 0) {
      out.push([start, i - 1]);
      start = -1;
    }
  }
  return out;
}

export interface EvaluateSsOptions {
  /** compute SOV'99 (default true) */
  sov?: boolean;
}

/** Evaluate predictions against truth with the given state alphabet ('HEC' or 'GHIBESTC'). */
export function evaluateSs(pairs: SsPair[], states: string, opts: EvaluateSsOptions = {}): SsMetrics {
  const k = states.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  let scored = 0;
  let proteinAccSum = 0;
  let proteins = 0;
  const sovState = Array.from({ length: k }, () => ({ sum: 0, n: 0 }));
  let sovProteinSum = 0;
  let sovProteins = 0;

  for (const [idx, p] of pairs.entries()) {
    const name = p.id ?? `#${idx + 1}`;
    if (p.truth.length !== p.pred.length) {
      throw new Error(`protein ${name}: truth has ${p.truth.length} residues, prediction ${p.pred.length}`);
    }
    let c = 0;
    let s = 0;
    for (let i = 0; i < p.truth.length; i++) {
      const y = p.pred[i];
      if (!Number.isInteger(y) || y < 0 || y >= k) throw new Error(`protein ${name}: prediction ${y} at residue ${i + 1} is not a class index 0..${k - 1}`);
      const t = p.truth[i];
      if (t < 0) continue;
      if (!Number.isInteger(t) || t >= k) throw new Error(`protein ${name}: true label ${t} at residue ${i + 1} is not a class index 0..${k - 1} or -1`);
      confusion[t][y]++;
      s++;
      if (t === y) c++;
    }
    correct += c;
    scored += s;
    if (s > 0) {
      proteinAccSum += c / s;
      proteins++;
    }
    if (opts.sov ?? true) {
      const parts = sov99Parts(p.truth, p.pred, k);
      let sum = 0;
      let n = 0;
      parts.forEach((q, st) => {
        sovState[st].sum += q.sum;
        sovState[st].n += q.n;
        sum += q.sum;
        n += q.n;
      });
      if (n > 0) {
        sovProteinSum += sum / n;
        sovProteins++;
      }
    }
  }

  const perClass: ClassMetrics[] = [];
  for (let c = 0; c < k; c++) {
    const tp = confusion[c][c];
    let support = 0;
    let predicted = 0;
    for (let j = 0; j < k; j++) {
      support += confusion[c][j];
      predicted += confusion[j][c];
    }
    const precision = predicted > 0 ? tp / predicted : null;
    const recall = support > 0 ? tp / support : null;
    const f1 = precision === null || recall === null ? null : precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perClass.push({ state: states[c], support, predicted, truePositives: tp, precision, recall, f1 });
  }
  const withSupport = perClass.filter((m) => m.support > 0);
  const macroF1 = withSupport.length > 0 ? withSupport.reduce((a, m) => a + (m.f1 ?? 0), 0) / withSupport.length : null;

  let sov: SovResult | null = null;
  if (opts.sov ?? true) {
    const totalN = sovState.reduce((a, q) => a + q.n, 0);
    const totalSum = sovState.reduce((a, q) => a + q.sum, 0);
    sov = {
      pooled: totalN > 0 ? totalSum / totalN : null,
      perProteinMean: sovProteins > 0 ? sovProteinSum / sovProteins : null,
      perState: sovState.map((q, st) => ({ state: states[st], sov: q.n > 0 ? q.sum / q.n : null, n: q.n })),
    };
  }

  return {
    states,
    accuracy: scored > 0 ? correct / scored : null,
    perProteinAccuracy: proteins > 0 ? proteinAccSum / proteins : null,
    scoredResidues: scored,
    scoredProteins: proteins,
    confusion,
    perClass,
    macroF1,
    sov,
  };
}

/** Q3 and the 3-state metrics (truth and predictions in SS3 indices H E C). */
export function evaluateSs3(pairs: SsPair[], opts?: EvaluateSsOptions): SsMetrics {
  return evaluateSs(pairs, SS3_STATES, opts);
}

/** Q8 and the 8-state metrics (indices G H I B E S T C). */
export function evaluateSs8(pairs: SsPair[], opts?: EvaluateSsOptions): SsMetrics {
  return evaluateSs(pairs, SS8_STATES, opts);
}

/** Map SS8 indices to SS3 indices (-1 stays -1), e.g. to score an 8-state model on Q3. */
export function ss8ToSs3(labels: ArrayLike<number>): Int8Array {
  const out = new Int8Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = labels[i] < 0 ? -1 : SS8_TO_SS3[labels[i]];
  return out;
}
