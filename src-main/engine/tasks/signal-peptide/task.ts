// Signal peptides as a training task: the CRF head (head.ts) over the first 70 residues, items
// from SignalP 3-line files (labels.ts), validation scored with SignalP 6.0's metrics
// (metrics.ts) on predictions decoded in TypeScript (decode.ts).
//
// Validation metrics written by the trainer (higher is better):
//   mcc2, mcc1            mean over the (kingdom, SP type) rows evaluateSignalP reports;
//   cs_recall, cs_precision  mean over those rows at window w = 3 (undefined precision -> 0);
//   type_accuracy         fraction of sequences whose predicted type is the true one.
// The best epoch is selected on mcc2 (the number PEFT-SP reports).
import type { Esm2Config } from '../../esm2/config.js';
import type { Kingdom, SpType } from '../../data/signalp.js';
import type { TaskSpec } from '../../train/task.js';
import type { LabelledSequence } from '../../train/trainer.js';
import { type SpDecoded, crfParamsOf, decodeSp } from './decode.js';
import { type SpHeadOptions, spHead } from './head.js';
import { cleavageSiteOfLabels, kingdomOf, typeOf } from './labels.js';
import { type SpEvalItem, type SpTypeMetrics, evaluateSignalP } from './metrics.js';

/** Task names: 'sp' (kingdom input on) and 'sp-nokingdom'. */
export function spTaskName(o: SpHeadOptions = {}): string {
  return o.kingdom === false ? 'sp-nokingdom' : 'sp';
}

/** The true side of an evaluation item, read from the labels. */
export function spTruth(s: LabelledSequence): { kingdom: Kingdom | null; type: SpType | null; cleavageSite: number | null } {
  return { kingdom: kingdomOf(s.labels), type: typeOf(s.labels), cleavageSite: cleavageSiteOfLabels(s.labels) };
}

/** Evaluation items from labelled sequences and their decoded predictions (unlabelled or kingdom-less items are refused). */
export function spEvalItems(val: readonly LabelledSequence[], decoded: readonly SpDecoded[]): SpEvalItem[] {
  return val.map((s, i) => {
    const t = spTruth(s);
    if (t.kingdom === null || t.type === null) throw new Error(`sequence '${s.id}': no kingdom or no labels; cannot score it`);
    return { id: s.id, kingdom: t.kingdom, trueType: t.type, predType: decoded[i].type, trueCs: t.type === 'NO_SP' ? null : t.cleavageSite, predCs: decoded[i].cleavageSite };
  });
}

/** The summary numbers of evaluateSignalP's rows (see the header). */
export function spSummary(rows: readonly SpTypeMetrics[], items: readonly SpEvalItem[]): Record<string, number> {
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const w = 3;
  return {
    mcc2: mean(rows.map((r) => r.mcc2)),
    mcc1: mean(rows.map((r) => r.mcc1)),
    cs_recall: mean(rows.map((r) => r.csRecall[w] ?? 0)),
    cs_precision: mean(rows.map((r) => r.csPrecision[w] ?? 0)),
    type_accuracy: items.length ? items.filter((it) => it.trueType === it.predType).length / items.length : 0,
  };
}

export function spTask(o: SpHeadOptions = {}): TaskSpec {
  return {
    name: spTaskName(o),
    head: (cfg: Esm2Config) => spHead(cfg.hiddenSize, o),
    selectMetric: 'mcc2',
    metrics(val, probs, _C, trained) {
      const crf = crfParamsOf(trained);
      const decoded = val.map((s, i) => decodeSp(probs[i], s.sequence.length, kingdomOf(s.labels), crf));
      const items = spEvalItems(val, decoded);
      return spSummary(evaluateSignalP(items), items);
    },
  };
}
