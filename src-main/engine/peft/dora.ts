// DoRA (Liu et al. 2024): LoRA plus a learned magnitude per output row.
// W' = W + s B A;  y = (m / ||W'||_row) * (x W'^T) + b, m initialised to ||W||_row.
// The row norm is differentiated (PEFT detaches it to save memory; here gradients are exact).
// Modules, ranks and scales come from the same plan as LoRA (lora.ts loraPlan).

import { ops } from '../graph/index.js';
import { readTensorRowNorms } from './init-from-weights.js';
import { linearShape, loraName, loraPlan, moduleAt } from './lora.js';
import type { PeftMethod } from './method.js';
import { overrideHook } from './overrides.js';
import type { Esm2Config } from '../esm2/config.js';
import { HF_LINEAR_NAME, type LinearSite } from '../esm2/forward.js';

export const doraMagnitudeName = (layer: number, site: LinearSite) => `dora.${layer}.${site}.m`;

export function dora(cfg: Esm2Config, o: Record<string, unknown> = {}): PeftMethod {
  const plan = loraPlan('dora', cfg, o, 0.0);
  if (plan.loraBias) throw new Error('dora: a bias on lora_B (loraBias) is not part of DoRA');
  const find = moduleAt(plan);
  const params = [...plan.params];
  for (const m of plan.modules)
    params.push({
      name: doraMagnitudeName(m.layer, m.site), shape: [linearShape(cfg, m.site).out], decay: false,
      init: { kind: 'computed', compute: (w) => readTensorRowNorms(w, `encoder.layer.${m.layer}.${HF_LINEAR_NAME[m.site]}.weight`) },
    });
  return {
    name: 'dora',
    options: plan.options,
    params,
    lowestBlock: plan.lowestBlock,
    hooks: (ctx) => ({
      ...overrideHook(ctx, plan.overrides),
      linear(call) {
        const mod = find(call.layer, call.site);
        if (!mod) return call.base();
        const A = ctx.param(loraName(call.layer, call.site, 'A'));
        const B = ctx.param(loraName(call.layer, call.site, 'B'));
        const m = ctx.param(doraMagnitudeName(call.layer, call.site));
        const merged = ops.add(call.weight, ops.mul(ops.matmul(B, A), plan.scale(mod))); // [out, in]
        const norm = ops.sqrt(ops.reduceSum(ops.mul(merged, merged), [1])); // [out]
        const mask = ctx.dropoutMask(`dora.${call.layer}.${call.site}`, call.x, plan.dropout);
        const x = mask ? ops.dropout(call.x, mask, plan.dropout) : call.x;
        const lin = ops.linear(x, merged);
        return ops.add(ops.mul(lin, ops.div(m, norm)), call.bias);
      },
    }),
  };
}
