import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { type OptimizerConfig, buildOptimizerGraph, serialize } from '../../src-main/engine/graph/index.js';
import { rng } from '../helpers/gradcheck.js';

/** torch.optim.AdamW / Adamax (decoupled decay) in float64, one step. */
function reference(cfg: OptimizerConfig, p: number[], g: number[], m: number[], v: number[], t: number, lr: number, wd: number) {
  const out = { p: [...p], m: [...m], v: [...v] };
  for (let i = 0; i < p.length; i++) {
    out.p[i] = p[i] * (1 - lr * wd);
    out.m[i] = cfg.beta1 * m[i] + (1 - cfg.beta1) * g[i];
    if (cfg.kind === 'adamw') {
      out.v[i] = cfg.beta2 * v[i] + (1 - cfg.beta2) * g[i] * g[i];
      const mhat = out.m[i] / (1 - cfg.beta1 ** t);
      const vhat = out.v[i] / (1 - cfg.beta2 ** t);
      out.p[i] -= (lr * mhat) / (Math.sqrt(vhat) + cfg.eps);
    } else {
      out.v[i] = Math.max(cfg.beta2 * v[i], Math.abs(g[i]) + cfg.eps);
      out.p[i] -= (lr / (1 - cfg.beta1 ** t)) * (out.m[i] / out.v[i]);
    }
  }
  return out;
}

async function step(cfg: OptimizerConfig, shapes: number[][], seed: number) {
  const r = rng(seed);
  const rand = (n: number, lo = -1, hi = 1) => Array.from({ length: n }, () => lo + (hi - lo) * r());
  const { graph, outputs } = buildOptimizerGraph(cfg, shapes.map((shape, i) => ({ name: `w${i}`, shape })));
  const s = await ort.InferenceSession.create(serialize(graph, { outputs }).model);
  const t = 3;
  const lr = 0.01;
  const state = shapes.map((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return { shape, p: rand(n), g: rand(n, -3, 3), m: rand(n, -0.1, 0.1), v: rand(n, 0, 0.05) };
  });
  const f32 = (v: number[], shape: number[]) => new ort.Tensor('float32', Float32Array.from(v), shape);
  const feeds: Record<string, ort.Tensor> = { lr: f32([lr], []), step: f32([t], []) };
  state.forEach((st, i) => {
    feeds[`param.w${i}`] = f32(st.p, st.shape);
    feeds[`grad.w${i}`] = f32(st.g, st.shape);
    feeds[`m.w${i}`] = f32(st.m, st.shape);
    feeds[`v.w${i}`] = f32(st.v, st.shape);
  });
  const res = await s.run(feeds);
  // float32 inputs, as the graph saw them, for the float64 reference
  const as32 = (v: number[]) => Array.from(Float32Array.from(v));
  let scale = 1;
  if (cfg.maxGradNorm) {
    const norm = Math.sqrt(state.reduce((acc, st) => acc + as32(st.g).reduce((a, x) => a + x * x, 0), 0));
    scale = Math.min(1, cfg.maxGradNorm / (norm + 1e-6));
    expect(Number(res.grad_norm.data[0])).toBeCloseTo(norm, 4);
  }
  let worst = 0;
  state.forEach((st, i) => {
    const ref = reference(cfg, as32(st.p), as32(st.g).map((x) => x * scale), as32(st.m), as32(st.v), t, Math.fround(lr), cfg.weightDecay);
    for (const [key, name] of [['p', 'param'], ['m', 'm'], ['v', 'v']] as const) {
      const got = res[`${name}.w${i}.new`].data as Float32Array;
      ref[key].forEach((x, j) => (worst = Math.max(worst, Math.abs(got[j] - x))));
    }
  });
  return worst;
}

describe('optimizer-step graphs vs float64 reference', () => {
  it('AdamW with decoupled weight decay matches to 1e-6', async () => {
    expect(await step({ kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 }, [[4, 3], [5]], 1)).toBeLessThanOrEqual(1e-6);
  });
  it('Adamax matches to 1e-6', async () => {
    expect(await step({ kind: 'adamax', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05 }, [[4, 3], [5]], 2)).toBeLessThanOrEqual(1e-6);
  });
  it('global gradient-norm clipping scales all gradients together', async () => {
    expect(await step({ kind: 'adamw', beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0, maxGradNorm: 0.25 }, [[6, 2], [3]], 3)).toBeLessThanOrEqual(1e-6);
  });
  it('the reference itself differs when weight decay is coupled (sanity of the comparison)', async () => {
    const cfg: OptimizerConfig = { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.5 };
    const a = reference(cfg, [1], [0.1], [0], [0], 1, 0.1, 0.5).p[0];
    const coupled = reference({ ...cfg, weightDecay: 0 }, [1], [0.1 + 0.5], [0], [0], 1, 0.1, 0).p[0];
    expect(Math.abs(a - coupled)).toBeGreaterThan(1e-3);
  });
});
