// IA3 (Liu et al. 2022) with Hugging Face PEFT semantics: a learned rescaling vector per adapted
// Linear, initialised to ones. A module either scales its output (l ⊙ (x W^T + b), l [out]) or,
// as PEFT's feed-forward modules do, its input (W (l ⊙ x) + b, l [in]).
//
// Targets name a site and, for input scaling, `.in`: `key`, `value` (output scaling) and `ffn`
// (input scaling of the feed-forward output projection) are the method's classic three and the
// training options; PEFT adapters may use any of `query`, `key`, `value`, `attn_out`, `ffn_in`,
// `ffn_out`, with `.in` for input scaling (`ffn` stands for `ffn_out.in`). Which modules:
// `targets` x blocks (all, top k, or `layers`), or an explicit `modules` list when the blocks
// differ per target. `overrides` as for LoRA (modules_to_save tensors).

import type { Esm2Config } from '../esm2/config.js';
import { type LinearSite, LINEAR_SITES } from '../esm2/forward.js';
import { ops } from '../graph/index.js';
import { blocksOf, linearShape } from './lora.js';
import { type PeftMethod, type TrainableSpec, option } from './method.js';
import { lowestOverriddenBlock, overrideHook, overrideParams } from './overrides.js';

export type Ia3Target = string;
export const ia3Name = (layer: number, t: Ia3Target) => `ia3.${layer}.${t}`;

/** The site a target adapts and whether it scales the input. */
export function ia3Target(t: string): { site: LinearSite; input: boolean } | null {
  if (t === 'ffn') return { site: 'ffn_out', input: true };
  const m = /^([a-z_]+?)(\.in)?$/.exec(t);
  if (!m || !LINEAR_SITES.includes(m[1] as LinearSite) || t === 'ffn_out.in') return null;
  return { site: m[1] as LinearSite, input: m[2] !== undefined };
}

export const ia3TargetOf = (site: LinearSite, input: boolean): Ia3Target => (site === 'ffn_out' && input ? 'ffn' : input ? `${site}.in` : site);

export interface Ia3Module {
  layer: number;
  target: Ia3Target;
}

function checkTarget(t: unknown): string {
  if (typeof t !== 'string' || !ia3Target(t)) throw new Error(`ia3: unknown target ${JSON.stringify(t)} (key, value, ffn; or a site ${LINEAR_SITES.join(', ')}, with .in for input scaling)`);
  return t;
}

export interface Ia3Plan {
  modules: (Ia3Module & { site: LinearSite; input: boolean })[];
  options: Record<string, unknown>;
  params: TrainableSpec[];
  overrides: string[];
  lowestBlock: number;
}

/** The modules, scaling sides and tensors of an IA3 method from its options. */
export function ia3Plan(cfg: Esm2Config, o: Record<string, unknown>): Ia3Plan {
  let modules: Ia3Module[];
  let options: Record<string, unknown>;
  if (o.modules !== undefined) {
    if (!Array.isArray(o.modules) || o.modules.length === 0) throw new Error(`ia3: option 'modules' must be a non-empty list of { layer, target }`);
    const seen = new Set<string>();
    modules = o.modules.map((m: Partial<Ia3Module>) => {
      if (!Number.isInteger(m?.layer) || m.layer! < 0 || m.layer! >= cfg.numLayers) throw new Error(`ia3: option 'modules' names block ${JSON.stringify(m?.layer)}, outside 0..${cfg.numLayers - 1}`);
      const target = checkTarget(m.target);
      const site = `${m.layer}.${ia3Target(target)!.site}`;
      if (seen.has(site)) throw new Error(`ia3: option 'modules' scales ${site} twice`);
      seen.add(site);
      return { layer: m.layer!, target };
    });
    options = { targets: [...new Set(modules.map((m) => m.target))], layers: [...new Set(modules.map((m) => m.layer))].sort((a, b) => a - b), modules };
  } else {
    const targets = option('ia3', o, 'targets', ['key', 'value', 'ffn']).map(checkTarget);
    if (new Set(targets.map((t) => ia3Target(t)!.site)).size !== targets.length) throw new Error(`ia3: targets ${targets.join(', ')} scale one module twice`);
    const { blocks, recorded } = blocksOf('ia3', cfg, o);
    modules = blocks.flatMap((layer) => targets.map((target) => ({ layer, target })));
    options = { targets, ...recorded };
  }
  const ov = overrideParams('ia3', cfg, o.overrides);
  if (ov.names.length) options.overrides = ov.names;
  const full = modules.map((m) => ({ ...m, ...ia3Target(m.target)! }));
  const params: TrainableSpec[] = full.map((m) => {
    const s = linearShape(cfg, m.site);
    return { name: ia3Name(m.layer, m.target), shape: [m.input ? s.in : s.out], init: { kind: 'ones' }, decay: false };
  });
  params.push(...ov.params);
  const lowestBlock = Math.min(cfg.numLayers, ...modules.map((m) => m.layer), lowestOverriddenBlock(cfg, ov.names));
  return { modules: full, options, params, overrides: ov.names, lowestBlock };
}

export function ia3(cfg: Esm2Config, o: Record<string, unknown> = {}): PeftMethod {
  const plan = ia3Plan(cfg, o);
  const at = new Map(plan.modules.map((m) => [`${m.layer}.${m.site}`, m]));
  return {
    name: 'ia3',
    options: plan.options,
    params: plan.params,
    lowestBlock: plan.lowestBlock,
    hooks: (ctx) => ({
      ...overrideHook(ctx, plan.overrides),
      linear(call) {
        const m = at.get(`${call.layer}.${call.site}`);
        if (!m) return call.base();
        const l = ctx.param(ia3Name(m.layer, m.target));
        return m.input ? call.base(undefined, ops.mul(call.x, l)) : ops.mul(call.base(), l);
      },
    }),
  };
}
