// Annotated predictions of a trained run for every sequence of a file (`plmw predict`).
//
// Input: any FASTA (plain, UniProt or SignalP-style headers, mixed; ids kept whole; a kingdom
// named in a SignalP-style header is a hint: predict-input.ts), or a labelled data file (LIFT_SS,
// NetSurfP CSV, FLIP); only ids and sequences are used.
// Outputs, each written atomically (temporary name, then rename), PREFIX.:
//   residues.csv   id,position,residue, then
//                  SS8 run: ss8, ss3_from_ss8, ss3_argmax_p3, p_G..p_C (softmax), p3_H,p3_E,p3_C
//                  (sums of the SS8 probabilities). Two SS3 columns because they follow two
//                  rules: ss3_from_ss8 = the SS8 call mapped to 3 states ({G,H,I}->H, {B,E}->E,
//                  others->C; what Q3 scores), ss3_argmax_p3 = the most probable of p3_H/E/C.
//                  They differ where the 8-state winner's class is not the 3-state winner.
//                  SS3 run: ss3 (argmax), p3_H,p3_E,p3_C.
//                  SP run: region (letter of the region path, S L T P I M O), then the posterior
//                  marginal of each of the 37 states, columns named by SignalP 6.0's state names.
//                  Only the first 70 residues are predicted; later residues get no row.
//   summary.csv    SP only: id,kingdom,kingdom_source,prediction,p_NO_SP..p_PILIN (SignalP 6.0's
//                  prediction_results.txt columns; for EUKARYA the SP types are folded into SP as
//                  SignalP does), cs_position (empty without a cleavage site inside the window),
//                  cs_probability, flags (what is uncertain; decode.ts).
//   gff3           SP only: SignalP 6.0's output.gff3 layout (export/gff3.ts).
//   mature.fasta   SP only: each sequence with the predicted signal peptide removed; sequences
//                  without one are written unchanged; the header says which.
//   json           everything above per sequence plus the run's metadata and the versions.
// Per-residue probabilities are rounded to 6 decimals in the CSV and JSON files (SignalP writes
// 6 too); SP type probabilities are written in full.
import { createRequire } from 'node:module';
import path from 'node:path';
import { formatLocation, type Note } from '../data/errors.js';
import { SS3_STATES, SS8_STATES, SS8_TO_SS3 } from '../data/labels-ss.js';
import { KINGDOMS, type Kingdom, SP_TYPES } from '../data/signalp.js';
import { writeCsv, type CsvValue } from '../export/csv.js';
import { writeFasta } from '../export/fasta.js';
import { type Gff3Feature, SIGNALP6_SOURCE, signalPeptideGff3, writeGff3 } from '../export/gff3.js';
import { writeJson } from '../export/json.js';
import type { RuntimeOptions } from '../runtime/index.js';
import { Predictor, openRun, unlabelledTask } from '../train/predictor.js';
import { ssArgmax, runSummary } from './evaluate.js';
import { readPredictInput } from './predict-input.js';
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
  /** SP runs: use the kingdom a SignalP-style header names (default true); false = `kingdom` for all */
  headerKingdoms?: boolean;
  /** the input's name in notes and messages (default the file path) */
  inputName?: string;
  /** progress: sequences predicted so far */
  onProgress?: (p: { phase: string; done: number; total: number }) => void;
  signal?: AbortSignal;
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
  const name = o.inputName ?? inputFile;
  const report = (phase: string, done: number, total: number) => o.onProgress?.({ phase, done, total });
  report('reading the input', 0, 1);
  const d = await readPredictInput(inputFile, name);
  const rejected = d.notes.filter((n) => n.kind === 'rejected');
  if (rejected.length) {
    const list = rejected.slice(0, 3).map((n) => `${formatLocation(n.loc)}: ${n.message}`).join('; ');
    throw new PredictInputError(`${name}: ${rejected.length} record(s) rejected, fix them first: ${list}${rejected.length > 3 ? `; and ${rejected.length - 3} more` : ''}`);
  }
  const records = d.records;
  if (records.length === 0) throw new PredictInputError(`${name}: no sequences`);
  const run = await openRun(runDir, o.modelDir);
  const unlabelled = unlabelledTask(run.record.task);
  if (unlabelled) throw new PredictInputError(`${runDir}: ${unlabelled}`);
  const isSp = run.record.task.startsWith('sp');
  const notes: Note[] = [...d.notes];
  const files: string[] = [];
  const meta = {
    format: 'plmw-predictions', formatVersion: 1, createdAt: new Date().toISOString(),
    producer: currentVersions(), run: runSummary(runDir, run.record),
    input: { file: name, format: d.format, detection: d.detection.reason, sequences: records.length },
  };
  const total = records.length;
  const batches = { signal: o.signal, onBatch: (done: number) => report('predicting', done, total), onDecoded: (done: number) => report('decoding regions and cleavage sites', done, total) };
  report('loading the model', 0, total);
  const predictor = await Predictor.create(run.model, run.method, run.head, run.params, o.runtime);
  try {
    report('predicting', 0, total);
    if (!isSp) {
      const ss3Only = /^ss-ss3/.test(run.record.task);
      const C = ss3Only ? 3 : 8;
      const probs = await predictor.predict(records.map((r) => r.sequence), o.batchSize, undefined, batches);
      report('writing files', total, total);
      const header = ['id', 'position', 'residue', ...(ss3Only ? ['ss3'] : ['ss8', 'ss3_from_ss8', 'ss3_argmax_p3']), ...(ss3Only ? [] : SS8_NAMES.map((s) => `p_${s}`)), ...SS3_NAMES.map((s) => `p3_${s}`)];
      const rows: CsvValue[][] = [];
      const perSeq = records.map((r, i) => {
        const n = r.sequence.length;
        const pred = ssArgmax(probs[i], n, C);
        const ss3 = ss3Only ? pred : Int32Array.from(pred, (c) => SS8_TO_SS3[c]);
        const argmax3 = new Int32Array(n);
        const residues = [];
        for (let k = 0; k < n; k++) {
          const raw = Array.from(probs[i].subarray((k + 1) * C, (k + 2) * C));
          const p = raw.map(r6);
          const p3raw = ss3Only ? raw : [0, 1, 2].map((t) => raw.reduce((a, v, c) => a + (SS8_TO_SS3[c] === t ? v : 0), 0));
          const p3 = ss3Only ? p : p3raw.map(r6);
          argmax3[k] = p3raw.indexOf(Math.max(...p3raw));
          const calls = ss3Only ? [SS3_STATES[ss3[k]]] : [SS8_STATES[pred[k]], SS3_STATES[ss3[k]], SS3_STATES[argmax3[k]]];
          rows.push([r.id, k + 1, r.sequence[k], ...calls, ...(ss3Only ? [] : p), ...p3]);
          residues.push({ position: k + 1, residue: r.sequence[k], ...(ss3Only ? {} : { ss8: SS8_STATES[pred[k]], p8: p }), ss3: SS3_STATES[ss3[k]], p3 });
        }
        const letters = (a: Int32Array, states: string) => Array.from(a, (c) => states[c]).join('');
        return {
          id: r.id, length: n, ...(ss3Only ? {} : { ss8: letters(pred, SS8_STATES), ss3Argmax: letters(argmax3, SS3_STATES) }), ss3: letters(ss3, SS3_STATES),
          ss3Rule: ss3Only ? 'argmax of p3' : 'SS8 call mapped to 3 states', residues,
        };
      });
      writeCsv(`${prefix}.residues.csv`, header, rows);
      files.push(`${prefix}.residues.csv`);
      writeJson(`${prefix}.json`, { ...meta, task: 'secondary-structure', states: ss3Only ? SS3_STATES : SS8_STATES, notes, sequences: perSeq });
      files.push(`${prefix}.json`);
      return { files, sequences: records.length, notes };
    }

    // signal peptides: a kingdom per record from its header (a hint) or the one chosen
    const usesKingdom = run.head.options.kingdom === true;
    const useHeaders = o.headerKingdoms ?? true;
    const chosen: Kingdom | null = o.kingdom === undefined || o.kingdom === 'unknown' ? null : o.kingdom;
    const source: ('header' | 'chosen' | 'none')[] = records.map((r) => (useHeaders && r.kingdomHint ? 'header' : o.kingdom !== undefined && o.kingdom !== 'unknown' ? 'chosen' : 'none'));
    const kingdoms: (Kingdom | null)[] = records.map((r, i) => (source[i] === 'header' ? r.kingdomHint : chosen));
    const missing = records.filter((_, i) => source[i] === 'none').length;
    if (usesKingdom && o.kingdom === undefined && missing > 0) {
      throw new PredictInputError(`${name}: this run reads the kingdom and ${missing} of ${records.length} record(s) name none in a SignalP-style header; pass --kingdom ${KINGDOMS.join('|')} (or 'unknown' to predict without it)`);
    }
    const fromHeaders = source.filter((s) => s === 'header').length;
    if (fromHeaders && o.kingdom !== undefined) {
      const differ = records.filter((r, i) => source[i] === 'header' && r.kingdomHint !== chosen).length;
      notes.push({ kind: 'warning', message: `${fromHeaders} record(s) name their kingdom in a SignalP-style header; that kingdom was used for them${differ ? ` (${differ} differ from the chosen ${o.kingdom})` : ''}; the chosen one for the other ${records.length - fromHeaders}`, loc: { file: name } });
    }
    const maxLength = Number(run.head.options.maxLength ?? SP_MAX_LENGTH);
    records.forEach((r) => {
      if (r.sequence.length > maxLength) notes.push({ kind: 'warning', message: `only the first ${maxLength} of ${r.sequence.length} residues are read (the model's input window)`, loc: { file: name, record: r.id } });
    });
    const decoded = await predictor.predictSp(records.map((r) => r.sequence), kingdoms, o.batchSize, batches);
    report('writing files', total, total);
    const stateNames = REGION_STATES.map((s) => s.name);
    const rows: CsvValue[][] = [];
    const summary: CsvValue[][] = [];
    const gff: Gff3Feature[] = [];
    const perSeq = records.map((r, i) => {
      const p = decoded[i];
      const T = stateNames.length;
      for (let k = 0; k < p.length; k++) rows.push([r.id, k + 1, r.sequence[k], p.letters[k], ...Array.from(p.marginals.subarray(k * T, (k + 1) * T), r6)]);
      const typeIdx = SP_TYPES.indexOf(p.type);
      summary.push([r.id, kingdoms[i] ?? '', source[i], p.type, ...Array.from(p.typeProbs), p.cleavageSite, p.cleavageSiteProbability, p.flags.map((f) => f.code).join(' ')]);
      const f = signalPeptideGff3(r.id, p.type, p.cleavageSite, p.typeProbs[typeIdx], o.gffSource ?? SIGNALP6_SOURCE);
      if (f) gff.push(f);
      return {
        id: r.id, sequence: r.sequence, length: r.sequence.length, predictedResidues: p.length, kingdom: kingdoms[i], kingdomSource: source[i], prediction: p.type,
        typeProbabilities: Object.fromEntries(SP_TYPES.map((t, k) => [t, p.typeProbs[k]])), cleavageSite: p.cleavageSite,
        cleavageSiteProbability: p.cleavageSiteProbability, csProbabilities: Array.from(p.csProbs, r6), flags: p.flags, bestPathType: p.bestPathType,
        regions: p.letters, path: Array.from(p.path, (s) => stateNames[s]),
        marginals: Array.from({ length: p.length }, (_, k) => Array.from(p.marginals.subarray(k * T, (k + 1) * T), r6)),
      };
    });
    writeCsv(`${prefix}.residues.csv`, ['id', 'position', 'residue', 'region', ...stateNames], rows);
    writeCsv(`${prefix}.summary.csv`, ['id', 'kingdom', 'kingdom_source', 'prediction', ...SP_TYPES.map((t) => `p_${t}`), 'cs_position', 'cs_probability', 'flags'], summary);
    writeGff3(`${prefix}.gff3`, gff);
    writeFasta(
      `${prefix}.mature.fasta`,
      records.map((r, i) => {
        const cs = decoded[i].cleavageSite;
        return cs === null
          ? { id: r.id, description: decoded[i].type === 'NO_SP' ? 'unchanged: no signal peptide predicted' : `unchanged: ${decoded[i].type} predicted, but no cleavage site inside the ${decoded[i].length} residues read`, sequence: r.sequence }
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
