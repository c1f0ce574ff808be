// Evaluation of a trained run on a labelled file (`plmw evaluate`, the protocol runner):
//   SS: Q8 and Q3, pooled (correct / scored residues over the file) and per protein (mean of
//       each protein's accuracy), per-class precision/recall/F1, confusion matrix, SOV'99
//       (secondary-structure/metrics.ts). An SS8 model's Q3 scores its SS8 prediction mapped to
//       3 states ({G,H,I}->H, {B,E}->E, others->C); on a 3-state-only file (FLIP) only Q3 exists.
//   SP: per kingdom and SP type MCC1, MCC2, CS recall/precision at windows 0..3 exactly as
//       science.md defines them (signal-peptide/metrics.ts), plus the summary numbers the
//       trainer logs (task.ts spSummary). Predicted type and cleavage site come from decode.ts.
// Predictions run on the run's best checkpoint through Predictor (the same code as `plmw
// predict`), so evaluate's numbers can be recomputed from predict's files.
import { type Note } from '../data/errors.js';
import { readDataFile } from '../data/detect.js';
import { SS3_STATES, SS8_STATES, SS8_TO_SS3, type SsRecord, describeSsConvention } from '../data/labels-ss.js';
import type { SignalPRecord } from '../data/signalp.js';
import type { RuntimeOptions } from '../runtime/index.js';
import { Predictor, openRun, unlabelledTask } from '../train/predictor.js';
import type { RunRecord } from '../train/run-dir.js';
import { type SsMetrics, evaluateSs } from './secondary-structure/metrics.js';
import { type SpLabelledSequence, spLabelled } from './signal-peptide/labels.js';
import { type SpEvalItem, type SpTypeMetrics, evaluateSignalP } from './signal-peptide/metrics.js';
import { spSummary } from './signal-peptide/task.js';

export class EvaluationInputError extends Error {
  override name = 'EvaluationInputError';
}

export interface RunSummary {
  dir: string;
  id: string;
  name: string;
  task: string;
  method: RunRecord['method'];
  head: RunRecord['head'];
  model: { dir: string; sha256: string; name?: string };
  params: RunRecord['params'];
  best?: RunRecord['best'];
  createdAt: string;
  status: RunRecord['status'];
  versions: Record<string, string>;
}

export function runSummary(dir: string, r: RunRecord): RunSummary {
  return {
    dir, id: r.id, name: r.name, task: r.task, method: r.method, head: r.head, model: { dir: r.model.dir, sha256: r.model.sha256, name: r.model.name },
    params: r.params, best: r.best, createdAt: r.createdAt, status: r.status, versions: r.versions,
  };
}

export interface SsProteinResult {
  id: string;
  length: number;
  scored: number;
  q8: number | null;
  q3: number | null;
}

export interface SsEvaluation {
  kind: 'ss';
  run: RunSummary;
  data: { file: string; format: string; records: number; notes: Note[] };
  convention: string;
  /** null for a 3-state model or a 3-state-only file */
  ss8: SsMetrics | null;
  ss3: SsMetrics;
  q8: number | null;
  q8PerProtein: number | null;
  q3: number | null;
  q3PerProtein: number | null;
  perProtein: SsProteinResult[];
}

export interface SpSequenceResult extends SpEvalItem {
  id: string;
  /** residues the model read (first 70) */
  length: number;
  typeProbs: Record<string, number>;
}

export interface SpEvaluation {
  kind: 'sp';
  run: RunSummary;
  data: { file: string; format: string; records: number; notes: Note[] };
  summary: Record<string, number>;
  /** one row per kingdom and SP type with true sequences (metrics.ts conventions) */
  rows: SpTypeMetrics[];
  perSequence: SpSequenceResult[];
}

export type Evaluation = SsEvaluation | SpEvaluation;

export interface EvaluateOptions {
  batchSize?: number;
  runtime?: RuntimeOptions;
  /** model directory when the run's recorded one has moved */
  modelDir?: string;
}

function argmax(p: ArrayLike<number>, row: number, C: number): number {
  let best = 0;
  for (let c = 1; c < C; c++) if (p[row * C + c] > p[row * C + best]) best = c;
  return best;
}

