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
//   counts.json    how many sequences got each SP type, per kingdom (SP), or how many residues
//                  each state (SS): what a summary over many files adds up.
// Per-residue probabilities are rounded to 6 decimals in the CSV and JSON files (SignalP writes
// 6 too); SP type probabilities are written in full.
//
// Streaming: the input is read in groups of 16 batches of consecutive records (shards/input.ts),
// each group sorted by length into batches, predicted, and appended to every file before the next
// group is read, so memory is bounded by a group whatever the file's size. Nothing in the files
// depends on when or where they were made (no time stamps; paths are absolute), so that the same
// input gives the same bytes, and `--shard I/N` runs (whole groups, shards/shard.ts) joined by
// plmw merge give the bytes of one unsharded run.
import { createRequire } from 'node:module';
import path from 'node:path';
import { type Note, formatNote } from '../data/errors.js';
import { SS3_STATES, SS8_STATES, SS8_TO_SS3 } from '../data/labels-ss.js';
import { KINGDOMS, type Kingdom, SP_TYPES } from '../data/signalp.js';
import { csvLine, type CsvValue } from '../export/csv.js';
import { formatFasta } from '../export/fasta.js';
import { GFF3_HEADER, SIGNALP6_SOURCE, formatGff3Line, signalPeptideGff3 } from '../export/gff3.js';
import { formatJson } from '../export/json.js';
import { JsonStreamWriter, TextFileWriter } from '../export/stream.js';
import type { RuntimeOptions } from '../runtime/index.js';
import { type InputRecord, openInput } from '../shards/input.js';
import { type RecordRange, type ShardSpec, formatShard, shardInfo } from '../shards/shard.js';
import { Predictor, openRun } from '../train/predictor.js';
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
  /** predict only this part of the input (shards/shard.ts) */
  shard?: ShardSpec;
  /** each note (changed, warning) as it is made; the JSON file lists them all */
  onNote?: (n: Note) => void;
  onProgress?: (p: { done: number; total: number }) => void;
  signal?: AbortSignal;
}

export interface PredictResult {
  files: string[];
  sequences: number;
  /** notes written (each also went to onNote) */
  notes: number;
  provider: string;
  /** records in the input file, and the ones this run predicted */
  total: number;
  range: RecordRange;
  /** where the time went: reading the run and model, building the graph and session, the rest */
  seconds: { load: number; build: number; predict: number };
}

export type PredictionTask = 'secondary-structure' | 'signal-peptide';

/** Records are read in groups of this many batches (the unit of sorting by length and of shards). */
export const GROUP_BATCHES = 16;
export const DEFAULT_BATCH = 16;

export function currentVersions(): Record<string, string> {
  return { 'plm-workbench': require('../../../package.json').version, 'onnxruntime-node': require('onnxruntime-node/package.json').version, node: process.version };
}

/** The files a prediction writes at PREFIX, in the order they are listed (and merged). */
export function predictionFiles(prefix: string, task: PredictionTask): { residues: string; summary?: string; gff3?: string; mature?: string; counts: string; json: string } {
  return task === 'signal-peptide'
    ? { residues: `${prefix}.residues.csv`, summary: `${prefix}.summary.csv`, gff3: `${prefix}.gff3`, mature: `${prefix}.mature.fasta`, counts: `${prefix}.counts.json`, json: `${prefix}.json` }
    : { residues: `${prefix}.residues.csv`, counts: `${prefix}.counts.json`, json: `${prefix}.json` };
}

/** Per-residue probabilities are written rounded to 6 decimals (type probabilities are not). */
const r6 = (x: number) => Math.round(x * 1e6) / 1e6;

const SS8_NAMES = [...SS8_STATES];
const SS3_NAMES = [...SS3_STATES];
const STATE_NAMES = REGION_STATES.map((s) => s.name);

/** What counts.json holds; files of one run add up (merge). */
export type PredictionCounts =
  | { format: 'plmw-prediction-counts'; formatVersion: 1; task: 'signal-peptide'; sequences: number; types: Record<string, Record<string, number>> }
  | { format: 'plmw-prediction-counts'; formatVersion: 1; task: 'secondary-structure'; sequences: number; residues: number; ss8?: Record<string, number>; ss3: Record<string, number> };

