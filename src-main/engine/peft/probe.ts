// Frozen-feature probe: the backbone is untouched; only the task head trains. Every block is
// frozen, so the final representations are computed once per sequence and reused.
import type { Esm2Config } from '../esm2/config.js';
import type { PeftMethod } from './method.js';

export function probe(cfg: Esm2Config): PeftMethod {
  return { name: 'probe', options: {}, params: [], lowestBlock: cfg.numLayers, hooks: () => ({}) };
}