/** Per residue SS8 (or SS3) argmax of a sequence's probability rows [len+2, C]. */
export function ssArgmax(rows: ArrayLike<number>, length: number, C: number): Int32Array {
  return Int32Array.from({ length }, (_, i) => argmax(rows, i + 1, C));
}

/** The parsed content of a labelled file (what readDataFile returns), or a subset of it. */
export interface LabelledData {
  file: string;
  format: string;
  records: readonly (SsRecord | SignalPRecord)[];
  notes: Note[];
  /** the SS label convention line of the parse, when the format has one */
  convention?: string;
}

export async function readLabelledData(dataFile: string): Promise<LabelledData> {
  const d = await readDataFile(dataFile);
  const rejected = d.result.notes.filter((n) => n.kind === 'rejected');
  if (rejected.length) throw new EvaluationInputError(`${dataFile}: ${rejected.length} record(s) rejected (first: ${rejected[0].message}); fix them first`);
  if (d.format === 'fasta') throw new EvaluationInputError(`${dataFile}: plain FASTA has no labels to score against`);
  const convention = 'summary' in d.result ? (d.result.summary as { convention: string }).convention : undefined;
  return { file: dataFile, format: d.format, records: d.result.records as (SsRecord | SignalPRecord)[], notes: d.result.notes, convention };
}

export async function evaluateRun(runDir: string, dataFile: string, o: EvaluateOptions = {}): Promise<Evaluation> {
  return evaluateData(runDir, await readLabelledData(dataFile), o);
}

