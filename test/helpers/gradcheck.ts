// Central finite differences against the gradients the autodiff emits. The loss is
// sum(out * R) with a fixed random R, so every output element contributes with its own weight.
import * as ort from 'onnxruntime-node';
import { type Dim, Graph, type Tensor, gradients, ops, serialize } from '../../src-main/engine/graph/index.js';
import { stream } from '../../src-main/engine/train/rng.js';

ort.env.logLevel = 'fatal';

/** Seeded uniform numbers for test inputs (the engine's generator, its own stream). */
export const rng = (seed: number): (() => number) => stream(seed, 'test');

export interface InputSpec {
  shape: number[];
  /** dims declared in the graph (symbols allowed); default: shape */
  declared?: Dim[];
  /** value range: 'signed' [-1,1] (default), 'positive' [0.5,1.5], 'away' |x| in [0.3,1] */
  range?: 'signed' | 'positive' | 'away';
  /** no gradient requested for this input */
  constant?: boolean;
}

export interface GradCheckOptions {
  dtype?: 'float64' | 'float32';
  h?: number;
  rtol?: number;
  atol?: number;
  seed?: number;
  /** float64 forward in JS for ops without float64 kernels; returns the op output, row-major */
  forward64?: (inputs: Float64Array[]) => Float64Array;
  /** run-time output shape, required when the output has symbolic dims */
  outShape?: number[];
}

export interface GradCheckResult {
  maxError: number;
  worst: string;
  checked: number;
}

function sample(spec: InputSpec, r: () => number): Float64Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  return Float64Array.from({ length: n }, () => {
    const u = r();
    if (spec.range === 'positive') return 0.5 + u;
    if (spec.range === 'away') return (r() < 0.5 ? -1 : 1) * (0.3 + 0.7 * u);
    return 2 * u - 1;
  });
}

export async function gradCheck(build: (g: Graph, xs: Tensor[]) => Tensor, specs: InputSpec[], o: GradCheckOptions = {}): Promise<GradCheckResult> {
  const dtype = o.dtype ?? 'float64';
  const h = o.h ?? (dtype === 'float64' ? 1e-6 : 1e-3);
  const rtol = o.rtol ?? (dtype === 'float64' ? 1e-6 : 1e-3);
  const atol = o.atol ?? (dtype === 'float64' ? 1e-8 : 1e-4);
  const r = rng(o.seed ?? 7);

  const g = new Graph('gradcheck');
  const xs = specs.map((s, i) => g.input(`x${i}`, dtype, s.declared ?? s.shape));
  const out = build(g, xs);
  const symbolic = out.shape.some((d) => typeof d !== 'number');
  if (symbolic && !o.outShape) throw new Error(`gradCheck: output ${out} has symbolic dims; pass outShape`);
  const outShape = o.outShape ?? (out.shape as number[]);
  const nOut = outShape.reduce((a, b) => a * b, 1);
  const weights = Array.from({ length: nOut }, () => 2 * r() - 1);
  // Symbolic outputs get their weights as an input declared with the same symbolic shape.
  const R = symbolic ? g.input('R', dtype, out.shape) : ops.constant(g, weights, dtype, outShape);
  const loss = ops.sumAll(ops.mul(out, R));
  const wrtIdx = specs.map((s, i) => (s.constant ? -1 : i)).filter((i) => i >= 0);
  const grads = gradients(loss, wrtIdx.map((i) => xs[i]));
  const gradOutputs = Object.fromEntries(grads.map((t, k) => [`g${k}`, t]));

  const values = specs.map((s) => sample(s, r));
  const typed = (v: ArrayLike<number>) => (dtype === 'float64' ? Float64Array.from(v) : Float32Array.from(v));
  const feed = (vals: Float64Array[]) => ({
    R: new ort.Tensor(dtype, typed(weights), outShape),
    ...Object.fromEntries(vals.map((v, i) => [`x${i}`, new ort.Tensor(dtype, typed(v), specs[i].shape)])),
  });

  const bwd = await ort.InferenceSession.create(serialize(g, { outputs: gradOutputs }).model);
  const pick = (names: readonly string[], f: Record<string, ort.Tensor>) => Object.fromEntries(names.map((n) => [n, f[n]]));
  const analytic = await bwd.run(pick(bwd.inputNames, feed(values)));

  let lossAt: (vals: Float64Array[]) => Promise<number>;
  if (o.forward64) {
    lossAt = async (vals) => {
      const y = o.forward64!(vals);
      let s = 0;
      for (let i = 0; i < y.length; i++) s += y[i] * weights[i];
      return s;
    };
  } else {
    const fwd = await ort.InferenceSession.create(serialize(g, { outputs: { loss } }).model);
    lossAt = async (vals) => Number((await fwd.run(pick(fwd.inputNames, feed(vals)))).loss.data[0]);
  }

  let maxError = 0;
  let worst = '';
  let checked = 0;
  for (let k = 0; k < wrtIdx.length; k++) {
    const i = wrtIdx[k];
    const a = analytic[`g${k}`].data as Float64Array | Float32Array;
    for (let j = 0; j < values[i].length; j++) {
      const plus = values.map((v) => Float64Array.from(v));
      const minus = values.map((v) => Float64Array.from(v));
      plus[i][j] += h;
      minus[i][j] -= h;
      const fd = ((await lossAt(plus)) - (await lossAt(minus))) / (2 * h);
      const err = Math.abs(a[j] - fd) / (atol + rtol * Math.max(Math.abs(a[j]), Math.abs(fd)));
      checked++;
      if (err > maxError) {
        maxError = err;
        worst = `input x${i}[${j}]: analytic ${a[j]}, finite difference ${fd}`;
      }
    }
  }
  return { maxError, worst, checked };
}
