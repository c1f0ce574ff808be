// Annotated predictions of a trained run for every sequence of a file (`plmw predict`).
//
// Input: any file the data layer reads (plain FASTA, SignalP 3-line — kingdom from the header —,
// LIFT_SS, NetSurfP CSV, FLIP); only ids and sequences are used.
// Outputs, each written atomically (temporary name, then rename), PREFIX.:
//   residues.csv   id,position,residue, then
//                  SS8 run: ss8,ss3,p_G..p_C (softmax), p3_H,p3_E,p3_C (sums of the SS8
//                  probabilities); ss3 = the SS8 prediction mapped to 3 states (what Q3 scores;
//                  it can differ from the argmax of p3_*). SS3 run: ss3,p3_H,p3_E,p3_C.
//                  SP run: region (Viterbi letter S L T P I M O), then the posterior marginal of
//                  each of the 37 states, columns named by SignalP 6.0's state names. Only the
//                  first 70 residues are predicted; later residues get no row.
//   summary.csv    SP only: id,prediction,p_NO_SP,p_SP,p_LIPO,p_TAT,p_TATLIPO,p_PILIN,cs_position
//                  (SignalP 6.0's prediction_results.txt columns; for EUKARYA the SP types are
//                  folded into SP as SignalP does; cs_position empty without a signal peptide).
//   gff3           SP only: SignalP 6.0's output.gff3 layout (export/gff3.ts).
//   mature.fasta   SP only: each sequence with the predicted signal peptide removed; sequences
//                  without one are written unchanged; the header says which.
//   json           everything above per sequence plus the run's metadata and the versions.
// Per-residue probabilities are rounded to 6 decimals in the CSV and JSON files (SignalP writes
// 6 too); SP type probabilities are written in full.
import { createRequire } from 'node:module';
import path from 'node:path';
import { readDataFile } from '../data/detect.js';
import type { Note } from '../data/errors.js';
import { SS3_STATES, SS8_STATES, SS8_TO_SS3 } from '../data/labels-ss.js';
import { KINGDOMS, type Kingdom, SP_TYPES } from '../data/signalp.js';
import type { SignalPRecord } from '../data/signalp.js';
import { writeCsv, type CsvValue } from '../export/csv.js';
import { writeFasta } from '../export/fasta.js';
import { type Gff3Feature, SIGNALP6_SOURCE, signalPeptideGff3, writeGff3 } from '../export/gff3.js';
import { writeJson } from '../export/json.js';
import type { RuntimeOptions } from '../runtime/index.js';
import { Predictor, openRun, unlabelledTask } from '../train/predictor.js';
import { ssArgmax, runSummary } from './evaluate.js';
import { REGION_STATES } from './signal-peptide/regions.js';
import { SP_MAX_LENGTH } from './signal-peptide/labels.js';

const require = createRequire(import.meta.url);

export class PredictInputError extends Error {
  override name = 'PredictInputError';
}

export interface PredictOptions {
  batchSize?: number;
  runtime?: RuntimeOptions;
  modelDir?: string;
  /**
   * SP runs: kingdom of sequences whose file does not name one (plain FASTA). 'unknown' =
   * predict without a kingdom term. Required for such input when the run has a kingdom input.
   */
  kingdom?: Kingdom | 'unknown';
  /** GFF3 source column (default SignalP 6.0's 'SignalP-6.0', for tools that filter on it) */
  gffSource?: string;
}

export interface PredictResult {
  files: string[];
  sequences: number;
  notes: Note[];
}

export function currentVersions(): Record<string, string> {
  return { 'plm-workbench': require('../../../package.json').version, 'onnxruntime-node': require('onnxruntime-node/package.json').version, node: process.version };
}

/** Per-residue probabilities are written rounded to 6 decimals (type probabilities are not). */
const r6 = (x: number) => Math.round(x * 1e6) / 1e6;

const SS8_NAMES = [...SS8_STATES];
const SS3_NAMES = [...SS3_STATES];