const zeros = (keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, 0]));

export function emptyCounts(task: PredictionTask, ss3Only = false): PredictionCounts {
  if (task === 'signal-peptide') {
    return { format: 'plmw-prediction-counts', formatVersion: 1, task, sequences: 0, types: Object.fromEntries([...KINGDOMS, 'unknown'].map((k) => [k, zeros(SP_TYPES)])) };
  }
  return { format: 'plmw-prediction-counts', formatVersion: 1, task, sequences: 0, residues: 0, ...(ss3Only ? {} : { ss8: zeros(SS8_NAMES) }), ss3: zeros(SS3_NAMES) };
}

/** Adds `b` into `a`: every number at the same place (both from emptyCounts of one task). */
export function addCounts<T>(a: T, b: T, where = 'counts'): T {
  for (const [k, v] of Object.entries(b as Record<string, unknown>)) {
    const cur = (a as Record<string, unknown>)[k];
    if (k === 'formatVersion' || typeof v === 'string') {
      if (cur !== v) throw new Error(`${where}: '${k}' is ${JSON.stringify(cur)} in one file and ${JSON.stringify(v)} in another`);
    } else if (typeof v === 'number' && typeof cur === 'number') (a as Record<string, number>)[k] = cur + v;
    else if (v && typeof v === 'object' && cur && typeof cur === 'object') addCounts(cur, v, `${where}.${k}`);
    else throw new Error(`${where}: '${k}' has a different shape in two files`);
  }
  return a;
}

/** The files of one prediction being written: all published together by commit(), or none. */
class PredictionWriter {
  readonly paths: ReturnType<typeof predictionFiles>;
  private readonly out: Partial<Record<'residues' | 'summary' | 'gff3' | 'mature' | 'json', TextFileWriter>> = {};
  readonly json: JsonStreamWriter;

