// The comparison protocol: train and score one model with a list of PEFT methods under the same
// data split, and write a comparison table (Markdown + CSV) and every detail (JSON).
//
// Signal peptides (one SignalP 3-line file; its partitions decide the folds):
//   simple CV  one fold per partition t: train on every other partition, select the best epoch
//              on t and report t. Selection and report share t, so the numbers are optimistic;
//              with partitions 0 and 1 this is "train on 0, validate/test on 1, and vice versa".
//   nested CV  (PEFT-SP / SignalP 6.0 style, needs >= 3 partitions) one fold per ordered pair
//              (t, v), t != v: train on the remaining partitions, select the epoch on v, report
//              t (3 partitions -> 6 models). The test partition never influences training.
//   'auto' = nested with >= 3 partitions, else simple. Fold metrics are averaged (mean over
//   folds of the summary numbers; per-fold rows and per-(kingdom, type) metrics are in the JSON).
// Secondary structure: train / validation / test files; one fold.
// Per method: trainable parameters (the run's count: method + head), wall time (training and
// scoring of all folds), peak memory (largest resident set size of this process sampled during
// the method's runs, baseline included: methods run one after the other in one process).
// Runs live in OUT/runs/<method label>/<fold>; a completed run found there is scored again,
// not retrained, so an interrupted protocol resumes.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { SsRecord } from '../data/labels-ss.js';
import type { SignalPRecord } from '../data/signalp.js';
import { writeCsv } from '../export/csv.js';
import { writeJson } from '../export/json.js';
import { writeFileAtomic } from '../atomic.js';
import type { RunRecord } from '../train/run-dir.js';
import type { TaskSpec } from '../train/task.js';
import { loadModel } from '../esm2/model.js';
import { type LabelledSequence, TRAINER_DEFAULTS, type TrainerConfig, prepare, train } from '../train/trainer.js';
import { type Evaluation, type LabelledData, evaluateData, readLabelledData } from '../tasks/evaluate.js';
import { currentVersions } from '../tasks/predict.js';
import { type SsHeadKind, type SsLabels, ssLabelled, ssTask } from '../tasks/secondary-structure/task.js';
import { spLabelled } from '../tasks/signal-peptide/labels.js';
import { spTask } from '../tasks/signal-peptide/task.js';

/** A problem with the protocol's configuration or data (reported to the user as such). */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

export interface MethodSpec {
  /** label in tables and folder names (default: name, numbered when repeated) */
  label?: string;
  name: string;
  options: Record<string, unknown>;
}

export type CvScheme = 'auto' | 'simple' | 'nested';

export interface ProtocolConfig {
  task: 'sp' | 'ss';
  model: string;
  methods: MethodSpec[];
  out: string;
  /** trainer settings shared by every run (epochs, lr, batch, seed, ...) */
  trainer?: Partial<Omit<TrainerConfig, 'model' | 'task' | 'method' | 'methodOptions'>>;
  /** sp: the SignalP file and the CV scheme */
  data?: string;
  cv?: CvScheme;
  kingdom?: boolean;
  /** ss: the three files, labels and head */
  train?: string;
  val?: string;
  test?: string;
  labels?: SsLabels;
  head?: SsHeadKind;
  onLog?: (line: string) => void;
}

export interface FoldResult {
  fold: string;
  train: string;
  validation: string;
  test: string;
  runDir: string;
  trainSequences: number;
  metrics: Record<string, number | null>;
  evaluation: Evaluation;
  wallSeconds: number;
}

export interface MethodResult {
  label: string;
  method: string;
  options: Record<string, unknown>;
  trainableParams: number;
  folds: FoldResult[];
  /** mean over folds */
  metrics: Record<string, number | null>;
  wallSeconds: number;
  peakRssBytes: number;
}

export interface ProtocolResult {
  task: 'sp' | 'ss';
  scheme: string;
  metricNames: string[];
  methods: MethodResult[];
  files: { markdown: string; csv: string; json: string };
}

interface Fold {
  name: string;
  train: LabelledSequence[];
  val: LabelledSequence[];
  test: LabelledData;
  describe: { train: string; validation: string; test: string };
}

