import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { Graph, GraphError, gradients, liveSet, ops, serialize } from '../../src-main/engine/graph/index.js';

function chain(depth: number) {
  const g = new Graph();
  const x = g.input('x', 'float32', [2, 4]);
  const ws = Array.from({ length: depth }, (_, i) => g.input(`w${i}`, 'float32', [4, 4]));
  let h = x;
  for (const w of ws) h = ops.tanh(ops.matmul(h, w));
  return { g, x, ws, loss: ops.sumAll(h) };
}

describe('autodiff', () => {
  it('emits backward nodes only as deep as the lowest requested tensor', () => {
    const { g, ws, loss } = chain(6);
    const forwardOps = liveSet(g, [loss]).nodes.length;
    const [gTop] = gradients(loss, [ws[5]]);
    const liveTop = liveSet(g, [loss, gTop]).nodes;
    // The top layer's gradient needs its input h5 (forward) but no backward node below layer 5:
    // exactly one MatMul-gradient (input side not needed) + Tanh-gradient + ReduceSum-gradient.
    const backwardTop = liveTop.length - forwardOps;
    const { g: g2, ws: ws2, loss: loss2 } = chain(6);
    const [gBottom] = gradients(loss2, [ws2[0]]);
    const backwardBottom = liveSet(g2, [loss2, gBottom]).nodes.length - liveSet(g2, [loss2]).nodes.length;
    expect(backwardTop).toBeGreaterThan(0);
    expect(backwardBottom).toBeGreaterThan(4 * backwardTop);
    // No MatMul in the top-only backward multiplies by a frozen weight's transpose (dX of layer 5).
    const transposesOfWeights = liveTop.filter((n) => n.op === 'Transpose' && n.inputs[0]?.name.startsWith('w'));
    expect(transposesOfWeights).toHaveLength(0);
  });

  it('accumulates gradients of a tensor used several times', async () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [3]);
    const loss = ops.sumAll(ops.add(ops.mul(x, x), ops.mul(x, 3))); // d/dx = 2x + 3
    const [gx] = gradients(loss, [x]);
    const s = await ort.InferenceSession.create(serialize(g, { outputs: { gx } }).model);
    const r = await s.run({ x: new ort.Tensor('float64', Float64Array.from([1, -2, 0.5]), [3]) });
    expect(Array.from(r.gx.data as Float64Array)).toEqual([5, -1, 4]);
  });

  it('gives zeros for a tensor the loss does not depend on', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2]);
    const y = g.input('y', 'float32', [2, 'N']);
    const [, gy] = gradients(ops.sumAll(ops.exp(x)), [x, y]);
    const s = await ort.InferenceSession.create(serialize(g, { outputs: { gy } }).model);
    const r = await s.run({ y: new ort.Tensor('float32', new Float32Array(6).fill(3), [2, 3]) });
    expect(r.gy.dims).toEqual([2, 3]);
    expect(Array.from(r.gy.data as Float32Array)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('stops at integer paths and refuses ops without a rule', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [4]);
    const am = ops.argMax(x, 0); // int64: no gradient flows through
    const loss = ops.add(ops.sumAll(x), ops.sumAll(ops.cast(am, 'float32')));
    expect(() => gradients(loss, [x])).not.toThrow();
    const y = g.node('Sin', [x], {}, [{ dtype: 'float32', shape: [4] }])[0];
    expect(() => gradients(ops.sumAll(y), [x])).toThrow(GraphError);
    expect(() => gradients(ops.sumAll(y), [x])).toThrow(/no gradient rule for op 'Sin'/);
    expect(() => gradients(y, [x])).toThrow(/must be a scalar/);
  });
});
