// LoRA (Hu et al. 2021) with Hugging Face PEFT semantics: beside a frozen Linear W [out, in],
// y = x W^T + b + s * (dropout(x) A^T B^T + b_B), A [r, in] Kaiming-uniform (bound 1/sqrt(in),
// as PEFT's kaiming_uniform_(a=sqrt(5))), B [out, r] zeros, so training starts at the base model.
// s = alpha / r, or alpha / sqrt(r) with rank-stabilised scaling (rsLoRA, PEFT's use_rslora).
// b_B exists only with PEFT's lora_bias (a bias on lora_B).
//
// Which modules: `targets` x blocks (all, the top k, or an explicit `layers` list) with one r
// and alpha, or an explicit `modules` list with a rank and alpha each (what PEFT's
// rank_pattern / alpha_pattern / regex target_modules produce). `overrides` names backbone
// tensors the adapter replaces (PEFT's bias="all" / "lora_only" biases, modules_to_save).

import { type LinearSite, LINEAR_SITES } from '../esm2/forward.js';
import type { Esm2Config } from '../esm2/config.js';
import { ops } from '../graph/index.js';
import { type PeftMethod, type TrainableSpec, blocksFor, option } from './method.js';
import { lowestOverriddenBlock, overrideHook, overrideParams } from './overrides.js';

export interface LoraModule {
  layer: number;
  site: LinearSite;
  r: number;
  alpha: number;
}

export function linearShape(cfg: Esm2Config, site: LinearSite): { in: number; out: number } {
  const d = cfg.hiddenSize;
  if (site === 'ffn_in') return { in: d, out: cfg.intermediateSize };
  if (site === 'ffn_out') return { in: cfg.intermediateSize, out: d };
  return { in: d, out: d };
}

export function checkTargets(method: string, targets: string[]): LinearSite[] {
  for (const t of targets) if (!LINEAR_SITES.includes(t as LinearSite)) throw new Error(`${method}: unknown target '${t}' (choose from ${LINEAR_SITES.join(', ')})`);
  if (targets.length === 0) throw new Error(`${method}: no target modules`);
  return targets as LinearSite[];
}

export const loraName = (layer: number, site: LinearSite, part: 'A' | 'B' | 'B.bias') => `lora.${layer}.${site}.${part}`;

/** Blocks given as the top k (`topK`) or as an explicit list (`layers`); both is an error. */
export function blocksOf(method: string, cfg: Esm2Config, o: Record<string, unknown>): { blocks: number[]; recorded: Record<string, unknown> } {
  if (o.layers === undefined) return { blocks: blocksFor(cfg, o.topK as number | undefined), recorded: { topK: o.topK ?? cfg.numLayers } };
  if (o.topK !== undefined) throw new Error(`${method}: give topK or layers, not both`);
  const layers = o.layers;
  if (!Array.isArray(layers) || layers.some((l) => !Number.isInteger(l) || l < 0 || l >= cfg.numLayers)) {
    throw new Error(`${method}: option 'layers' must be a list of block numbers 0..${cfg.numLayers - 1}, got ${JSON.stringify(layers)}`);
  }
  const blocks = [...new Set(layers as number[])].sort((a, b) => a - b);
  return { blocks, recorded: { layers: blocks } };
}

function checkModules(method: string, cfg: Esm2Config, v: unknown): LoraModule[] {
  const bad = (why: string) => new Error(`${method}: option 'modules' ${why}`);
  if (!Array.isArray(v) || v.length === 0) throw bad('must be a non-empty list of { layer, site, r, alpha }');
  const seen = new Set<string>();
  return v.map((m: Partial<LoraModule>) => {
    if (typeof m !== 'object' || m === null) throw bad(`has an entry that is not an object: ${JSON.stringify(m)}`);
    if (!Number.isInteger(m.layer) || m.layer! < 0 || m.layer! >= cfg.numLayers) throw bad(`names block ${JSON.stringify(m.layer)}, outside 0..${cfg.numLayers - 1}`);
    if (!LINEAR_SITES.includes(m.site as LinearSite)) throw bad(`names site ${JSON.stringify(m.site)} (choose from ${LINEAR_SITES.join(', ')})`);
    if (!Number.isInteger(m.r) || m.r! < 1) throw bad(`gives rank ${JSON.stringify(m.r)} for ${m.layer}.${m.site}`);
    if (typeof m.alpha !== 'number' || !Number.isFinite(m.alpha)) throw bad(`gives alpha ${JSON.stringify(m.alpha)} for ${m.layer}.${m.site}`);
    const key = `${m.layer}.${m.site}`;
    if (seen.has(key)) throw bad(`lists ${key} twice`);
    seen.add(key);
    return { layer: m.layer!, site: m.site!, r: m.r!, alpha: m.alpha };
  });
}

