// Every gradient rule against central finite differences, float64 wherever onnxruntime has
// float64 kernels (Erf and Conv have none: Erf's gradient graph runs in float64 against a JS
// float64 erf, Conv's in float32 against finite differences of a float64 JS convolution).
import { afterEach, describe, expect, it } from 'vitest';
import { type Graph, type Tensor, END, contrib, gradRules, ops } from '../../src-main/engine/graph/index.js';
import { erf64 } from '../helpers/esm2-reference64.js';
import { type GradCheckOptions, type InputSpec, gradCheck } from '../helpers/gradcheck.js';

interface Case {
  rule: string;
  name: string;
  specs: InputSpec[];
  build: (g: Graph, x: Tensor[]) => Tensor;
  opts?: GradCheckOptions;
}

function conv1dRef(x: Float64Array, w: Float64Array, b: Float64Array, [N, C, L]: number[], [M, , K]: number[], pad: number): Float64Array {
  const Lo = L + 2 * pad - K + 1;
  const y = new Float64Array(N * M * Lo);
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++)
      for (let l = 0; l < Lo; l++) {
        let s = b[m];
        for (let c = 0; c < C; c++)
          for (let k = 0; k < K; k++) {
            const p = l + k - pad;
            if (p >= 0 && p < L) s += w[(m * C + c) * K + k] * x[(n * C + c) * L + p];
          }
        y[(n * M + m) * Lo + l] = s;
      }
  return y;
}

const S = (shape: number[], extra: Partial<InputSpec> = {}): InputSpec => ({ shape, ...extra });

