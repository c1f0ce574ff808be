// A small CNN head for secondary structure (`--head cnn`), in the spirit of LIFT_SS's CNN head:
//   features [B, T, D] -> Conv1d over the residue axis (D -> channels, kernel k, "same" zero
//   padding) -> ReLU -> Linear (channels -> C) per residue.
// The convolution sees only residues: <cls>, <eos> and padding rows are zeroed first (input
// `residue_mask` [B, T]), so a sequence gets the same logits alone and in a padded batch, and
// its ends are zero-padded like any "same" convolution. LIFT_SS's 32-d metric-learning
// classifier is not reproduced; the last layer is an ordinary Linear with cross-entropy.
import * as ort from 'onnxruntime-node';
import { ops } from '../../graph/index.js';
import { type Head, perResidueFeeds, perResidueLoss } from '../../train/head.js';

export interface CnnHeadOptions {
  /** odd kernel width (default 7) */
  kernel?: number;
  /** convolution output channels (default 64) */
  channels?: number;
}

export function cnnHead(numClasses: number, hidden: number, o: CnnHeadOptions = {}): Head {
  const C = numClasses;
  const k = o.kernel ?? 7;
  const M = o.channels ?? 64;
  if (!Number.isInteger(k) || k < 1 || k % 2 === 0) throw new Error(`cnn head: kernel must be an odd whole number, got ${k}`);
  if (!Number.isInteger(M) || M < 1) throw new Error(`cnn head: channels must be a whole number >= 1, got ${M}`);
  return {
    name: 'cnn',
    options: { classes: C, kernel: k, channels: M },
    numClasses: C,
    params: [
      // fan-in scaled init (He for the ReLU layer)
      { name: 'head.conv.weight', shape: [M, hidden, k], init: { kind: 'normal', std: Math.sqrt(2 / (hidden * k)) } },
      { name: 'head.conv.bias', shape: [M], init: { kind: 'zeros' }, decay: false },
      { name: 'head.weight', shape: [C, M], init: { kind: 'normal', std: 0.02 } },
      { name: 'head.bias', shape: [C], init: { kind: 'zeros' }, decay: false },
    ],
    build(ctx, features, dtype) {
      const mask = ctx.graph.input('residue_mask', dtype, ['B', 'T']);
      const x = ops.transpose(ops.mul(features, ops.unsqueeze(mask, [2])), [0, 2, 1]); // [B, D, T]
      const h = ops.relu(ops.conv1d(x, ctx.param('head.conv.weight'), ctx.param('head.conv.bias'), { pads: [(k - 1) / 2, (k - 1) / 2] }));
      const ht = ops.transpose(h, [0, 2, 1]); // [B, T, M]
      const logits = ops.linear(ht, ctx.param('head.weight'), ctx.param('head.bias'));
      return { loss: perResidueLoss(ctx, logits, C, dtype), outputs: { probs: ops.softmax(logits, -1) } };
    },
    labelFeeds(batch, T, dtype) {
      const B = batch.labels.length;
      const m = dtype === 'float64' ? new Float64Array(B * T) : new Float32Array(B * T);
      batch.labels.forEach((lab, b) => m.fill(1, b * T + 1, b * T + 1 + lab.length));
      return { ...perResidueFeeds(batch, T, C, dtype), residue_mask: new ort.Tensor(dtype as 'float32', m, [B, T]) };
    },
  };
}
