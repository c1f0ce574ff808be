// Full fine-tuning: every backbone weight of the tuned blocks is trainable (with --top-k, the
// top k blocks and the final LayerNorm; without it, also the embeddings). The rotary inv_freq
// buffers stay fixed, and the MLM and contact heads are not part of task training.
import type { Esm2Config } from '../esm2/config.js';
import type { WeightSource } from '../esm2/forward.js';
import { type PeftMethod, type TrainableSpec, blocksFor } from './method.js';

export function full(cfg: Esm2Config, o: Record<string, unknown>, weights: WeightSource, names: readonly string[]): PeftMethod {
  const blocks = blocksFor(cfg, o.topK as number | undefined);
  const all = blocks.length === cfg.numLayers;
  const tuned = names.filter((n) => {
    if (n.endsWith('inv_freq') || n.startsWith('lm_head') || n.startsWith('contact_head')) return false;
    const m = /^encoder\.layer\.(\d+)\./.exec(n);
    if (m) return blocks.includes(Number(m[1]));
    if (n.startsWith('encoder.emb_layer_norm_after')) return blocks.length > 0;
    return all; // embeddings
  });
  const params: TrainableSpec[] = tuned.map((n) => ({
    name: `full.${n}`, shape: weights.get(n).shape, decay: !/LayerNorm|layer_norm|bias$/.test(n),
    init: { kind: 'computed', compute: (w) => w.read(n) },
  }));
  return {
    name: 'full',
    options: { topK: o.topK ?? cfg.numLayers },
    params,
    lowestBlock: all ? 0 : blocks[0] ?? cfg.numLayers,
    hooks: (ctx) => ({ weight: (n) => (tuned.includes(n) ? ctx.param(`full.${n}`) : null) }),
  };
}
