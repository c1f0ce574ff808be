// Optimizer steps as graph nodes (AdamW, Adamax, global gradient-norm clipping), so a whole
// training step (forward, backward, clip, update) can run as one session call on the device.
// Semantics follow PyTorch's torch.optim.AdamW and torch.optim.Adamax with bias correction; the
// weight decay of both is decoupled (p <- p * (1 - lr * wd) before the update).

import { type DType, Graph, type Tensor } from './graph.js';
import { abs, add, constant, div, maximum, minimum, mul, pow, reduceSum, sqrt, sub } from './ops.js';

export type OptimizerKind = 'adamw' | 'adamax';

export interface OptimizerConfig {
  kind: OptimizerKind;
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay; a per-parameter override may be given to the update builders. */
  weightDecay: number;
  /** Global gradient-norm clip; 0 or undefined disables clipping. */
  maxGradNorm?: number;
}

export const DEFAULT_ADAMW: OptimizerConfig = { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };
export const DEFAULT_ADAMAX: OptimizerConfig = { kind: 'adamax', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

/** Scales every gradient by min(1, maxNorm / (norm + 1e-6)), norm being the L2 norm over all of them. */
export function clipByGlobalNorm(grads: Tensor[], maxNorm: number): { grads: Tensor[]; norm: Tensor } {
  const sq = grads.map((g) => reduceSum(mul(g, g), g.shape.map((_, i) => i)));
  const norm = sqrt(sq.reduce((a, b) => add(a, b)));
  const scale = minimum(div(maxNorm, add(norm, 1e-6)), 1);
  return { grads: grads.map((g) => mul(g, scale)), norm };
}

export interface StepScalars {
  /** learning rate (scalar input, so schedules need no new graph) */
  lr: Tensor;
  /** 1-based step count as a float scalar */
  step: Tensor;
}

export interface ParamState {
  param: Tensor;
  grad: Tensor;
  /** first moment */
  m: Tensor;
  /** second moment (AdamW) or exponentially weighted infinity norm (Adamax) */
  v: Tensor;
  weightDecay?: number;
}

export interface UpdatedState {
  param: Tensor;
  m: Tensor;
  v: Tensor;
}

export function adamUpdate(cfg: OptimizerConfig, s: StepScalars, p: ParamState): UpdatedState {
  const wd = p.weightDecay ?? cfg.weightDecay;
  const decayed = wd ? mul(p.param, sub(1, mul(s.lr, wd))) : p.param;
  const m = add(mul(p.m, cfg.beta1), mul(p.grad, 1 - cfg.beta1));
  const bc1 = sub(1, pow(constant(s.step.graph, cfg.beta1, s.step.dtype), s.step));
  if (cfg.kind === 'adamw') {
    const v = add(mul(p.v, cfg.beta2), mul(mul(p.grad, p.grad), 1 - cfg.beta2));
    const bc2 = sub(1, pow(constant(s.step.graph, cfg.beta2, s.step.dtype), s.step));
    const denom = add(div(sqrt(v), sqrt(bc2)), cfg.eps);
    const param = sub(decayed, mul(div(s.lr, bc1), div(m, denom)));
    return { param, m, v };
  }
  const u = maximum(mul(p.v, cfg.beta2), add(abs(p.grad), cfg.eps));
  const param = sub(decayed, mul(div(s.lr, bc1), div(m, u)));
  return { param, m, v: u };
}

export interface ParamSpec {
  name: string;
  shape: number[];
  weightDecay?: number;
}

/**
 * A standalone optimizer-step graph. Inputs per parameter: `param.N`, `grad.N`, `m.N`, `v.N`,
 * plus scalars `lr` and `step`. Outputs: `param.N.new`, `m.N.new`, `v.N.new` and, when clipping,
 * `grad_norm` (the norm before clipping).
 */
export function buildOptimizerGraph(cfg: OptimizerConfig, params: ParamSpec[], dtype: DType = 'float32'): { graph: Graph; outputs: Record<string, Tensor> } {
  const g = new Graph(`${cfg.kind}-step`);
  const lr = g.input('lr', dtype, []);
  const step = g.input('step', dtype, []);
  const ins = params.map((p) => ({
    spec: p,
    param: g.input(`param.${p.name}`, dtype, p.shape),
    grad: g.input(`grad.${p.name}`, dtype, p.shape),
    m: g.input(`m.${p.name}`, dtype, p.shape),
    v: g.input(`v.${p.name}`, dtype, p.shape),
  }));
  const outputs: Record<string, Tensor> = {};
  let grads = ins.map((i) => i.grad);
  if (cfg.maxGradNorm) {
    const c = clipByGlobalNorm(grads, cfg.maxGradNorm);
    grads = c.grads;
    outputs.grad_norm = c.norm;
  }
  ins.forEach((i, k) => {
    const u = adamUpdate(cfg, { lr, step }, { param: i.param, grad: grads[k], m: i.m, v: i.v, weightDecay: i.spec.weightDecay });
    outputs[`param.${i.spec.name}.new`] = u.param;
    outputs[`m.${i.spec.name}.new`] = u.m;
    outputs[`v.${i.spec.name}.new`] = u.v;
  });
  return { graph: g, outputs };
}
