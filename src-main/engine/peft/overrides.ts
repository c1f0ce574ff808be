// Backbone tensors an adapter replaces outright, e.g. the biases a Hugging Face PEFT LoRA saves
// with bias="all" or "lora_only", or a LayerNorm listed in modules_to_save. Each one is a
// parameter `override.<name>` (initialised from the frozen weight) that the forward graph uses
// in place of the checkpoint's tensor, through the `weight` hook.
import type { Esm2Config } from '../esm2/config.js';
import type { Esm2Hooks } from '../esm2/forward.js';
import { expectedEsm2Shapes } from '../esm2/weights.js';
import type { HookContext, TrainableSpec } from './method.js';

export const overrideName = (weight: string) => `override.${weight}`;

/** Checks the option and returns the specs of the replaced tensors (canonical names, no `esm.`). */
export function overrideParams(method: string, cfg: Esm2Config, names: unknown): { names: string[]; params: TrainableSpec[] } {
  if (names === undefined) return { names: [], params: [] };
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) throw new Error(`${method}: option 'overrides' must be a list of weight names, got ${JSON.stringify(names)}`);
  const shapes = expectedEsm2Shapes(cfg);
  const params = (names as string[]).map((n): TrainableSpec => {
    const shape = shapes.get(n);
    if (!shape || n.endsWith('inv_freq')) throw new Error(`${method}: '${n}' is not a weight of this ESM-2 model`);
    return { name: overrideName(n), shape, decay: false, init: { kind: 'computed', compute: (w) => w.read(n) } };
  });
  return { names: names as string[], params };
}

/** The lowest block whose outputs a replaced tensor changes (embeddings: 0; after the blocks: L). */
export function lowestOverriddenBlock(cfg: Esm2Config, names: readonly string[]): number {
  let low = cfg.numLayers;
  for (const n of names) {
    const m = /^encoder\.layer\.(\d+)\./.exec(n);
    low = Math.min(low, m ? Number(m[1]) : n.startsWith('embeddings.') ? 0 : cfg.numLayers);
  }
  return low;
}

export function overrideHook(ctx: HookContext, names: readonly string[]): Pick<Esm2Hooks, 'weight'> {
  if (names.length === 0) return {};
  const set = new Set(names);
  return { weight: (n) => (set.has(n) ? ctx.param(overrideName(n)) : null) };
}
