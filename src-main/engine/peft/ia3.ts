// IA3 (Liu et al. 2022) with Hugging Face PEFT semantics: learned rescaling vectors, initialised
// to ones. Keys and values are scaled at the projection output (l ⊙ (x W^T + b)); the
// feed-forward block is scaled at the input of its output projection (W2 (l ⊙ gelu(...)) + b).

import type { Esm2Config } from '../esm2/config.js';
import { ops } from '../graph/index.js';
import { type PeftMethod, type TrainableSpec, blocksFor, option } from './method.js';

export type Ia3Target = 'key' | 'value' | 'ffn';
export const ia3Name = (layer: number, t: Ia3Target) => `ia3.${layer}.${t}`;

export function ia3(cfg: Esm2Config, o: Record<string, unknown> = {}): PeftMethod {
  const targets = option('ia3', o, 'targets', ['key', 'value', 'ffn']) as Ia3Target[];
  for (const t of targets) if (!['key', 'value', 'ffn'].includes(t)) throw new Error(`ia3: unknown target '${t}' (choose from key, value, ffn)`);
  const blocks = blocksFor(cfg, o.topK as number | undefined);
  const params: TrainableSpec[] = [];
  for (const l of blocks)
    for (const t of targets) params.push({ name: ia3Name(l, t), shape: [t === 'ffn' ? cfg.intermediateSize : cfg.hiddenSize], init: { kind: 'ones' }, decay: false });
  return {
    name: 'ia3',
    options: { targets, topK: o.topK ?? cfg.numLayers },
    params,
    lowestBlock: blocks[0] ?? cfg.numLayers,
    hooks: (ctx) => ({
      linear(call) {
        if (!blocks.includes(call.layer)) return call.base();
        if ((call.site === 'key' || call.site === 'value') && targets.includes(call.site)) return ops.mul(call.base(), ctx.param(ia3Name(call.layer, call.site)));
        if (call.site === 'ffn_out' && targets.includes('ffn')) return call.base(undefined, ops.mul(call.x, ctx.param(ia3Name(call.layer, 'ffn'))));
        return call.base();
      },
    }),
  };
}
