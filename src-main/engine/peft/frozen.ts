// A new task head over another run's adapter, which stays as it is: the probe method with the
// adapter's hooks and tensors as graph constants (never trained, never fed). Every block is
// frozen, so with reuse the trainer's feature graph runs the whole adapted backbone once per
// sequence (it applies the constants' hooks too); the training graph then starts after the last
// block, where only the final LayerNorm is left, so it keeps only the `weight` hook (an adapter
// may replace that LayerNorm's tensors) and leaves the prompt rows to the feature graph.
import type { Esm2Config } from '../esm2/config.js';
import type { TensorMap } from '../train/checkpoint.js';
import type { PeftMethod } from './method.js';

export function overFrozenAdapter(cfg: Esm2Config, adapter: PeftMethod, values: TensorMap): PeftMethod {
  const constants: TensorMap = new Map(adapter.constants ?? []);
  for (const p of adapter.params) {
    const v = values.get(p.name);
    if (!v) throw new Error(`frozen adapter: no value for '${p.name}'`);
    constants.set(p.name, v);
  }
  return {
    name: 'probe',
    options: {},
    params: [],
    constants,
    lowestBlock: cfg.numLayers,
    hooks(ctx) {
      const h = adapter.hooks(ctx);
      if (ctx.fromLayer < cfg.numLayers) return h;
      return h.weight ? { weight: h.weight } : {};
    },
  };
}
