// LoRA (Hu et al. 2021) with Hugging Face PEFT semantics: beside a frozen Linear W [out, in],
// y = x W^T + b + (alpha / r) * dropout(x) A^T B^T, A [r, in] Kaiming-uniform (bound 1/sqrt(in),
// as PEFT's kaiming_uniform_(a=sqrt(5))), B [out, r] zeros, so training starts at the base model.

import { type LinearSite, LINEAR_SITES } from '../esm2/forward.js';
import type { Esm2Config } from '../esm2/config.js';
import { ops } from '../graph/index.js';
import { type PeftMethod, type TrainableSpec, blocksFor, option } from './method.js';

export interface LoraOptions {
  r?: number;
  alpha?: number;
  dropout?: number;
  targets?: LinearSite[];
  topK?: number;
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

export const loraName = (layer: number, site: LinearSite, part: 'A' | 'B') => `lora.${layer}.${site}.${part}`;

export function loraParams(cfg: Esm2Config, blocks: number[], targets: LinearSite[], r: number): TrainableSpec[] {
  const params: TrainableSpec[] = [];
  for (const l of blocks)
    for (const site of targets) {
      const s = linearShape(cfg, site);
      params.push({ name: loraName(l, site, 'A'), shape: [r, s.in], init: { kind: 'uniform', bound: 1 / Math.sqrt(s.in) } });
      params.push({ name: loraName(l, site, 'B'), shape: [s.out, r], init: { kind: 'zeros' } });
    }
  return params;
}

export function lora(cfg: Esm2Config, o: Record<string, unknown> = {}): PeftMethod {
  const r = option('lora', o, 'r', 8);
  const alpha = option('lora', o, 'alpha', 8);
  const p = option('lora', o, 'dropout', 0.1);
  const targets = checkTargets('lora', option('lora', o, 'targets', ['query', 'value']));
  const blocks = blocksFor(cfg, o.topK as number | undefined);
  const scale = alpha / r;
  return {
    name: 'lora',
    options: { r, alpha, dropout: p, targets, topK: o.topK ?? cfg.numLayers },
    params: loraParams(cfg, blocks, targets, r),
    lowestBlock: blocks[0] ?? cfg.numLayers,
    hooks: (ctx) => ({
      linear(call) {
        if (!blocks.includes(call.layer) || !targets.includes(call.site)) return call.base();
        const mask = ctx.dropoutMask(`lora.${call.layer}.${call.site}`, call.x, p);
        const x = mask ? ops.dropout(call.x, mask, p) : call.x;
        const A = ctx.param(loraName(call.layer, call.site, 'A'));
        const B = ctx.param(loraName(call.layer, call.site, 'B'));
        const delta = ops.linear(ops.linear(x, A), B);
        return ops.add(call.base(), ops.mul(delta, scale));
      },
    }),
  };
}