const cases: Case[] = [
  { rule: 'Identity', name: 'identity', specs: [S([3, 4])], build: (_g, [x]) => ops.identity(x) },
  { rule: 'Add', name: 'broadcast row', specs: [S([3, 4]), S([4])], build: (_g, [a, b]) => ops.add(a, b) },
  { rule: 'Add', name: 'broadcast both', specs: [S([2, 1, 4]), S([3, 1])], build: (_g, [a, b]) => ops.add(a, b) },
  { rule: 'Add', name: 'symbolic batch', specs: [S([2, 4], { declared: ['B', 4] }), S([1, 4])], build: (_g, [a, b]) => ops.add(a, b), opts: { outShape: [2, 4] } },
  { rule: 'Sub', name: 'outer broadcast', specs: [S([3, 1]), S([1, 4])], build: (_g, [a, b]) => ops.sub(a, b) },
  { rule: 'Mul', name: 'broadcast middle', specs: [S([2, 3, 4]), S([3, 1])], build: (_g, [a, b]) => ops.mul(a, b) },
  { rule: 'Mul', name: 'same tensor twice', specs: [S([3, 4])], build: (_g, [a]) => ops.mul(a, a) },
  { rule: 'Div', name: 'broadcast divisor', specs: [S([3, 4]), S([4], { range: 'positive' })], build: (_g, [a, b]) => ops.div(a, b) },
  { rule: 'Pow', name: 'base and exponent', specs: [S([3, 4], { range: 'positive' }), S([4])], build: (_g, [a, b]) => ops.pow(a, b) },
  { rule: 'Min', name: 'broadcast', specs: [S([3, 4]), S([4])], build: (_g, [a, b]) => ops.minimum(a, b) },
  { rule: 'Max', name: 'broadcast', specs: [S([3, 4]), S([3, 1])], build: (_g, [a, b]) => ops.maximum(a, b) },
  { rule: 'Neg', name: 'neg', specs: [S([3, 4])], build: (_g, [x]) => ops.neg(x) },
  { rule: 'Abs', name: 'abs', specs: [S([3, 4], { range: 'away' })], build: (_g, [x]) => ops.abs(x) },
  { rule: 'Sqrt', name: 'sqrt', specs: [S([3, 4], { range: 'positive' })], build: (_g, [x]) => ops.sqrt(x) },
  { rule: 'Exp', name: 'exp', specs: [S([3, 4])], build: (_g, [x]) => ops.exp(x) },
  { rule: 'Log', name: 'log', specs: [S([3, 4], { range: 'positive' })], build: (_g, [x]) => ops.log(x) },
  {
    rule: 'Erf', name: 'erf (float64 JS forward)', specs: [S([3, 4])], build: (_g, [x]) => ops.erf(ops.mul(x, 1.5)),
    opts: { forward64: ([x]) => x.map((v) => erf64(1.5 * v)) },
  },
  { rule: 'Tanh', name: 'tanh', specs: [S([3, 4])], build: (_g, [x]) => ops.tanh(ops.mul(x, 2)) },
  { rule: 'Sigmoid', name: 'sigmoid', specs: [S([3, 4])], build: (_g, [x]) => ops.sigmoid(ops.mul(x, 3)) },
  { rule: 'Relu', name: 'relu', specs: [S([3, 4], { range: 'away' })], build: (_g, [x]) => ops.relu(x) },
  { rule: 'Reciprocal', name: 'reciprocal', specs: [S([3, 4], { range: 'positive' })], build: (_g, [x]) => ops.reciprocal(x) },
  {
    rule: 'com.microsoft:Gelu', name: 'fused GELU (float32 vs float64 JS)', specs: [S([3, 4])], build: (_g, [x]) => contrib.gelu(ops.mul(x, 2.5)),
    opts: { dtype: 'float32', h: 1e-3, rtol: 1e-3, atol: 1e-4, forward64: ([x]) => x.map((v) => 2.5 * v * 0.5 * (1 + erf64((2.5 * v) / Math.SQRT2))) },
  },
  { rule: 'MatMul', name: '3-D by 2-D', specs: [S([2, 3, 4]), S([4, 5])], build: (_g, [a, b]) => ops.matmul(a, b) },
  { rule: 'MatMul', name: 'batch broadcast', specs: [S([2, 1, 3, 4]), S([3, 4, 2])], build: (_g, [a, b]) => ops.matmul(a, b) },
  ...([[false, false], [false, true], [true, false], [true, true]] as const).map(([tA, tB]): Case => ({
    rule: 'Gemm', name: `transA=${tA} transB=${tB} with C`, specs: [S(tA ? [4, 3] : [3, 4]), S(tB ? [5, 4] : [4, 5]), S([5])],
    build: (_g, [a, b, c]) => ops.gemm(a, b, c, { transA: tA, transB: tB, alpha: 0.7, beta: 1.3 }),
  })),
  { rule: 'Softmax', name: 'last axis', specs: [S([3, 5])], build: (_g, [x]) => ops.softmax(ops.mul(x, 2), -1) },
  { rule: 'Softmax', name: 'axis 0', specs: [S([3, 5])], build: (_g, [x]) => ops.softmax(x, 0) },
  { rule: 'LogSoftmax', name: 'last axis', specs: [S([2, 3, 5])], build: (_g, [x]) => ops.logSoftmax(x, -1) },
  {
    rule: 'LayerNormalization', name: 'last axis, symbolic batch', specs: [S([2, 3, 4], { declared: ['B', 3, 4] }), S([4]), S([4])],
    build: (_g, [x, s, b]) => ops.layerNorm(ops.mul(x, 3), s, b, 1e-5), opts: { outShape: [2, 3, 4] },
  },
  { rule: 'LayerNormalization', name: 'two axes, no bias', specs: [S([2, 3, 4]), S([3, 4])], build: (_g, [x, s]) => ops.layerNorm(x, s, null, 1e-5, -2) },
  {
    rule: 'Gather', name: 'axis 0 with repeated indices', specs: [S([5, 3])],
    build: (g, [x]) => ops.gather(x, ops.constant(g, [4, 1, 1, 0], 'int64'), 0),
  },
  {
    rule: 'Gather', name: 'axis 1 with 2-D indices', specs: [S([2, 4, 3])],
    build: (g, [x]) => ops.gather(x, ops.constant(g, [3, 0, 3, 2], 'int64', [2, 2]), 1),
  },
  { rule: 'Slice', name: 'static middle', specs: [S([4, 6])], build: (_g, [x]) => ops.slice(x, [1, 1], [3, 5], [0, 1]) },
  { rule: 'Slice', name: 'negative start to end', specs: [S([4, 6])], build: (_g, [x]) => ops.slice(x, [-3], [END], [1]) },
  {
    rule: 'Slice', name: 'symbolic dims', specs: [S([3, 5], { declared: ['B', 'T'] })],
    build: (_g, [x]) => ops.slice(ops.slice(x, [1], [END], [1]), [0], [-1], [1]), opts: { outShape: [3, 3] },
  },
  { rule: 'Concat', name: 'axis 1', specs: [S([2, 3]), S([2, 2])], build: (_g, [a, b]) => ops.concat([a, ops.mul(b, 2)], 1) },
  {
    rule: 'Concat', name: 'symbolic length', specs: [S([2, 3], { declared: [2, 'T'] }), S([2, 2])],
    build: (_g, [a, b]) => ops.concat([b, a], 1), opts: { outShape: [2, 5] },
  },
  { rule: 'Split', name: 'one output unused', specs: [S([2, 4])], build: (_g, [x]) => ops.split(x, [1, 3], 1)[1] },
  { rule: 'Split', name: 'both outputs', specs: [S([2, 4])], build: (_g, [x]) => { const [a, b] = ops.split(x, [2, 2], 1); return ops.mul(a, ops.exp(b)); } },
  { rule: 'Reshape', name: 'static', specs: [S([2, 6])], build: (_g, [x]) => ops.reshape(x, [3, 4]) },
  { rule: 'Reshape', name: 'symbolic -1', specs: [S([2, 6], { declared: ['B', 6] })], build: (_g, [x]) => ops.reshape(x, [-1, 3]), opts: { outShape: [4, 3] } },
  { rule: 'Transpose', name: 'rotate axes', specs: [S([2, 3, 4])], build: (_g, [x]) => ops.transpose(x, [2, 0, 1]) },
  { rule: 'Squeeze', name: 'middle axis', specs: [S([3, 1, 4])], build: (_g, [x]) => ops.squeeze(x, [1]) },
  { rule: 'Unsqueeze', name: 'two axes', specs: [S([3, 4])], build: (_g, [x]) => ops.unsqueeze(x, [0, 2]) },
  { rule: 'Expand', name: 'broadcast', specs: [S([3, 1])], build: (_g, [x]) => ops.expand(x, [2, 3, 4]) },
  {
    rule: 'Where', name: 'broadcast branches', specs: [S([3, 4], { constant: true }), S([3, 4]), S([4])],
    build: (_g, [c, a, b]) => ops.where(ops.greater(c, 0), a, b),
  },
  {
    rule: 'Cast', name: 'float64 to float64 node', specs: [S([3, 4])],
    build: (g, [x]) => g.node('Cast', [x], { to: { type: 'int', value: 11 } }, [{ dtype: 'float64', shape: x.shape }])[0],
  },
  { rule: 'ReduceSum', name: 'keepdims 0, two axes', specs: [S([2, 3, 4])], build: (_g, [x]) => ops.reduceSum(x, [0, 2]) },
  { rule: 'ReduceSum', name: 'keepdims 1', specs: [S([2, 3, 4])], build: (_g, [x]) => ops.reduceSum(x, [1], true) },
  { rule: 'ReduceMean', name: 'symbolic count', specs: [S([2, 3, 4], { declared: ['B', 'T', 4] })], build: (_g, [x]) => ops.reduceMean(x, [0, 1]) },
  { rule: 'ReduceMax', name: 'one axis', specs: [S([3, 5])], build: (_g, [x]) => ops.reduceMax(x, [1]) },
  { rule: 'ReduceLogSumExp', name: 'two axes keepdims', specs: [S([2, 3, 4])], build: (_g, [x]) => ops.reduceLogSumExp(x, [1, 2], true) },
  {
    rule: 'Conv', name: '1-D with padding and bias (float32 vs float64 JS)', specs: [S([2, 3, 6]), S([4, 3, 3]), S([4])],
    build: (_g, [x, w, b]) => ops.conv1d(x, w, b, { pads: [1, 1] }),
    opts: {
      dtype: 'float32', h: 1e-3, rtol: 1e-3, atol: 1e-4,
      forward64: ([x, w, b]) => conv1dRef(x, w, b, [2, 3, 6], [4, 3, 3], 1),
    },
  },
];

