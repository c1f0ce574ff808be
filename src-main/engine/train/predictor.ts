// Predictions from trained parameters: the evaluation graph (no dropout, all blocks from the
// tokens) fed with a run's tensors, over sequences batched by length.
// `predict` returns each sequence's rows of the head's `probs` output; what they mean is the
// task's business (SS: class probabilities; SP: emissions + CRF parameters, decoded by
// tasks/signal-peptide/decode.ts — see predictSp below).

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { type LoadedModel, loadModel } from '../esm2/model.js';
import { createMethod } from '../peft/index.js';
import { overFrozenAdapter } from '../peft/frozen.js';
import type { PeftMethod } from '../peft/method.js';
import { type RuntimeOptions, type Session, createSession } from '../runtime/index.js';
import type { Kingdom } from '../data/signalp.js';
import { type SsHeadKind, ssTask } from '../tasks/secondary-structure/task.js';
import { type SpDecoded, crfParamsOf, decodeSp } from '../tasks/signal-peptide/decode.js';
import { SP_MAX_LENGTH, kingdomOnlyLabels } from '../tasks/signal-peptide/labels.js';
import { spTask } from '../tasks/signal-peptide/task.js';
import { type TensorMap, loadBestCheckpoint } from './checkpoint.js';
import { type Head, NO_HEAD, linearHead, noHead } from './head.js';
import type { RunRecord } from './run-dir.js';
import type { TaskSpec } from './task.js';
import { buildTaskGraph } from './task-graph.js';

export interface BatchOptions {
  /** called after each batch with the number of sequences done */
  onBatch?: (done: number) => void;
  /** signal peptides: called as sequences are decoded (CRF marginals and paths) */
  onDecoded?: (done: number) => void;
  /** checked between batches */
  signal?: AbortSignal;
}

export class Predictor {
  private constructor(
    readonly model: LoadedModel,
    readonly head: Head,
    private readonly session: Session,
    private readonly params: Record<string, ort.Tensor>,
  ) {}

  static async create(model: LoadedModel, method: PeftMethod, head: Head, params: TensorMap, runtime: RuntimeOptions = {}): Promise<Predictor> {
    const tg = buildTaskGraph(model, method, head, { training: false });
    const feeds: Record<string, ort.Tensor> = {};
    for (const p of tg.params) {
      const t = params.get(p.name);
      if (!t) throw new Error(`no value for trained tensor '${p.name}'`);
      if (t.data.length !== p.shape.reduce((a, b) => a * b, 1)) throw new Error(`trained tensor '${p.name}' has ${t.data.length} values, the method expects ${p.shape.join('x')}`);
      feeds[`param.${p.name}`] = new ort.Tensor('float32', t.data, p.shape);
    }
    const session = await createSession(tg.model, { ...runtime, weightsDir: model.weightsDir });
    return new Predictor(model, head, session, feeds);
  }

  /**
   * Per sequence, the head's outputs [len+2, C] (row 0 = <cls>). `labels` (optional, one array
   * of len per sequence) are fed to the head instead of all -1: the SP head reads the kingdom
   * from them; the loss output is not used here.
   */
  async predict(sequences: readonly string[], batchSize = 16, labels?: readonly Int32Array[], o: BatchOptions = {}): Promise<Float32Array[]> {
    if (labels && labels.length !== sequences.length) throw new Error(`predict: ${labels.length} label arrays for ${sequences.length} sequences`);
    const out: Float32Array[] = new Array(sequences.length);
    const order = sequences.map((_, i) => i).sort((a, b) => sequences[b].length - sequences[a].length || a - b);
    for (let k = 0; k < order.length; k += batchSize) {
      if (o.signal?.aborted) throw new DOMException('prediction cancelled', 'AbortError');
      const idx = order.slice(k, k + batchSize);
      const enc = this.model.tokenizer.encodeBatch(idx.map((i) => sequences[i]), 'int64');
      const T = enc.maxLen;
      const feeds = this.head.labelFeeds({ labels: idx.map((i) => labels?.[i] ?? new Int32Array(sequences[i].length).fill(-1)) }, T, 'float32');
      const r = await this.session.run({ tokens: new ort.Tensor('int64', enc.ids, [enc.batch, T]), ...feeds, ...this.params });
      const C = (r.probs.dims as number[])[2];
      idx.forEach((i, b) => (out[i] = (r.probs.data as Float32Array).slice(b * T * C, (b * T + sequences[i].length + 2) * C)));
      o.onBatch?.(Math.min(order.length, k + batchSize));
    }
    return out;
  }

  /**
   * Signal-peptide predictions (SP runs only): the sequences cut to their first maxLength
   * residues, run through the graph, and decoded in TypeScript (Viterbi, marginals, type
   * probabilities, cleavage site; decode.ts). kingdoms[i] = null means unknown (no kingdom term).
   */
  async predictSp(sequences: readonly string[], kingdoms: readonly (Kingdom | null)[], batchSize = 16, o: BatchOptions = {}): Promise<SpDecoded[]> {
    if (this.head.name !== 'crf') throw new Error(`predictSp: this run's head is '${this.head.name}', not the signal-peptide CRF`);
    const maxLength = Number(this.head.options.maxLength ?? SP_MAX_LENGTH);
    const cut = sequences.map((s) => s.slice(0, maxLength));
    const rows = await this.predict(cut, batchSize, cut.map((s, i) => kingdomOnlyLabels(s.length, kingdoms[i] ?? null)), o);
    const crf = crfParamsOf(new Map(Object.entries(this.params).map(([k, t]) => [k.replace(/^param\./, ''), t.data as Float32Array])));
    return rows.map((r, i) => {
      const d = decodeSp(r, cut[i].length, kingdoms[i] ?? null, crf);
      o.onDecoded?.(i + 1);
      return d;
    });
  }