export async function predictRun(runDir: string, inputFile: string, prefix: string, o: PredictOptions = {}): Promise<PredictResult> {
  const run = await openRun(runDir, o.modelDir);
  const unlabelled = unlabelledTask(run.record.task);
  if (unlabelled) throw new PredictInputError(`${runDir}: ${unlabelled}`);
  const d = await readDataFile(inputFile);
  const rejected = d.result.notes.filter((n) => n.kind === 'rejected');
  if (rejected.length) throw new PredictInputError(`${inputFile}: ${rejected.length} record(s) rejected (first: ${rejected[0].message}); fix them first`);
  const records = (d.result.records as { id: string; sequence: string }[]).map((r) => ({ id: r.id, sequence: r.sequence }));
  if (records.length === 0) throw new PredictInputError(`${inputFile}: no sequences`);
  const isSp = run.record.task.startsWith('sp');
  const notes: Note[] = [...d.result.notes];
  const files: string[] = [];
  const meta = {
    format: 'plmw-predictions', formatVersion: 1, createdAt: new Date().toISOString(),
    producer: currentVersions(), run: runSummary(runDir, run.record),
    input: { file: inputFile, format: d.format, detection: d.detection.reason, sequences: records.length },
  };
  const predictor = await Predictor.create(run.model, run.method, run.head, run.params, o.runtime);
  try {
    if (!isSp) {
      const ss3Only = /^ss-ss3/.test(run.record.task);
      const C = ss3Only ? 3 : 8;
      const probs = await predictor.predict(records.map((r) => r.sequence), o.batchSize);
      const header = ['id', 'position', 'residue', ...(ss3Only ? ['ss3'] : ['ss8', 'ss3']), ...(ss3Only ? [] : SS8_NAMES.map((s) => `p_${s}`)), ...SS3_NAMES.map((s) => `p3_${s}`)];
      const rows: CsvValue[][] = [];
      const perSeq = records.map((r, i) => {
        const n = r.sequence.length;
        const pred = ssArgmax(probs[i], n, C);
        const ss3 = ss3Only ? pred : Int32Array.from(pred, (c) => SS8_TO_SS3[c]);
        const residues = [];
        for (let k = 0; k < n; k++) {
          const raw = Array.from(probs[i].subarray((k + 1) * C, (k + 2) * C));
          const p = raw.map(r6);
          const p3 = ss3Only ? p : [0, 1, 2].map((t) => r6(raw.reduce((a, v, c) => a + (SS8_TO_SS3[c] === t ? v : 0), 0)));
          rows.push([r.id, k + 1, r.sequence[k], ...(ss3Only ? [] : [SS8_STATES[pred[k]]]), SS3_STATES[ss3[k]], ...(ss3Only ? [] : p), ...p3]);
          residues.push({ position: k + 1, residue: r.sequence[k], ...(ss3Only ? {} : { ss8: SS8_STATES[pred[k]], p8: p }), ss3: SS3_STATES[ss3[k]], p3 });
        }
        return { id: r.id, length: n, ...(ss3Only ? {} : { ss8: Array.from(pred, (c) => SS8_STATES[c]).join('') }), ss3: Array.from(ss3, (c) => SS3_STATES[c]).join(''), residues };
      });
      writeCsv(`${prefix}.residues.csv`, header, rows);
      files.push(`${prefix}.residues.csv`);
      writeJson(`${prefix}.json`, { ...meta, task: 'secondary-structure', states: ss3Only ? SS3_STATES : SS8_STATES, notes, sequences: perSeq });
      files.push(`${prefix}.json`);
      return { files, sequences: records.length, notes };
    }

    // signal peptides
    const usesKingdom = run.head.options.kingdom === true;
    const fromFile = d.format === 'signalp';
    const kingdoms: (Kingdom | null)[] = records.map((_, i) => {
      if (fromFile) return (d.result.records as SignalPRecord[])[i].kingdom;
      if (o.kingdom === undefined) {
        if (usesKingdom) throw new PredictInputError(`${inputFile}: this run reads the kingdom; pass --kingdom ${KINGDOMS.join('|')} (or 'unknown' to predict without it)`);
        return null;
      }
      return o.kingdom === 'unknown' ? null : o.kingdom;
    });
    const maxLength = Number(run.head.options.maxLength ?? SP_MAX_LENGTH);
    records.forEach((r) => {
      if (r.sequence.length > maxLength) notes.push({ kind: 'warning', message: `only the first ${maxLength} of ${r.sequence.length} residues are read (the model's input window)`, loc: { file: inputFile, record: r.id } });
    });
    const decoded = await predictor.predictSp(records.map((r) => r.sequence), kingdoms, o.batchSize);
    const stateNames = REGION_STATES.map((s) => s.name);
    const rows: CsvValue[][] = [];
    const summary: CsvValue[][] = [];
    const gff: Gff3Feature[] = [];
    const perSeq = records.map((r, i) => {
      const p = decoded[i];
      const T = stateNames.length;
      for (let k = 0; k < p.length; k++) rows.push([r.id, k + 1, r.sequence[k], p.letters[k], ...Array.from(p.marginals.subarray(k * T, (k + 1) * T), r6)]);
      const typeIdx = SP_TYPES.indexOf(p.type);
      summary.push([r.id, p.type, ...Array.from(p.typeProbs), p.cleavageSite]);
      const f = signalPeptideGff3(r.id, p.type, p.cleavageSite, p.typeProbs[typeIdx], o.gffSource ?? SIGNALP6_SOURCE);
      if (f) gff.push(f);
      return {
        id: r.id, length: r.sequence.length, predictedResidues: p.length, kingdom: kingdoms[i], prediction: p.type,
        typeProbabilities: Object.fromEntries(SP_TYPES.map((t, k) => [t, p.typeProbs[k]])), cleavageSite: p.cleavageSite,
        regions: p.letters, path: Array.from(p.path, (s) => stateNames[s]),
        marginals: Array.from({ length: p.length }, (_, k) => Array.from(p.marginals.subarray(k * T, (k + 1) * T), r6)),
      };
    });
    writeCsv(`${prefix}.residues.csv`, ['id', 'position', 'residue', 'region', ...stateNames], rows);
    writeCsv(`${prefix}.summary.csv`, ['id', 'prediction', ...SP_TYPES.map((t) => `p_${t}`), 'cs_position'], summary);
    writeGff3(`${prefix}.gff3`, gff);
    writeFasta(
      `${prefix}.mature.fasta`,
      records.map((r, i) => {
        const cs = decoded[i].cleavageSite;
        return cs === null
          ? { id: r.id, description: 'unchanged: no signal peptide predicted', sequence: r.sequence }
          : { id: r.id, description: `mature: predicted ${decoded[i].type} signal peptide 1-${cs} removed`, sequence: r.sequence.slice(cs) };
      }),
    );
    writeJson(`${prefix}.json`, { ...meta, task: 'signal-peptide', states: stateNames, types: SP_TYPES, kingdomInput: usesKingdom, notes, sequences: perSeq });
    files.push(`${prefix}.residues.csv`, `${prefix}.summary.csv`, `${prefix}.gff3`, `${prefix}.mature.fasta`, `${prefix}.json`);
    return { files, sequences: records.length, notes };
  } finally {
    await predictor.release();
  }
}

/** The directory of PREFIX (created by the caller when missing). */
export const prefixDir = (prefix: string) => path.dirname(path.resolve(prefix));
