// Prefix tuning (Li & Liang 2021): P trainable key and value vectors per tuned block, attended
// by every query. They carry no rotary position (they are not tokens of the sequence).

import type { Esm2Config } from '../esm2/config.js';
import { ops } from '../graph/index.js';
import { type PeftMethod, type TrainableSpec, blocksFor, option } from './method.js';

export function prefix(cfg: Esm2Config, o: Record<string, unknown> = {}): PeftMethod {
  const P = option('prefix', o, 'tokens', 10);
  const blocks = blocksFor(cfg, o.topK as number | undefined);
  const { hiddenSize: D, numHeads: H, headDim: hd } = cfg;
  const params: TrainableSpec[] = [];
  for (const l of blocks)
    for (const kv of ['key', 'value']) params.push({ name: `prefix.${l}.${kv}`, shape: [P, D], init: { kind: 'normal', std: 0.5 } });
  const heads = (t: import('../graph/index.js').Tensor) => ops.transpose(ops.reshape(t, [P, H, hd]), [1, 0, 2]); // [H, P, hd]
  return {
    name: 'prefix',
    options: { tokens: P, topK: o.topK ?? cfg.numLayers },
    params,
    lowestBlock: blocks[0] ?? cfg.numLayers,
    hooks: (ctx) => ({
      attentionPrefix: (layer) =>
        blocks.includes(layer) ? { key: heads(ctx.param(`prefix.${layer}.key`)), value: heads(ctx.param(`prefix.${layer}.value`)) } : null,
    }),
  };
}