  /** The execution provider the session runs on. */
  get provider(): string {
    return this.session.report.provider;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/**
 * The task of a run from its task name (run.json `task`) and, when given, the head options
 * recorded in run.json `head` (e.g. CNN channels). Names: ss-ss8, ss-ss3, ss-ss8-cnn,
 * ss-ss3-cnn (secondary structure), sp, sp-nokingdom (signal peptides).
 */
export function taskFor(name: string, head?: Record<string, unknown>): TaskSpec {
  const ss = /^ss-(ss8|ss3)(?:-(cnn))?$/.exec(name);
  if (ss) {
    const kind: SsHeadKind = ss[2] === 'cnn' ? 'cnn' : 'linear';
    const num = (k: string) => (typeof head?.[k] === 'number' ? (head[k] as number) : undefined);
    return ssTask(ss[1] as 'ss8' | 'ss3', { head: kind, kernel: num('kernel'), channels: num('channels') });
  }
  if (name === 'sp' || name === 'sp-nokingdom') {
    const maxLength = typeof head?.maxLength === 'number' ? head.maxLength : undefined;
    return spTask({ kingdom: name === 'sp', maxLength });
  }
  // imported adapters: a classifier whose labels are not known, or no head at all
  if (name === 'token-cls') {
    const C = head?.classes;
    if (!Number.isInteger(C)) throw new Error(`task 'token-cls' needs the number of classes (head.classes), got ${JSON.stringify(C)}`);
    return { name, head: (cfg) => linearHead(C as number, cfg.hiddenSize), metrics: () => ({}), selectMetric: '' };
  }
  if (name === 'backbone') return { name, head: () => noHead(), metrics: () => ({}), selectMetric: '' };
  throw new Error(`unknown task '${name}' (ss-ss8, ss-ss3, ss-ss8-cnn, ss-ss3-cnn, sp, sp-nokingdom; imported: token-cls, backbone)`);
}

/**
 * Why class predictions cannot be read from a run, or null: its classes mean nothing known (an
 * imported classifier, task token-cls) or it has no head (task backbone).
 */
export function unlabelledTask(task: string): string | null {
  if (task === 'token-cls') return 'the labels of this imported classifier are not known (task token-cls): import it again with --task ss3, ss8 or sp when they are those, or read its logits with plmw infer --run';
  if (task === 'backbone') return NO_HEAD;
  return null;
}

export interface OpenedRun {
  record: RunRecord;
  model: LoadedModel;
  method: PeftMethod;
  head: Head;
  params: TensorMap;
}

/**
 * The adapter of a run used as a frozen backbone under a new head: its method and best
 * checkpoint. `sha256`, when given, must be the checkpoint's (the one the new head was trained on).
 */
export function openBackbone(runDir: string, model: LoadedModel, sha256?: string): { record: RunRecord; method: PeftMethod; params: TensorMap; checkpointSha256: string } {
  const file = path.join(runDir, 'checkpoints', 'best.safetensors');
  const checkpointSha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
  if (sha256 !== undefined && sha256 !== checkpointSha256) throw new Error(`${runDir}: its checkpoint has changed since a head was trained on it (sha256 ${checkpointSha256}, recorded ${sha256})`);
  const { record, method, params } = openRunOn(runDir, model);
  return { record, method, params, checkpointSha256 };
}

/** A run's method, head and best checkpoint, ready for prediction (`loaded`: the model, already loaded). */
export async function openRun(runDir: string, modelDir?: string, loaded?: LoadedModel): Promise<OpenedRun> {
  const record = readRunRecord(runDir);
  return openRunOn(runDir, loaded ?? (await loadModel(modelDir ?? record.model.dir)));
}

const readRunRecord = (runDir: string) => JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8')) as RunRecord;

/** openRun on a model already loaded. */
export function openRunOn(runDir: string, model: LoadedModel): OpenedRun {
  const record = readRunRecord(runDir);
  if (model.sha256 !== record.model.sha256) throw new Error(`${runDir}: trained on a model with sha256 ${record.model.sha256}, but ${model.dir} has ${model.sha256}`);
  const { name, ...options } = record.method;
  let method = createMethod(name, model.config, options, model.source, [...model.weights.tensors.keys()]);
  if (record.backbone) {
    const bb = openBackbone(record.backbone.dir, model, record.backbone.checkpointSha256);
    method = overFrozenAdapter(model.config, bb.method, bb.params);
  }
  const { name: _headName, ...headOptions } = record.head ?? { name: '' };
  const head = taskFor(record.task, headOptions).head(model.config);
  const { params } = loadBestCheckpoint(runDir, record);
  return { record, model, method, head, params };
}
