// A tiny MLP trained end to end through a generated training graph (loss + gradients) and a
// generated AdamW step graph, on two concentric rings (not linearly separable).
import { expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { DEFAULT_ADAMW, Graph, buildOptimizerGraph, gradients, ops, serialize } from '../../src-main/engine/graph/index.js';
import { rng } from '../helpers/gradcheck.js';

it('reaches at least 95% training accuracy on a two-class problem', async () => {
  const r = rng(11);
  const N = 256;
  const xs = new Float32Array(N * 2);
  const ys = new Float32Array(N * 2);
  const labels: number[] = [];
  for (let i = 0; i < N; i++) {
    const c = i % 2;
    const rad = (c ? 2 : 0.8) + 0.3 * (r() - 0.5);
    const a = 2 * Math.PI * r();
    xs[2 * i] = rad * Math.cos(a);
    xs[2 * i + 1] = rad * Math.sin(a);
    ys[2 * i + c] = 1;
    labels.push(c);
  }
  const H = 16;
  const shapes: Record<string, number[]> = { w1: [2, H], b1: [H], w2: [H, H], b2: [H], w3: [H, 2], b3: [2] };

  const g = new Graph('mlp');
  const x = g.input('x', 'float32', ['N', 2]);
  const y = g.input('y', 'float32', ['N', 2]);
  const p = Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, g.input(k, 'float32', s)]));
  const h1 = ops.tanh(ops.add(ops.matmul(x, p.w1), p.b1));
  const h2 = ops.tanh(ops.add(ops.matmul(h1, p.w2), p.b2));
  const logits = ops.add(ops.matmul(h2, p.w3), p.b3);
  const loss = ops.neg(ops.reduceMean(ops.reduceSum(ops.mul(ops.logSoftmax(logits, -1), y), [1]), [0]));
  const names = Object.keys(shapes);
  const grads = gradients(loss, names.map((k) => p[k]));
  const train = await ort.InferenceSession.create(
    serialize(g, { outputs: { loss, logits, ...Object.fromEntries(names.map((k, i) => [`grad.${k}`, grads[i]])) } }).model,
  );
  const opt = buildOptimizerGraph({ ...DEFAULT_ADAMW, weightDecay: 0 }, names.map((name) => ({ name, shape: shapes[name] })));
  const step = await ort.InferenceSession.create(serialize(opt.graph, { outputs: opt.outputs }).model);

  const tensor = (d: Float32Array, s: number[]) => new ort.Tensor('float32', d, s);
  const params: Record<string, ort.Tensor> = {};
  const moments: Record<string, ort.Tensor> = {};
  for (const k of names) {
    const n = shapes[k].reduce((a, b) => a * b, 1);
    const scale = k.startsWith('w') ? 1 / Math.sqrt(shapes[k][0]) : 0;
    params[k] = tensor(Float32Array.from({ length: n }, () => scale * (2 * r() - 1) * 1.7), shapes[k]);
    moments[`m.${k}`] = tensor(new Float32Array(n), shapes[k]);
    moments[`v.${k}`] = tensor(new Float32Array(n), shapes[k]);
  }
  let first = 0;
  let last = 0;
  let out: Record<string, ort.Tensor> = {};
  for (let t = 1; t <= 300; t++) {
    out = await train.run({ x: tensor(xs, [N, 2]), y: tensor(ys, [N, 2]), ...params });
    if (t === 1) first = Number(out.loss.data[0]);
    last = Number(out.loss.data[0]);
    const feeds: Record<string, ort.Tensor> = { lr: tensor(Float32Array.of(0.03), []), step: tensor(Float32Array.of(t), []) };
    for (const k of names) Object.assign(feeds, { [`param.${k}`]: params[k], [`grad.${k}`]: out[`grad.${k}`], [`m.${k}`]: moments[`m.${k}`], [`v.${k}`]: moments[`v.${k}`] });
    const upd = await step.run(feeds);
    for (const k of names) {
      params[k] = upd[`param.${k}.new`];
      moments[`m.${k}`] = upd[`m.${k}.new`];
      moments[`v.${k}`] = upd[`v.${k}.new`];
    }
  }
  out = await train.run({ x: tensor(xs, [N, 2]), y: tensor(ys, [N, 2]), ...params });
  const lg = out.logits.data as Float32Array;
  const correct = labels.filter((c, i) => (lg[2 * i + 1] > lg[2 * i] ? 1 : 0) === c).length;
  expect(last).toBeLessThan(first / 4);
  expect(correct / N).toBeGreaterThanOrEqual(0.95);
});
