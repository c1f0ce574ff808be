// DoRA (Liu et al. 2024): LoRA plus a learned magnitude per output row.
// W' = W + (alpha/r) B A;  y = (m / ||W'||_row) * (x W'^T) + b, m initialised to ||W||_row.
// The row norm is differentiated (PEFT detaches it to save memory; here gradients are exact).

import { ops } from '../graph/index.js';
import { readTensorRowNorms } from './init-from-weights.js';
import { checkTargets, linearShape, loraName, loraParams } from './lora.js';
import { type PeftMethod, blocksFor, option } from './method.js';
import type { Esm2Config } from '../esm2/config.js';
import { HF_LINEAR_NAME } from '../esm2/forward.js';

export function dora(cfg: Esm2Config, o: Record<string, unknown> = {}): PeftMethod {
  const r = option('dora', o, 'r', 8);
  const alpha = option('dora', o, 'alpha', 8);
  const p = option('dora', o, 'dropout', 0.0);
  const targets = checkTargets('dora', option('dora', o, 'targets', ['query', 'value']));
  const blocks = blocksFor(cfg, o.topK as number | undefined);
  const scale = alpha / r;
  const params = loraParams(cfg, blocks, targets, r);
  for (const l of blocks)
    for (const site of targets)
      params.push({
        name: `dora.${l}.${site}.m`, shape: [linearShape(cfg, site).out], decay: false,
        init: { kind: 'computed', compute: (w) => readTensorRowNorms(w, `encoder.layer.${l}.${HF_LINEAR_NAME[site]}.weight`) },
      });
  return {
    name: 'dora',
    options: { r, alpha, dropout: p, targets, topK: o.topK ?? cfg.numLayers },
    params,
    lowestBlock: blocks[0] ?? cfg.numLayers,
    hooks: (ctx) => ({
      linear(call) {
        if (!blocks.includes(call.layer) || !targets.includes(call.site)) return call.base();
        const A = ctx.param(loraName(call.layer, call.site, 'A'));
        const B = ctx.param(loraName(call.layer, call.site, 'B'));
        const m = ctx.param(`dora.${call.layer}.${call.site}.m`);
        const merged = ops.add(call.weight, ops.mul(ops.matmul(B, A), scale)); // [out, in]
        const norm = ops.sqrt(ops.reduceSum(ops.mul(merged, merged), [1])); // [out]
        const mask = ctx.dropoutMask(`dora.${call.layer}.${call.site}`, call.x, p);
        const x = mask ? ops.dropout(call.x, mask, p) : call.x;
        const lin = ops.linear(x, merged);
        return ops.add(ops.mul(lin, ops.div(m, norm)), call.bias);
      },
    }),
  };
}