const SP_METRICS = ['mcc2', 'mcc1', 'cs_recall', 'cs_precision', 'type_accuracy'];
const SS_METRICS = ['q3', 'q3_per_protein', 'q8', 'q8_per_protein', 'sov3'];

function foldMetrics(e: Evaluation): Record<string, number | null> {
  if (e.kind === 'sp') return Object.fromEntries(SP_METRICS.map((k) => [k, e.summary[k] ?? null]));
  return { q3: e.q3, q3_per_protein: e.q3PerProtein, q8: e.q8, q8_per_protein: e.q8PerProtein, sov3: e.ss3.sov?.pooled ?? null };
}

function labels(methods: MethodSpec[]): string[] {
  const seen = new Map<string, number>();
  return methods.map((m) => {
    const base = m.label ?? m.name;
    if (!/^[A-Za-z0-9_.+-]+$/.test(base)) throw new ProtocolError(`method label '${base}' may hold only letters, digits and _ . + -`);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}-${n}`;
  });
}

/** SignalP folds from the partitions present. */
export function signalpFolds(partitions: readonly number[], scheme: CvScheme): { scheme: 'simple' | 'nested'; folds: { test: number; val: number; train: number[] }[] } {
  const ps = [...new Set(partitions)].sort((a, b) => a - b);
  if (ps.length < 2) throw new ProtocolError(`cross-validation needs at least 2 partitions; the file has ${ps.length === 0 ? 'none' : `only partition ${ps[0]}`}`);
  const s = scheme === 'auto' ? (ps.length >= 3 ? 'nested' : 'simple') : scheme;
  if (s === 'nested' && ps.length < 3) throw new ProtocolError(`nested cross-validation needs at least 3 partitions (test, validation, training); the file has ${ps.join(', ')}`);
  if (s === 'simple') return { scheme: s, folds: ps.map((t) => ({ test: t, val: t, train: ps.filter((p) => p !== t) })) };
  const folds: { test: number; val: number; train: number[] }[] = [];
  for (const t of ps) for (const v of ps) if (v !== t) folds.push({ test: t, val: v, train: ps.filter((p) => p !== t && p !== v) });
  return { scheme: s, folds };
}

async function buildFolds(c: ProtocolConfig): Promise<{ scheme: string; task: TaskSpec; folds: Fold[] }> {
  if (c.task === 'sp') {
    if (!c.data) throw new ProtocolError('signal-peptide protocol: a SignalP 3-line file is required');
    const data = await readLabelledData(c.data);
    if (data.format !== 'signalp') throw new ProtocolError(`${c.data}: the signal-peptide protocol needs a SignalP 3-line file, this is ${data.format}`);
    const records = data.records as SignalPRecord[];
    if (records.some((r) => r.labels === null)) throw new ProtocolError(`${c.data}: every record needs a label line`);
    const sp = spLabelled(records);
    const plan = signalpFolds(records.map((r) => r.partition), c.cv ?? 'auto');
    const pick = (ps: number[]) => sp.items.filter((_, i) => ps.includes(records[i].partition));
    const folds = plan.folds.map((f): Fold => ({
      name: plan.scheme === 'simple' ? `test${f.test}` : `test${f.test}-val${f.val}`,
      train: pick(f.train),
      val: pick([f.val]),
      test: { ...data, records: records.filter((r) => r.partition === f.test) },
      describe: { train: `partitions ${f.train.join(',')}`, validation: `partition ${f.val}`, test: `partition ${f.test}` },
    }));
    return { scheme: plan.scheme === 'simple' ? 'simple cross-validation over partitions' : 'nested cross-validation over partitions', task: spTask({ kingdom: c.kingdom ?? true }), folds };
  }
  if (!c.train || !c.val || !c.test) throw new ProtocolError('secondary-structure protocol: --train, --val and --test files are required');
  const lab = c.labels ?? 'ss8';
  const load = async (f: string) => {
    const d = await readLabelledData(f);
    if (d.format === 'signalp') throw new ProtocolError(`${f}: SignalP data has no secondary-structure labels`);
    return d;
  };
  const [tr, va, te] = [await load(c.train), await load(c.val), await load(c.test)];
  return {
    scheme: 'train / validation / test files',
    task: ssTask(lab, { head: c.head ?? 'linear' }),
    folds: [{ name: 'test', train: ssLabelled(tr.records as SsRecord[], lab), val: ssLabelled(va.records as SsRecord[], lab), test: te, describe: { train: c.train, validation: c.val, test: c.test } }],
  };
}

const mean = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};

export async function runProtocol(c: ProtocolConfig): Promise<ProtocolResult> {
  if (c.methods.length === 0) throw new ProtocolError('protocol: no methods given');
  const log = c.onLog ?? (() => {});
  const { scheme, task, folds } = await buildFolds(c);
  const names = labels(c.methods);
  // every method and its options are checked before the first run starts
  const model = await loadModel(c.model);
  for (const m of c.methods) {
    try {
      prepare({ ...TRAINER_DEFAULTS, model: c.model, task: task.name, method: m.name, methodOptions: m.options }, task, model);
    } catch (e) {
      throw new ProtocolError(`method '${m.name}' ${JSON.stringify(m.options)}: ${(e as Error).message}`);
    }
  }
  const metricNames = c.task === 'sp' ? SP_METRICS : SS_METRICS;
  mkdirSync(c.out, { recursive: true });
  const results: MethodResult[] = [];
  for (const [mi, m] of c.methods.entries()) {
    const label = names[mi];
    const foldResults: FoldResult[] = [];
    let peak = 0;
    let trainable = 0;
    const t0 = performance.now();
    for (const f of folds) {
      const runDir = path.join(c.out, 'runs', label, f.name);
      const cfg: TrainerConfig = { ...TRAINER_DEFAULTS, ...c.trainer, model: c.model, task: task.name, method: m.name, methodOptions: m.options };
      const f0 = performance.now();
      let record: RunRecord;
      const runJson = path.join(runDir, 'run.json');
      const previous = existsSync(runJson) ? (JSON.parse(readFileSync(runJson, 'utf8')) as RunRecord) : null;
      if (previous?.status === 'completed' && JSON.stringify(previous.config) === JSON.stringify(cfg)) {
        log(`${label} ${f.name}: completed run found in ${runDir}; scoring it again`);
        record = previous;
      } else {
        log(`${label} ${f.name}: training on ${f.train.length} sequences (${f.describe.train}), selecting on ${f.describe.validation}`);
        record = await train(runDir, cfg, task, { train: f.train, val: f.val });
      }
      peak = Math.max(peak, record.peakRssBytes);
      trainable = record.params.trainable;
      const evaluation = await evaluateData(runDir, f.test, { runtime: { providers: c.trainer?.providers, threads: c.trainer?.threads } });
      peak = Math.max(peak, process.memoryUsage().rss);
      const metrics = foldMetrics(evaluation);
      log(`${label} ${f.name}: ${metricNames.map((k) => `${k} ${metrics[k] === null ? '-' : (metrics[k] as number).toFixed(4)}`).join(', ')}`);
      foldResults.push({
        fold: f.name, ...f.describe, runDir, trainSequences: f.train.length, metrics, evaluation,
        wallSeconds: previous?.status === 'completed' ? record.wallSeconds : (performance.now() - f0) / 1000,
      });
    }
    results.push({
      label, method: m.name, options: m.options, trainableParams: trainable, folds: foldResults,
      metrics: Object.fromEntries(metricNames.map((k) => [k, mean(foldResults.map((r) => r.metrics[k]))])),
      wallSeconds: (performance.now() - t0) / 1000, peakRssBytes: peak,
    });
  }
  const files = { markdown: path.join(c.out, 'comparison.md'), csv: path.join(c.out, 'comparison.csv'), json: path.join(c.out, 'protocol.json') };
  const header = ['method', 'options', 'trainable_params', 'folds', ...metricNames, 'wall_s', 'peak_rss_mb'];
  const row = (r: MethodResult) => [r.label, JSON.stringify(r.options), r.trainableParams, r.folds.length, ...metricNames.map((k) => r.metrics[k]), Number(r.wallSeconds.toFixed(2)), Number((r.peakRssBytes / 2 ** 20).toFixed(1))];
  writeCsv(files.csv, header, results.map(row));
  writeFileAtomic(files.markdown, formatMarkdown(c, scheme, folds.length, header, results, metricNames));
  writeJson(files.json, {
    format: 'plmw-protocol', formatVersion: 1, createdAt: new Date().toISOString(), producer: currentVersions(),
    task: c.task, model: c.model, scheme, trainer: c.trainer ?? {}, data: c.task === 'sp' ? { file: c.data } : { train: c.train, val: c.val, test: c.test },
    methods: results,
  });
  return { task: c.task, scheme, metricNames, methods: results, files };
}

function formatMarkdown(c: ProtocolConfig, scheme: string, nFolds: number, header: string[], rs: MethodResult[], metricNames: string[]): string {
  const fmt = (v: unknown) => (v === null || v === undefined ? '–' : typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(4)) : String(v).replace(/\|/g, '\\|'));
  const lines = [
    `# PEFT method comparison: ${c.task === 'sp' ? 'signal peptides' : 'secondary structure'}`,
    '',
    `Model: \`${c.model}\`. Split: ${scheme} (${nFolds} fold${nFolds === 1 ? '' : 's'}). ` +
      `Metrics are means over folds (${c.task === 'sp' ? 'mcc2/mcc1/cs_* are means over the kingdom x SP-type rows; cs_* at window 3' : 'Q3 of an SS8 model scores its SS8 prediction mapped to 3 states; sov3 = pooled SOV\'99 on 3 states'}). ` +
      'Wall time covers training and scoring of every fold; peak memory is the process resident set size (baseline included).',
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rs.map((r) => `| ${[r.label, `\`${JSON.stringify(r.options)}\``, r.trainableParams, r.folds.length, ...metricNames.map((k) => r.metrics[k]), Number(r.wallSeconds.toFixed(1)), Number((r.peakRssBytes / 2 ** 20).toFixed(1))].map(fmt).join(' | ')} |`),
    '',
  ];
  return `${lines.join('\n')}\n`;
}

const TARGET_ALIASES: Record<string, string> = { q: 'query', k: 'key', v: 'value', o: 'attn_out' };
const OPTION_ALIASES: Record<string, string> = { 'top-k': 'topK', topk: 'topK' };

/**
 * A method from `NAME[:KEY=VALUE,...]`, e.g. `lora:r=8,alpha=8,targets=q+k+v+o,top-k=4`,
 * `adapter:variant=houlsby,size=16`, `probe`. Values: numbers, true/false, lists joined by '+'
 * (a 'targets' list maps q k v o to query key value attn_out). An optional `label=TEXT` names
 * the row.
 */
export function parseMethodSpec(spec: string): MethodSpec {
  const [name, rest] = spec.includes(':') ? [spec.slice(0, spec.indexOf(':')), spec.slice(spec.indexOf(':') + 1)] : [spec, ''];
  if (!/^[a-z0-9_-]+$/i.test(name.trim())) throw new ProtocolError(`method spec '${spec}': bad method name '${name}'`);
  const options: Record<string, unknown> = {};
  let label: string | undefined;
  for (const part of rest.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ProtocolError(`method spec '${spec}': '${part}' is not KEY=VALUE`);
    const key = OPTION_ALIASES[part.slice(0, eq).trim()] ?? part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    if (key === 'label') {
      label = raw;
      continue;
    }
    const scalar = (v: string): unknown => (v === 'true' ? true : v === 'false' ? false : v !== '' && Number.isFinite(Number(v)) ? Number(v) : v);
    if (raw.includes('+') || key === 'targets') {
      const list = raw.split('+').map((x) => x.trim()).filter(Boolean);
      options[key] = key === 'targets' ? list.map((t) => TARGET_ALIASES[t] ?? t) : list.map(scalar);
    } else options[key] = scalar(raw);
  }
  return { name: name.trim(), options, label };
}