  constructor(prefix: string, task: PredictionTask, residueHeader: readonly string[], head: Record<string, unknown>) {
    this.paths = predictionFiles(prefix, task);
    try {
      this.out.residues = TextFileWriter.create(this.paths.residues);
      this.out.residues.write(csvLine(residueHeader));
      if (task === 'signal-peptide') {
        this.out.summary = TextFileWriter.create(this.paths.summary!);
        this.out.summary.write(csvLine(['id', 'prediction', ...SP_TYPES.map((t) => `p_${t}`), 'cs_position']));
        this.out.gff3 = TextFileWriter.create(this.paths.gff3!);
        this.out.gff3.write(`${GFF3_HEADER}\n`);
        this.out.mature = TextFileWriter.create(this.paths.mature!);
      }
      this.out.json = TextFileWriter.create(this.paths.json);
      this.json = new JsonStreamWriter(this.out.json, head, ['sequences', 'notes']);
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  write(file: 'residues' | 'summary' | 'gff3' | 'mature', text: string): void {
    this.out[file]!.write(text);
  }

  commit(counts: PredictionCounts): string[] {
    this.json.finish();
    const c = TextFileWriter.create(this.paths.counts);
    c.write(formatJson(counts));
    for (const k of ['residues', 'summary', 'gff3', 'mature'] as const) this.out[k]?.commit();
    c.commit();
    this.out.json!.commit();
    return Object.values(this.paths);
  }

  abort(): void {
    this.json?.abort();
    for (const w of Object.values(this.out)) w.abort();
  }
}

export async function predictRun(runDir: string, inputFile: string, prefix: string, o: PredictOptions = {}): Promise<PredictResult> {
  const t0 = performance.now();
  const run = openRun(runDir, o.modelDir);
  const batchSize = o.batchSize ?? DEFAULT_BATCH;
  const input = await openInput(inputFile, { groupSize: batchSize * GROUP_BATCHES, shard: o.shard });
  const { range } = input;
  const where = o.shard ? ` among records ${range.first + 1}-${range.end} (shard ${formatShard(o.shard)})` : '';
  if (input.rejected.count) throw new PredictInputError(`${inputFile}: ${input.rejected.count} record(s) rejected${where} (first: ${formatNote(input.rejected.first!)}); fix them first`);
  if (input.total === 0) throw new PredictInputError(`${inputFile}: no sequences`);
  const isSp = run.record.task.startsWith('sp');
  const task: PredictionTask = isSp ? 'signal-peptide' : 'secondary-structure';
  const ss3Only = /^ss-ss3/.test(run.record.task);
  const usesKingdom = run.head.options.kingdom === true;
  const fromFile = input.format === 'signalp';
  if (isSp && !fromFile && usesKingdom && o.kingdom === undefined) {
    throw new PredictInputError(`${inputFile}: this run reads the kingdom; pass --kingdom ${KINGDOMS.join('|')} (or 'unknown' to predict without it)`);
  }
  const kingdomOf = (r: InputRecord): Kingdom | null => (fromFile ? r.kingdom : o.kingdom === undefined || o.kingdom === 'unknown' ? null : o.kingdom);
  const maxLength = Number(run.head.options.maxLength ?? SP_MAX_LENGTH);

  const t1 = performance.now();
  const predictor = await Predictor.create(run.model, run.method, run.head, run.params, o.runtime);
  const t2 = performance.now();
  const head = {
    format: 'plmw-predictions', formatVersion: 2, producer: currentVersions(), run: runSummary(path.resolve(runDir), run.record),
    provider: predictor.provider, batchSize,
    input: { file: path.resolve(inputFile), format: input.format, detection: input.detection.reason, records: input.total },
    shard: o.shard ? shardInfo(o.shard, input.groupSize, input.total, range) : undefined,
    task, states: isSp ? STATE_NAMES : ss3Only ? SS3_STATES : SS8_STATES,
    ...(isSp ? { types: SP_TYPES, kingdomInput: usesKingdom } : {}),
  };
  const residueHeader = isSp
    ? ['id', 'position', 'residue', 'region', ...STATE_NAMES]
    : ['id', 'position', 'residue', ...(ss3Only ? ['ss3'] : ['ss8', 'ss3']), ...(ss3Only ? [] : SS8_NAMES.map((s) => `p_${s}`)), ...SS3_NAMES.map((s) => `p3_${s}`)];
  const counts = emptyCounts(task, ss3Only);
  let out: PredictionWriter | undefined;
  let sequences = 0;
  let notes = 0;
  const total = range.end - range.first;
  try {
    out = new PredictionWriter(prefix, task, residueHeader, head);
    o.onProgress?.({ done: 0, total });
    for await (const group of input.groups()) {
      if (o.signal?.aborted) throw new DOMException('prediction cancelled', 'AbortError');
      const groupNotes = [...group.notes];
      if (isSp) await predictSpGroup(predictor, group.records, out, counts, groupNotes, { kingdomOf, maxLength, batchSize, gffSource: o.gffSource, file: inputFile });
      else await predictSsGroup(predictor, group.records, out, counts, ss3Only, batchSize);
      for (const n of groupNotes) {
        out.json.later('notes', n);
        o.onNote?.(n);
      }
      sequences += group.records.length;
      notes += groupNotes.length;
      o.onProgress?.({ done: sequences, total });
    }
    if (o.signal?.aborted) throw new DOMException('prediction cancelled', 'AbortError');
    counts.sequences = sequences;
    const files = out.commit(counts);
    const seconds = { load: (t1 - t0) / 1000, build: (t2 - t1) / 1000, predict: (performance.now() - t2) / 1000 };
    return { files, sequences, notes, provider: predictor.provider, total: input.total, range, seconds };
  } catch (e) {
    out?.abort();
    throw e;
  } finally {
    await predictor.release();
  }
}

async function predictSsGroup(predictor: Predictor, records: InputRecord[], out: PredictionWriter, counts: PredictionCounts, ss3Only: boolean, batchSize: number): Promise<void> {
  if (records.length === 0) return;
  if (counts.task !== 'secondary-structure') throw new Error('counts of another task');
  const C = ss3Only ? 3 : 8;
  const probs = await predictor.predict(records.map((r) => r.sequence), batchSize);
  let rows = '';
  records.forEach((r, i) => {
    const n = r.sequence.length;
    const pred = ssArgmax(probs[i], n, C);
    const ss3 = ss3Only ? pred : Int32Array.from(pred, (c) => SS8_TO_SS3[c]);
    const residues = [];
    for (let k = 0; k < n; k++) {
      const raw = Array.from(probs[i].subarray((k + 1) * C, (k + 2) * C));
      const p = raw.map(r6);
      const p3 = ss3Only ? p : [0, 1, 2].map((t) => r6(raw.reduce((a, v, c) => a + (SS8_TO_SS3[c] === t ? v : 0), 0)));
      rows += csvLine([r.id, k + 1, r.sequence[k], ...(ss3Only ? [] : [SS8_STATES[pred[k]]]), SS3_STATES[ss3[k]], ...(ss3Only ? [] : p), ...p3]);
      residues.push({ position: k + 1, residue: r.sequence[k], ...(ss3Only ? {} : { ss8: SS8_STATES[pred[k]], p8: p }), ss3: SS3_STATES[ss3[k]], p3 });
      if (counts.ss8) counts.ss8[SS8_STATES[pred[k]]]++;
      counts.ss3[SS3_STATES[ss3[k]]]++;
    }
    counts.residues += n;
    out.json.push({ id: r.id, length: n, ...(ss3Only ? {} : { ss8: Array.from(pred, (c) => SS8_STATES[c]).join('') }), ss3: Array.from(ss3, (c) => SS3_STATES[c]).join(''), residues });
  });
  out.write('residues', rows);
}

interface SpGroupOptions {
  kingdomOf: (r: InputRecord) => Kingdom | null;
  maxLength: number;
  batchSize: number;
  gffSource?: string;
  file: string;
}

async function predictSpGroup(predictor: Predictor, records: InputRecord[], out: PredictionWriter, counts: PredictionCounts, notes: Note[], o: SpGroupOptions): Promise<void> {
  if (records.length === 0) return;
  if (counts.task !== 'signal-peptide') throw new Error('counts of another task');
  const kingdoms = records.map(o.kingdomOf);
  for (const r of records) {
    if (r.sequence.length > o.maxLength) notes.push({ kind: 'warning', message: `only the first ${o.maxLength} of ${r.sequence.length} residues are read (the model's input window)`, loc: { file: o.file, record: r.id } });
  }
  const decoded = await predictor.predictSp(records.map((r) => r.sequence), kingdoms, o.batchSize);
  const T = STATE_NAMES.length;
  let rows = '';
  let summary = '';
  let gff = '';
  records.forEach((r, i) => {
    const p = decoded[i];
    for (let k = 0; k < p.length; k++) rows += csvLine([r.id, k + 1, r.sequence[k], p.letters[k], ...Array.from(p.marginals.subarray(k * T, (k + 1) * T), r6)]);
    const typeIdx = SP_TYPES.indexOf(p.type);
    summary += csvLine([r.id, p.type, ...Array.from(p.typeProbs), p.cleavageSite] as CsvValue[]);
    const f = signalPeptideGff3(r.id, p.type, p.cleavageSite, p.typeProbs[typeIdx], o.gffSource ?? SIGNALP6_SOURCE);
    if (f) gff += `${formatGff3Line(f)}\n`;
    counts.types[kingdoms[i] ?? 'unknown'][p.type]++;
    out.json.push({
      id: r.id, length: r.sequence.length, predictedResidues: p.length, kingdom: kingdoms[i], prediction: p.type,
      typeProbabilities: Object.fromEntries(SP_TYPES.map((t, k) => [t, p.typeProbs[k]])), cleavageSite: p.cleavageSite,
      regions: p.letters, path: Array.from(p.path, (s) => STATE_NAMES[s]),
      marginals: Array.from({ length: p.length }, (_, k) => Array.from(p.marginals.subarray(k * T, (k + 1) * T), r6)),
    });
  });
  out.write('residues', rows);
  out.write('summary', summary);
  out.write('gff3', gff);
  out.write(
    'mature',
    formatFasta(
      records.map((r, i) => {
        const cs = decoded[i].cleavageSite;
        return cs === null
          ? { id: r.id, description: 'unchanged: no signal peptide predicted', sequence: r.sequence }
          : { id: r.id, description: `mature: predicted ${decoded[i].type} signal peptide 1-${cs} removed`, sequence: r.sequence.slice(cs) };
      }),
    ),
  );
}

/** The directory of PREFIX (created by the caller when missing). */
export const prefixDir = (prefix: string) => path.dirname(path.resolve(prefix));
