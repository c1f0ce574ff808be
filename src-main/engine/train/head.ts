// Task heads on top of the backbone's per-residue features. A head declares its trainable
// tensors and label inputs, builds its loss inside the training graph, and turns a batch's
// labels into feeds. Sequence position p (1-based residue) is token position p (after <cls>).

import * as ort from 'onnxruntime-node';
import { type DType, type Tensor, ops } from '../graph/index.js';
import type { HookContext, TrainableSpec } from '../peft/method.js';

export interface HeadBuild {
  /** scalar training loss */
  loss: Tensor;
  /** named outputs for prediction and metrics, e.g. per-residue class probabilities */
  outputs: Record<string, Tensor>;
}

export interface LabelledBatch {
  /** per sequence, one label per residue; -1 = not scored (unresolved, masked) */
  labels: Int32Array[];
}

export interface Head {
  name: string;
  options: Record<string, unknown>;
  numClasses: number;
  params: TrainableSpec[];
  build(ctx: HookContext, features: Tensor, dtype: DType): HeadBuild;
  labelFeeds(batch: LabelledBatch, T: number, dtype: DType): Record<string, ort.Tensor>;
}

/** One-hot labels [B, T, C] and a {0,1} mask [B, T] over token positions. */
export function perResidueFeeds(batch: LabelledBatch, T: number, C: number, dtype: DType): Record<string, ort.Tensor> {
  const B = batch.labels.length;
  const Arr = dtype === 'float64' ? Float64Array : Float32Array;
  const onehot = new Arr(B * T * C);
  const mask = new Arr(B * T);
  batch.labels.forEach((lab, b) => {
    for (let i = 0; i < lab.length; i++) {
      const c = lab[i];
      if (c < 0) continue;
      if (c >= C) throw new Error(`label ${c} out of range for ${C} classes`);
      const t = i + 1;
      onehot[(b * T + t) * C + c] = 1;
      mask[b * T + t] = 1;
    }
  });
  return { labels: new ort.Tensor(dtype as 'float32', onehot, [B, T, C]), label_mask: new ort.Tensor(dtype as 'float32', mask, [B, T]) };
}

/** Mean cross-entropy over labelled positions. */
export function perResidueLoss(ctx: HookContext, logits: Tensor, C: number, dtype: DType): Tensor {
  const labels = ctx.graph.input('labels', dtype, ['B', 'T', C]);
  const mask = ctx.graph.input('label_mask', dtype, ['B', 'T']);
  const ll = ops.reduceSum(ops.mul(ops.logSoftmax(logits, -1), labels), [2]); // [B, T]
  const total = ops.sumAll(ops.mul(ll, mask));
  return ops.neg(ops.div(total, ops.maximum(ops.sumAll(mask), 1)));
}

/** A linear layer per residue: logits = x W^T + b. */
export function linearHead(numClasses: number, hidden: number): Head {
  const C = numClasses;
  return {
    name: 'linear',
    options: { classes: C },
    numClasses: C,
    params: [
      { name: 'head.weight', shape: [C, hidden], init: { kind: 'normal', std: 0.02 } },
      { name: 'head.bias', shape: [C], init: { kind: 'zeros' }, decay: false },
    ],
    build(ctx, features, dtype) {
      const logits = ops.linear(features, ctx.param('head.weight'), ctx.param('head.bias'));
      return { loss: perResidueLoss(ctx, logits, C, dtype), outputs: { probs: ops.softmax(logits, -1) } };
    },
    labelFeeds: (batch, T, dtype) => perResidueFeeds(batch, T, C, dtype),
  };
}

export const NO_HEAD = 'this run is an adapter without a task head (a backbone): use it with plmw infer --run or the attention view, or train a new head on it with plmw train --backbone RUN';

/** The head of a run without one (an imported backbone adapter): anything that needs a head says so. */
export function noHead(): Head {
  const refuse = (): never => {
    throw new Error(NO_HEAD);
  };
  return { name: 'none', options: {}, numClasses: 0, params: [], build: refuse, labelFeeds: refuse };
}