export interface LoraPlan {
  modules: LoraModule[];
  /** per module, alpha / r (or alpha / sqrt(r) with rslora) */
  scale(m: LoraModule): number;
  dropout: number;
  rslora: boolean;
  loraBias: boolean;
  overrides: string[];
  /** the options as a run records them */
  options: Record<string, unknown>;
  params: TrainableSpec[];
  lowestBlock: number;
}

/** The modules, scales and tensors of a LoRA-family method (lora, dora) from its options. */
export function loraPlan(method: string, cfg: Esm2Config, o: Record<string, unknown>, defaultDropout: number): LoraPlan {
  const r = option(method, o, 'r', 8);
  const alpha = option(method, o, 'alpha', 8);
  const dropout = option(method, o, 'dropout', defaultDropout);
  const rslora = option(method, o, 'rslora', false);
  const loraBias = option(method, o, 'loraBias', false);
  let modules: LoraModule[];
  let options: Record<string, unknown>;
  if (o.modules !== undefined) {
    modules = checkModules(method, cfg, o.modules);
    const targets = LINEAR_SITES.filter((s) => modules.some((m) => m.site === s));
    options = { r, alpha, dropout, targets, layers: [...new Set(modules.map((m) => m.layer))].sort((a, b) => a - b), modules };
  } else {
    const targets = checkTargets(method, option(method, o, 'targets', ['query', 'value']));
    const { blocks, recorded } = blocksOf(method, cfg, o);
    modules = blocks.flatMap((layer) => targets.map((site) => ({ layer, site, r, alpha })));
    options = { r, alpha, dropout, targets, ...recorded };
  }
  const ov = overrideParams(method, cfg, o.overrides);
  if (rslora) options.rslora = true;
  if (loraBias) options.loraBias = true;
  if (ov.names.length) options.overrides = ov.names;
  const params: TrainableSpec[] = [];
  for (const m of modules) {
    const s = linearShape(cfg, m.site);
    params.push({ name: loraName(m.layer, m.site, 'A'), shape: [m.r, s.in], init: { kind: 'uniform', bound: 1 / Math.sqrt(s.in) } });
    params.push({ name: loraName(m.layer, m.site, 'B'), shape: [s.out, m.r], init: { kind: 'zeros' } });
    if (loraBias) params.push({ name: loraName(m.layer, m.site, 'B.bias'), shape: [s.out], init: { kind: 'zeros' }, decay: false });
  }
  params.push(...ov.params);
  const lowestBlock = Math.min(cfg.numLayers, ...modules.map((m) => m.layer), lowestOverriddenBlock(cfg, ov.names));
  return { modules, scale: (m) => (rslora ? m.alpha / Math.sqrt(m.r) : m.alpha / m.r), dropout, rslora, loraBias, overrides: ov.names, options, params, lowestBlock };
}

/** Looks a module of the plan up by block and site. */
export function moduleAt(plan: LoraPlan): (layer: number, site: LinearSite) => LoraModule | undefined {
  const at = new Map(plan.modules.map((m) => [`${m.layer}.${m.site}`, m]));
  return (layer, site) => at.get(`${layer}.${site}`);
}

export function lora(cfg: Esm2Config, o: Record<string, unknown> = {}): PeftMethod {
  const plan = loraPlan('lora', cfg, o, 0.1);
  const find = moduleAt(plan);
  return {
    name: 'lora',
    options: plan.options,
    params: plan.params,
    lowestBlock: plan.lowestBlock,
    hooks: (ctx) => ({
      ...overrideHook(ctx, plan.overrides),
      linear(call) {
        const m = find(call.layer, call.site);
        if (!m) return call.base();
        const mask = ctx.dropoutMask(`lora.${call.layer}.${call.site}`, call.x, plan.dropout);
        const x = mask ? ops.dropout(call.x, mask, plan.dropout) : call.x;
        const A = ctx.param(loraName(m.layer, m.site, 'A'));
        const B = ctx.param(loraName(m.layer, m.site, 'B'));
        let delta = ops.linear(ops.linear(x, A), B);
        if (plan.loraBias) delta = ops.add(delta, ctx.param(loraName(m.layer, m.site, 'B.bias')));
        return ops.add(call.base(), ops.mul(delta, plan.scale(m)));
      },
    }),
  };
}