export async function evaluateData(runDir: string, data: LabelledData, o: EvaluateOptions = {}): Promise<Evaluation> {
  const run = await openRun(runDir, o.modelDir);
  const unlabelled = unlabelledTask(run.record.task);
  if (unlabelled) throw new EvaluationInputError(`${runDir}: ${unlabelled}`);
  const dataFile = data.file;
  const d = { format: data.format, result: { records: data.records, notes: data.notes } };
  const isSp = run.record.task.startsWith('sp');
  if (isSp !== (d.format === 'signalp')) {
    throw new EvaluationInputError(isSp ? `${dataFile}: a signal-peptide run needs a SignalP 3-line file with labels, this is ${d.format}` : `${dataFile}: ${d.format} data has no secondary-structure labels`);
  }
  const predictor = await Predictor.create(run.model, run.method, run.head, run.params, o.runtime);
  const summary = runSummary(runDir, run.record);
  try {
    if (isSp) {
      const records = d.result.records as SignalPRecord[];
      if (records.some((r) => r.labels === null)) throw new EvaluationInputError(`${dataFile}: every record needs a label line to be scored`);
      const sp = spLabelled(records, Number(run.head.options.maxLength ?? 70));
      const decoded = await predictor.predictSp(sp.items.map((s) => s.sequence), sp.items.map((s) => s.kingdom), o.batchSize);
      const perSequence = sp.items.map((s: SpLabelledSequence, i): SpSequenceResult => ({
        id: s.id, length: s.sequence.length, kingdom: s.kingdom!, trueType: s.type!, predType: decoded[i].type,
        trueCs: s.type === 'NO_SP' ? null : s.cleavageSite, predCs: decoded[i].cleavageSite,
        typeProbs: Object.fromEntries(['NO_SP', 'SP', 'LIPO', 'TAT', 'TATLIPO', 'PILIN'].map((t, k) => [t, decoded[i].typeProbs[k]])),
      }));
      const rows = evaluateSignalP(perSequence);
      return {
        kind: 'sp', run: summary, data: { file: dataFile, format: d.format, records: records.length, notes: [...d.result.notes, ...sp.notes] },
        summary: spSummary(rows, perSequence), rows, perSequence,
      };
    }
    const records = d.result.records as SsRecord[];
    const labels = /^ss-ss3/.test(run.record.task) ? 'ss3' : 'ss8';
    const C = labels === 'ss8' ? SS8_STATES.length : SS3_STATES.length;
    const probs = await predictor.predict(records.map((r) => r.sequence), o.batchSize);
    const pred = records.map((r, i) => ssArgmax(probs[i], r.sequence.length, C));
    const to3 = (a: ArrayLike<number>) => Int32Array.from(a as ArrayLike<number>, (c) => (c < 0 ? -1 : SS8_TO_SS3[c]));
    const truth = (r: SsRecord, src: Int8Array) => Int32Array.from(src, (c, k) => (r.mask[k] && c >= 0 ? c : -1));
    const ss8 = labels === 'ss8' && records.every((r) => r.ss8 !== null)
      ? evaluateSs(records.map((r, i) => ({ id: r.id, truth: truth(r, r.ss8!), pred: pred[i] })), SS8_STATES)
      : null;
    const pred3 = labels === 'ss8' ? pred.map(to3) : pred;
    const pairs3 = records.map((r, i) => ({ id: r.id, truth: truth(r, r.ss3), pred: pred3[i] }));
    const ss3 = evaluateSs(pairs3, SS3_STATES);
    const acc = (t: ArrayLike<number>, p: ArrayLike<number>) => {
      let c = 0;
      let n = 0;
      for (let k = 0; k < t.length; k++) if (t[k] >= 0) {
        n++;
        if (t[k] === p[k]) c++;
      }
      return { n, a: n ? c / n : null };
    };
    const perProtein = records.map((r, i): SsProteinResult => {
      const a3 = acc(pairs3[i].truth, pairs3[i].pred);
      return { id: r.id, length: r.sequence.length, scored: a3.n, q8: ss8 ? acc(truth(r, r.ss8!), pred[i]).a : null, q3: a3.a };
    });
    const convention = data.convention ?? describeSsConvention();
    return {
      kind: 'ss', run: summary, data: { file: dataFile, format: d.format, records: records.length, notes: d.result.notes }, convention,
      ss8, ss3, q8: ss8?.accuracy ?? null, q8PerProtein: ss8?.perProteinAccuracy ?? null, q3: ss3.accuracy, q3PerProtein: ss3.perProteinAccuracy, perProtein,
    };
  } finally {
    await predictor.release();
  }
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-'.padStart(6) : (100 * x).toFixed(2).padStart(6));
const num = (x: number | null | undefined) => (x === null || x === undefined ? '-'.padStart(7) : x.toFixed(4).padStart(7));

/** A readable plain-text table of an evaluation. */
export function formatEvaluation(e: Evaluation): string {
  const lines: string[] = [`run ${e.run.id} (${e.run.task}, ${e.run.method.name}) on ${e.data.file}: ${e.data.records} records`];
  if (e.kind === 'ss') {
    lines.push(e.convention, '');
    lines.push(`Q3 ${pct(e.q3)} % pooled, ${pct(e.q3PerProtein)} % per protein` + (e.ss8 ? `;  Q8 ${pct(e.q8)} % pooled, ${pct(e.q8PerProtein)} % per protein` : ''));
    for (const m of [e.ss8, e.ss3]) {
      if (!m) continue;
      lines.push('', `${m.states.length} states ${'support'.padStart(9)} ${'precision'.padStart(9)} ${'recall'.padStart(9)} ${'F1'.padStart(9)}`);
      for (const c of m.perClass) lines.push(`  ${c.state}      ${String(c.support).padStart(9)} ${num(c.precision).padStart(9)} ${num(c.recall).padStart(9)} ${num(c.f1).padStart(9)}`);
      lines.push(`  SOV'99 ${pct(m.sov?.pooled)} % pooled, ${pct(m.sov?.perProteinMean)} % per protein; macro F1 ${num(m.macroF1)}`);
    }
  } else {
    lines.push('', `${'kingdom'.padEnd(9)} ${'type'.padEnd(8)} ${'n_true'.padStart(6)} ${'n_pred'.padStart(6)} ${'MCC1'.padStart(7)} ${'MCC2'.padStart(7)}  ${'CS recall w=0..3'.padEnd(31)}  CS precision w=0..3`);
    for (const r of e.rows) {
      lines.push(`${r.kingdom.padEnd(9)} ${r.type.padEnd(8)} ${String(r.nTrue).padStart(6)} ${String(r.nPred).padStart(6)} ${num(r.mcc1)} ${num(r.mcc2)}  ${r.csRecall.map(num).join(' ')}  ${r.csPrecision.map(num).join(' ')}`);
    }
    if (e.rows.length === 0) lines.push('(no sequence with a signal peptide: no rows)');
    lines.push('', `mean MCC2 ${num(e.summary.mcc2)}, mean MCC1 ${num(e.summary.mcc1)}, type accuracy ${num(e.summary.type_accuracy)}`);
  }
  return `${lines.join('\n')}\n`;
}
