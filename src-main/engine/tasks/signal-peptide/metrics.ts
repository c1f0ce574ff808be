// Signal-peptide metrics, per kingdom and per SP type t (science.md, binding):
//   MCC2(t)          one-vs-all MCC for "type = t" over all sequences of the kingdom;
//   MCC1(t)          the same, restricted to sequences whose TRUE type is t or NO_SP;
//   CS recall(w)     #(true t, predicted t, |predicted CS - true CS| <= w) / #(true t);
//   CS precision(w)  the same count / #(predicted t);   w = 0, 1, 2, 3.
// Conventions:
//   - Types reported for a kingdom are the SP types (not NO_SP) with at least one TRUE sequence
//     in that kingdom, as in SignalP 6.0's compute_metrics.
//   - MCC is 0 when undefined (a zero row or column in the 2x2 table), as sklearn's
//     matthews_corrcoef returns, which produced the published SignalP 6.0 / PEFT-SP numbers.
//   - A predicted-t sequence without a predicted CS counts in the precision denominator and is
//     never correct. Recall/precision are null when their denominator is 0.
//   - SignalP 6.0's own compute_precision divides by the sequences with a predicted CS among
//     those predicted t or NO_SP; with CRF paths that is the predicted-t count (a NO_SP path has
//     no CS), so the two agree for its models. science.md's definition is the one used here.
import { KINGDOMS, type Kingdom, SP_TYPES, type SpType } from '../../data/signalp.js';

export interface SpEvalItem {
  id?: string;
  kingdom: Kingdom;
  trueType: SpType;
  predType: SpType;
  /** 1-based last SP residue; null for NO_SP */
  trueCs: number | null;
  /** predicted cleavage site; null when the prediction has none */
  predCs: number | null;
}

export const CS_WINDOWS = [0, 1, 2, 3] as const;

export interface SpTypeMetrics {
  kingdom: Kingdom;
  type: SpType;
  /** sequences of the kingdom */
  total: number;
  /** true type t */
  nTrue: number;
  /** predicted type t */
  nPred: number;
  mcc1: number;
  mcc2: number;
  /** per window w = 0..3: true t, predicted t, |dCS| <= w */
  csCorrect: number[];
  csRecall: (number | null)[];
  csPrecision: (number | null)[];
}

/** Matthews correlation from a 2x2 table; 0 when undefined (sklearn's convention). */
export function mccFromCounts(tp: number, tn: number, fp: number, fn: number): number {
  const den = Math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
  return den === 0 ? 0 : (tp * tn - fp * fn) / den;
}

/** One-vs-all MCC for `positive` over the given items. */
export function binaryMcc(items: readonly SpEvalItem[], positive: SpType): number {
  let tp = 0;
  let tn = 0;
  let fp = 0;
  let fn = 0;
  for (const it of items) {
    const t = it.trueType === positive;
    const p = it.predType === positive;
    if (t && p) tp++;
    else if (!t && !p) tn++;
    else if (p) fp++;
    else fn++;
  }
  return mccFromCounts(tp, tn, fp, fn);
}

function validate(it: SpEvalItem, k: number): void {
  const name = it.id ?? `#${k + 1}`;
  if (!(KINGDOMS as readonly string[]).includes(it.kingdom)) throw new Error(`item ${name}: unknown kingdom '${it.kingdom}'`);
  for (const t of [it.trueType, it.predType]) {
    if (!(SP_TYPES as readonly string[]).includes(t)) throw new Error(`item ${name}: unknown SP type '${t}'`);
  }
  if (it.trueType !== 'NO_SP' && (it.trueCs === null || !Number.isInteger(it.trueCs) || it.trueCs < 1)) {
    throw new Error(`item ${name}: true type ${it.trueType} needs a true cleavage site (got ${it.trueCs})`);
  }
}

/** Metrics for every kingdom present and every SP type with true sequences in it. */
export function evaluateSignalP(items: readonly SpEvalItem[]): SpTypeMetrics[] {
  items.forEach(validate);
  const out: SpTypeMetrics[] = [];
  for (const kingdom of KINGDOMS) {
    const inK = items.filter((it) => it.kingdom === kingdom);
    if (inK.length === 0) continue;
    for (const type of SP_TYPES) {
      if (type === 'NO_SP') continue;
      const nTrue = inK.filter((it) => it.trueType === type).length;
      if (nTrue === 0) continue;
      const nPred = inK.filter((it) => it.predType === type).length;
      const mcc2 = binaryMcc(inK, type);
      const mcc1 = binaryMcc(
        inK.filter((it) => it.trueType === type || it.trueType === 'NO_SP'),
        type,
      );
      const csCorrect = CS_WINDOWS.map(
        (w) =>
          inK.filter((it) => it.trueType === type && it.predType === type && it.predCs !== null && Math.abs(it.predCs - it.trueCs!) <= w)
            .length,
      );
      out.push({
        kingdom,
        type,
        total: inK.length,
        nTrue,
        nPred,
        mcc1,
        mcc2,
        csCorrect,
        csRecall: csCorrect.map((c) => c / nTrue),
        csPrecision: csCorrect.map((c) => (nPred > 0 ? c / nPred : null)),
      });
    }
  }
  return out;
}
