// Annotated predictions of a trained run for every sequence of a file (`plmw predict`).
//
// Input: any FASTA (plain, UniProt or SignalP-style headers, mixed; ids kept whole; a kingdom
// named in a SignalP-style header is a hint: predict-input.ts), or a labelled data file (LIFT_SS,
// NetSurfP CSV, FLIP); only ids and sequences are used.
// Outputs, published together when the run completes (atomic.ts; nothing at PREFIX otherwise), PREFIX.:
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
//   json           everything above per sequence plus the run's metadata, the provider and the
//                  versions, then the notes.
//   counts.json    how many sequences got each SP type, per kingdom (SP), or how many residues
//                  each state (SS; SS3 by the ss3 column's rule): what a summary over many files
//                  adds up.
// Per-residue probabilities are rounded to 6 decimals in the CSV and JSON files (SignalP writes
// 6 too); SP type probabilities are written in full.
//
// Streaming: the input is read in groups of 16 batches of consecutive records (shards/input.ts),
// each group sorted by length into batches, predicted, and appended to every file before the next
// group is read, so memory is bounded by a group whatever the file's size. What depends on the
// whole file (the record count, the kingdoms that headers name, whether a kingdom is missing) is
// counted in a first reading. Nothing in the files depends on when or where they were made (no
// time stamps; paths are absolute), so that the same input gives the same bytes, and
// `--shard I/N` runs (whole groups, shards/shard.ts) joined by plmw merge give the bytes of one
// unsharded run.
import { createRequire } from 'node:module';
import path from 'node:path';
import { formatLocation, type Note } from '../data/errors.js';
import { SS3_STATES, SS8_STATES, SS8_TO_SS3 } from '../data/labels-ss.js';
import { KINGDOMS, type Kingdom, SP_TYPES } from '../data/signalp.js';
import { csvLine, type CsvValue } from '../export/csv.js';
import { formatFasta } from '../export/fasta.js';
import { GFF3_HEADER, SIGNALP6_SOURCE, formatGff3Line, signalPeptideGff3 } from '../export/gff3.js';
import { formatJson } from '../export/json.js';
import { JsonStreamWriter, TextFileWriter } from '../export/stream.js';
import type { RuntimeOptions } from '../runtime/index.js';
import { type InputRecord, type RecordInput, openInput } from '../shards/input.js';
import { type RecordRange, type ShardSpec, formatShard, shardInfo } from '../shards/shard.js';
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
  /** SP runs: use the kingdom a SignalP-style header names (default true); false = `kingdom` for all */
  headerKingdoms?: boolean;
  /** the input's name in notes and messages (default the file's absolute path) */
  inputName?: string;
  /** progress: what is being done, sequences so far of this run's */
  onProgress?: (p: { phase: string; done: number; total: number }) => void;
  signal?: AbortSignal;
  /** GFF3 source column (default SignalP 6.0's 'SignalP-6.0', for tools that filter on it) */
  gffSource?: string;
  /** predict only this part of the input (shards/shard.ts) */
  shard?: ShardSpec;
  /** each note (changed, warning) as it is made; the JSON file lists them all */
  onNote?: (n: Note) => void;
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
const SUMMARY_HEADER = ['id', 'kingdom', 'kingdom_source', 'prediction', ...SP_TYPES.map((t) => `p_${t}`), 'cs_position', 'cs_probability', 'flags'];

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
        this.out.summary.write(csvLine(SUMMARY_HEADER));
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

/** How the kingdom of each record is chosen (SP runs), from the whole file's kingdom hints. */
interface KingdomPlan {
  usesKingdom: boolean;
  useHeaders: boolean;
  chosen: Kingdom | null;
  /** the note about header kingdoms, for the file's first group (null when there is none) */
  note: Note | null;
}

function kingdomPlan(input: RecordInput, name: string, usesKingdom: boolean, o: PredictOptions): KingdomPlan {
  const useHeaders = o.headerKingdoms ?? true;
  const chosen: Kingdom | null = o.kingdom === undefined || o.kingdom === 'unknown' ? null : o.kingdom;
  const { records, withHint, byKingdom } = input.hints;
  const fromHeaders = useHeaders ? withHint : 0;
  const missing = o.kingdom !== undefined && o.kingdom !== 'unknown' ? 0 : records - fromHeaders;
  if (usesKingdom && o.kingdom === undefined && missing > 0) {
    throw new PredictInputError(`${name}: this run reads the kingdom and ${missing} of ${records} record(s) name none in a SignalP-style header; pass --kingdom ${KINGDOMS.join('|')} (or 'unknown' to predict without it)`);
  }
  let note: Note | null = null;
  if (fromHeaders && o.kingdom !== undefined) {
    const differ = fromHeaders - (chosen ? byKingdom[chosen] ?? 0 : 0);
    note = { kind: 'warning', message: `${fromHeaders} record(s) name their kingdom in a SignalP-style header; that kingdom was used for them${differ ? ` (${differ} differ from the chosen ${o.kingdom})` : ''}; the chosen one for the other ${records - fromHeaders}`, loc: { file: name } };
  }
  return { usesKingdom, useHeaders, chosen, note };
}