describe('gradient rules vs central finite differences', () => {
  for (const c of cases) {
    it(`${c.rule}: ${c.name}`, async () => {
      const r = await gradCheck(c.build, c.specs, c.opts);
      expect(r.checked).toBeGreaterThan(0);
      expect(r.maxError, r.worst).toBeLessThanOrEqual(1);
    });
  }

  it('covers every rule in the table', () => {
    expect([...new Set(cases.map((c) => c.rule))].sort()).toEqual(Object.keys(gradRules).sort());
  });
});

describe('the check catches a wrong rule', () => {
  const saved = { ...gradRules };
  afterEach(() => Object.assign(gradRules, saved));

  it('fails when the Tanh rule drops the square', async () => {
    gradRules.Tanh = ({ outputs: [y] }, [g]) => [ops.mul(g!, ops.sub(1, y))];
    const r = await gradCheck((_g, [x]) => ops.tanh(x), [S([3, 4])]);
    expect(r.maxError).toBeGreaterThan(100);
  });

  it('fails when broadcasting is not reduced the right way', async () => {
    // Sum over the wrong axis and broadcast back: shapes agree, values do not.
    gradRules.Add = ({ inputs: [a, b] }, [g]) => [g, ops.expandAs(ops.reduceMean(g!, [0], true), b!)];
    const r = await gradCheck((_g, [a, b]) => ops.add(a, b), [S([3, 4]), S([1, 4])]);
    expect(r.maxError).toBeGreaterThan(100);
  });
});
