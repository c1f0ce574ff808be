// Predictions from trained parameters: the evaluation graph (no dropout, all blocks from the
// tokens) fed with a run's tensors, over sequences batched by length.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { type LoadedModel, loadModel } from '../esm2/model.js';
import { createMethod } from '../peft/index.js';
import type { PeftMethod } from '../peft/method.js';
import { type RuntimeOptions, type Session, createSession } from '../runtime/index.js';
import { ssTask } from '../tasks/secondary-structure/task.js';
import { type TensorMap, loadCheckpoint } from './checkpoint.js';
import type { Head } from './head.js';
import type { RunRecord } from './run-dir.js';
import type { TaskSpec } from './task.js';
import { buildTaskGraph } from './task-graph.js';

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
    const session = await createSession(tg.model, { ...runtime, externalData: model.externalData });
    return new Predictor(model, head, session, feeds);
  }

  /** Per sequence, the head's outputs [len+2, C] (row 0 = <cls>). */
  async predict(sequences: readonly string[], batchSize = 16): Promise<Float32Array[]> {
    const out: Float32Array[] = new Array(sequences.length);
    const order = sequences.map((_, i) => i).sort((a, b) => sequences[b].length - sequences[a].length || a - b);
    for (let k = 0; k < order.length; k += batchSize) {
      const idx = order.slice(k, k + batchSize);
      const enc = this.model.tokenizer.encodeBatch(idx.map((i) => sequences[i]), 'int64');
      const T = enc.maxLen;
      const labels = this.head.labelFeeds({ labels: idx.map((i) => new Int32Array(sequences[i].length).fill(-1)) }, T, 'float32');
      const r = await this.session.run({ tokens: new ort.Tensor('int64', enc.ids, [enc.batch, T]), ...labels, ...this.params });
      const C = (r.probs.dims as number[])[2];
      idx.forEach((i, b) => (out[i] = (r.probs.data as Float32Array).slice(b * T * C, (b * T + sequences[i].length + 2) * C)));
    }
    return out;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

export function taskFor(name: string): TaskSpec {
  if (name === 'ss-ss8') return ssTask('ss8');
  if (name === 'ss-ss3') return ssTask('ss3');
  throw new Error(`unknown task '${name}'`);
}

export interface OpenedRun {
  record: RunRecord;
  model: LoadedModel;
  method: PeftMethod;
  head: Head;
  params: TensorMap;
}

/** A run's method, head and best checkpoint, ready for prediction. */
export function openRun(runDir: string, modelDir?: string): OpenedRun {
  const record = JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8')) as RunRecord;
  const model = loadModel(modelDir ?? record.model.dir);
  if (model.sha256 !== record.model.sha256) throw new Error(`${runDir}: trained on a model with sha256 ${record.model.sha256}, but ${model.dir} has ${model.sha256}`);
  const { name, ...options } = record.method;
  const method = createMethod(name, model.config, options, model.source, [...model.weights.tensors.keys()]);
  const head = taskFor(record.task).head(model.config);
  const { params } = loadCheckpoint(path.join(runDir, 'checkpoints', 'best.safetensors'));
  return { record, model, method, head, params };
}