export async function predictRun(runDir: string, inputFile: string, prefix: string, o: PredictOptions = {}): Promise<PredictResult> {
  const t0 = performance.now();
  const name = o.inputName ?? path.resolve(inputFile);
  const report = (phase: string, done: number, total: number) => o.onProgress?.({ phase, done, total });
  report('reading the input', 0, 1);
  const batchSize = o.batchSize ?? DEFAULT_BATCH;
  const input = await openInput(inputFile, { groupSize: batchSize * GROUP_BATCHES, shard: o.shard, name });
  const { range } = input;
  if (input.rejected.count) {
    const where = o.shard ? ` among records ${range.first + 1}-${range.end} (shard ${formatShard(o.shard)})` : '';
    const list = input.rejected.first.map((n) => `${formatLocation(n.loc)}: ${n.message}`).join('; ');
    const more = input.rejected.count > input.rejected.first.length ? `; and ${input.rejected.count - input.rejected.first.length} more` : '';
    throw new PredictInputError(`${name}: ${input.rejected.count} record(s) rejected${where}, fix them first: ${list}${more}`);
  }
  if (input.total === 0 || input.hints.records === 0) throw new PredictInputError(`${name}: no sequences`);
  const run = await openRun(runDir, o.modelDir);
  const unlabelled = unlabelledTask(run.record.task);
  if (unlabelled) throw new PredictInputError(`${runDir}: ${unlabelled}`);
  const isSp = run.record.task.startsWith('sp');
  const task: PredictionTask = isSp ? 'signal-peptide' : 'secondary-structure';
  const ss3Only = /^ss-ss3/.test(run.record.task);
  const usesKingdom = run.head.options.kingdom === true;
  const plan = isSp ? kingdomPlan(input, name, usesKingdom, o) : null;
  const maxLength = Number(run.head.options.maxLength ?? SP_MAX_LENGTH);

  const total = range.end - range.first;
  report('loading the model', 0, total);
  const t1 = performance.now();
  const predictor = await Predictor.create(run.model, run.method, run.head, run.params, o.runtime);
  const t2 = performance.now();
  const head = {
    format: 'plmw-predictions', formatVersion: 2, producer: currentVersions(), run: runSummary(path.resolve(runDir), run.record),
    provider: predictor.provider, batchSize,
    input: { file: name, format: input.format, detection: input.detection.reason, records: input.total },
    shard: o.shard ? shardInfo(o.shard, input.groupSize, input.total, range) : undefined,
    task, states: isSp ? STATE_NAMES : ss3Only ? SS3_STATES : SS8_STATES,
    ...(isSp ? { types: SP_TYPES, kingdomInput: usesKingdom } : {}),
  };
  const residueHeader = isSp
    ? ['id', 'position', 'residue', 'region', ...STATE_NAMES]
    : ['id', 'position', 'residue', ...(ss3Only ? ['ss3'] : ['ss8', 'ss3_from_ss8', 'ss3_argmax_p3']), ...(ss3Only ? [] : SS8_NAMES.map((s) => `p_${s}`)), ...SS3_NAMES.map((s) => `p3_${s}`)];
  const counts = emptyCounts(task, ss3Only);
  let out: PredictionWriter | undefined;
  let sequences = 0;
  let notes = 0;
  try {
    out = new PredictionWriter(prefix, task, residueHeader, head);
    report('predicting', 0, total);
    for await (const group of input.groups()) {
      if (o.signal?.aborted) throw new DOMException('prediction cancelled', 'AbortError');
      const groupNotes = [...group.notes];
      // the note about header kingdoms is about the whole file: it goes with its first group
      if (plan?.note && group.group === 0) groupNotes.push(plan.note);
      const batches = {
        signal: o.signal,
        onBatch: (done: number) => report('predicting', sequences + done, total),
        onDecoded: (done: number) => report('decoding regions and cleavage sites', sequences + done, total),
      };
      if (plan) await predictSpGroup(predictor, group.records, out, counts, groupNotes, { plan, o, name, maxLength, batchSize, batches });
      else await predictSsGroup(predictor, group.records, out, counts, ss3Only, batchSize, batches);
      for (const n of groupNotes) {
        out.json.later('notes', n);
        o.onNote?.(n);
      }
      sequences += group.records.length;
      notes += groupNotes.length;
    }
    if (o.signal?.aborted) throw new DOMException('prediction cancelled', 'AbortError');
    report('writing files', total, total);
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

type Batches = Parameters<Predictor['predict']>[3];

async function predictSsGroup(predictor: Predictor, records: InputRecord[], out: PredictionWriter, counts: PredictionCounts, ss3Only: boolean, batchSize: number, batches: Batches): Promise<void> {
  if (records.length === 0) return;
  if (counts.task !== 'secondary-structure') throw new Error('counts of another task');
  const C = ss3Only ? 3 : 8;
  const probs = await predictor.predict(records.map((r) => r.sequence), batchSize, undefined, batches);
  let rows = '';
  records.forEach((r, i) => {
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
      rows += csvLine([r.id, k + 1, r.sequence[k], ...calls, ...(ss3Only ? [] : p), ...p3]);
      residues.push({ position: k + 1, residue: r.sequence[k], ...(ss3Only ? {} : { ss8: SS8_STATES[pred[k]], p8: p }), ss3: SS3_STATES[ss3[k]], p3 });
      if (counts.ss8) counts.ss8[SS8_STATES[pred[k]]]++;
      counts.ss3[SS3_STATES[ss3[k]]]++;
    }
    counts.residues += n;
    const letters = (a: Int32Array, states: string) => Array.from(a, (c) => states[c]).join('');
    out.json.push({
      id: r.id, length: n, ...(ss3Only ? {} : { ss8: letters(pred, SS8_STATES), ss3Argmax: letters(argmax3, SS3_STATES) }), ss3: letters(ss3, SS3_STATES),
      ss3Rule: ss3Only ? 'argmax of p3' : 'SS8 call mapped to 3 states', residues,
    });
  });
  out.write('residues', rows);
}

interface SpGroupOptions {
  plan: KingdomPlan;
  o: PredictOptions;
  name: string;
  maxLength: number;
  batchSize: number;
  batches: Batches;
}

async function predictSpGroup(predictor: Predictor, records: InputRecord[], out: PredictionWriter, counts: PredictionCounts, notes: Note[], g: SpGroupOptions): Promise<void> {
  if (records.length === 0) return;
  if (counts.task !== 'signal-peptide') throw new Error('counts of another task');
  // a kingdom per record from its header (a hint) or the one chosen
  const { plan, o } = g;
  const source: ('header' | 'chosen' | 'none')[] = records.map((r) => (plan.useHeaders && r.kingdomHint ? 'header' : o.kingdom !== undefined && o.kingdom !== 'unknown' ? 'chosen' : 'none'));
  const kingdoms: (Kingdom | null)[] = records.map((r, i) => (source[i] === 'header' ? r.kingdomHint : plan.chosen));
  for (const r of records) {
    if (r.sequence.length > g.maxLength) notes.push({ kind: 'warning', message: `only the first ${g.maxLength} of ${r.sequence.length} residues are read (the model's input window)`, loc: { file: g.name, record: r.id } });
  }
  const decoded = await predictor.predictSp(records.map((r) => r.sequence), kingdoms, g.batchSize, g.batches);
  const T = STATE_NAMES.length;
  let rows = '';
  let summary = '';
  let gff = '';
  records.forEach((r, i) => {
    const p = decoded[i];
    for (let k = 0; k < p.length; k++) rows += csvLine([r.id, k + 1, r.sequence[k], p.letters[k], ...Array.from(p.marginals.subarray(k * T, (k + 1) * T), r6)]);
    const typeIdx = SP_TYPES.indexOf(p.type);
    summary += csvLine([r.id, kingdoms[i] ?? '', source[i], p.type, ...Array.from(p.typeProbs), p.cleavageSite, p.cleavageSiteProbability, p.flags.map((f) => f.code).join(' ')] as CsvValue[]);
    const f = signalPeptideGff3(r.id, p.type, p.cleavageSite, p.typeProbs[typeIdx], o.gffSource ?? SIGNALP6_SOURCE);
    if (f) gff += `${formatGff3Line(f)}\n`;
    counts.types[kingdoms[i] ?? 'unknown'][p.type]++;
    out.json.push({
      id: r.id, sequence: r.sequence, length: r.sequence.length, predictedResidues: p.length, kingdom: kingdoms[i], kingdomSource: source[i], prediction: p.type,
      typeProbabilities: Object.fromEntries(SP_TYPES.map((t, k) => [t, p.typeProbs[k]])), cleavageSite: p.cleavageSite,
      cleavageSiteProbability: p.cleavageSiteProbability, csProbabilities: Array.from(p.csProbs, r6), flags: p.flags, bestPathType: p.bestPathType,
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
        const d = decoded[i];
        const cs = d.cleavageSite;
        return cs === null
          ? { id: r.id, description: d.type === 'NO_SP' ? 'unchanged: no signal peptide predicted' : `unchanged: ${d.type} predicted, but no cleavage site inside the ${d.length} residues read`, sequence: r.sequence }
          : { id: r.id, description: `mature: predicted ${d.type} signal peptide 1-${cs} removed`, sequence: r.sequence.slice(cs) };
      }),
    ),
  );
}

/** The directory of PREFIX (created by the caller when missing). */
export const prefixDir = (prefix: string) => path.dirname(path.resolve(prefix));
