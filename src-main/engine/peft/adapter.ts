// Bottleneck adapters: a(h) = W_up act(W_down h + b_down) + b_up, W_up zero-initialised so
// training starts at the base model.
//  - pfeiffer: after the feed-forward block (h + a(h) before the residual add)
//  - houlsby:  after the attention output and after the feed-forward block (PEFT-SP's setting)
//  - parallel: beside the feed-forward block, fed by its LayerNorm input (h + s a(LN(x)))

import type { Esm2Config } from '../esm2/config.js';
import { type Tensor, ops } from '../graph/index.js';
import { type HookContext, type PeftMethod, type TrainableSpec, blocksFor, option } from './method.js';

const VARIANTS = ['houlsby', 'pfeiffer', 'parallel'] as const;
const ACTIVATIONS = { relu: ops.relu, gelu: ops.gelu, tanh: ops.tanh } as const;

export function adapter(cfg: Esm2Config, o: Record<string, unknown> = {}): PeftMethod {
  const variant = option('adapter', o, 'variant', 'houlsby') as (typeof VARIANTS)[number];
  if (!VARIANTS.includes(variant)) throw new Error(`adapter: unknown variant '${variant}' (choose from ${VARIANTS.join(', ')})`);
  const size = option('adapter', o, 'size', 64);
  const act = option('adapter', o, 'activation', 'relu') as keyof typeof ACTIVATIONS;
  if (!(act in ACTIVATIONS)) throw new Error(`adapter: unknown activation '${act}' (choose from ${Object.keys(ACTIVATIONS).join(', ')})`);
  const scale = option('adapter', o, 'scale', 1);
  const blocks = blocksFor(cfg, o.topK as number | undefined);
  const D = cfg.hiddenSize;
  const places = variant === 'houlsby' ? ['attn', 'ffn'] : ['ffn'];
  const params: TrainableSpec[] = [];
  for (const l of blocks)
    for (const at of places) {
      const p = `adapter.${l}.${at}`;
      params.push({ name: `${p}.down.weight`, shape: [size, D], init: { kind: 'normal', std: 1e-2 } });
      params.push({ name: `${p}.down.bias`, shape: [size], init: { kind: 'zeros' }, decay: false });
      params.push({ name: `${p}.up.weight`, shape: [D, size], init: { kind: 'zeros' } });
      params.push({ name: `${p}.up.bias`, shape: [D], init: { kind: 'zeros' }, decay: false });
    }
  const apply = (ctx: HookContext, p: string, h: Tensor) => {
    const down = ops.linear(h, ctx.param(`${p}.down.weight`), ctx.param(`${p}.down.bias`));
    return ops.linear(ACTIVATIONS[act](down), ctx.param(`${p}.up.weight`), ctx.param(`${p}.up.bias`));
  };
  return {
    name: 'adapter',
    options: { variant, size, activation: act, scale, topK: o.topK ?? cfg.numLayers },
    params,
    lowestBlock: blocks[0] ?? cfg.numLayers,
    hooks: (ctx) => ({
      attentionOutput: (layer, h) => (variant === 'houlsby' && blocks.includes(layer) ? ops.add(h, apply(ctx, `adapter.${layer}.attn`, h)) : h),
      ffnOutput(layer, h, input) {
        if (!blocks.includes(layer)) return h;
        if (variant === 'parallel') return ops.add(h, ops.mul(apply(ctx, `adapter.${layer}.ffn`, input), scale));
        return ops.add(h, apply(ctx, `adapter.${layer}.ffn`, h));
      },
    }),
  };
}
