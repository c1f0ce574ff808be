import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { Graph, GraphError, addDims, broadcastShapes, mulDims, ops, serialize, subDims } from '../../src-main/engine/graph/index.js';

describe('symbolic dims', () => {
  it('keeps a canonical polynomial form', () => {
    expect(addDims('T', 4)).toBe('T+4');
    expect(subDims(addDims('T', 4), 4)).toBe('T');
    expect(mulDims('T', 'B')).toBe('B*T');
    expect(mulDims(addDims('T', 1), 2)).toBe('2*T+2');
    expect(subDims('T', 'T')).toBe(0);
  });
  it('broadcasts numbers and equal symbols, refuses unequal symbols', () => {
    expect(broadcastShapes(['B', 1, 4], ['T', 1])).toEqual(['B', 'T', 4]);
    expect(broadcastShapes(['B', 4], ['T', 4])).toMatch(/dimension 0 differs/);
  });
});

describe('build-time checks name the op and the operands', () => {
  const g = new Graph();
  const a = g.input('a', 'float32', ['B', 3, 4]);
  const b = g.input('b', 'float32', [5, 6]);
  const i = g.input('i', 'int64', [2]);
  it('matmul inner dims', () => {
    expect(() => ops.matmul(a, b)).toThrow(/^MatMul: inner dimensions differ \(4 vs 5\) \(operands: 'a' float32\[B, 3, 4\], 'b' float32\[5, 6\]\)/);
  });
  it('dtype mismatch', () => {
    expect(() => ops.add(a, i)).toThrow(GraphError);
    expect(() => ops.add(a, i)).toThrow(/Add: dtype mismatch float32 vs int64/);
  });
  it('non-broadcastable shapes', () => expect(() => ops.mul(a, b)).toThrow(/Mul: shapes do not broadcast/));
  it('bad axis', () => expect(() => ops.softmax(a, 3)).toThrow(/Softmax: axis 3 out of range for rank 3/));
  it('layer norm scale shape', () => expect(() => ops.layerNorm(a, b, null)).toThrow(/LayerNormalization: scale\/bias must have shape \[4\]/));
  it('reshape element count', () => expect(() => ops.reshape(b, [4, 4])).toThrow(/Reshape: element count differs/));
  it('gather indices dtype', () => expect(() => ops.gather(b, b)).toThrow(/Gather: indices must be int64 or int32/));
  it('float-only ops', () => expect(() => ops.exp(i)).toThrow(/Exp: dtype int64 not supported/));
  it('squeeze of a non-1 axis', () => expect(() => ops.squeeze(b, [0])).toThrow(/Squeeze: axis 0 has size 5, not 1/));
  it('concat mismatch', () => expect(() => ops.concat([b, ops.transpose(b, [1, 0])], 0)).toThrow(/Concat: dimension 1 differs/));
  it('split sizes', () => expect(() => ops.split(b, [2, 2], 0)).toThrow(/Split: sizes 2\+2 do not add up to dimension 5/));
  it('conv channels', () => expect(() => ops.conv1d(a, g.input('w', 'float32', [2, 5, 3]))).toThrow(/Conv: weight has 5 input channels x 1 groups, input has 3/));
  it('where condition dtype', () => expect(() => ops.where(b, b, b)).toThrow(/Where: condition must be bool/));
});

describe('serialization', () => {
  it('drops nodes, inputs and initializers the outputs do not need', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['N', 2]);
    const unused = g.input('unused', 'float32', [3]);
    const w = g.initializer('w', 'float32', [2, 2], { data: Float32Array.from([1, 2, 3, 4]) });
    const y = ops.matmul(x, w);
    ops.exp(ops.add(unused, 1)); // dead
    const m = serialize(g, { outputs: { y } });
    expect(m.inputNames).toEqual(['x']);
    expect(m.nodeCount).toBe(1);
    const s = await ort.InferenceSession.create(m.model);
    const r = await s.run({ x: new ort.Tensor('float32', Float32Array.from([1, 1, 0, 2]), [2, 2]) });
    expect(Array.from(r.y.data as Float32Array)).toEqual([4, 6, 6, 8]);
  });

  it('computes reshape targets from symbolic dims at run time', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['B', 'T', 4]);
    const heads = ops.reshape(x, ['B', 'T', 2, 2]);
    const back = ops.reshape(ops.concat([heads, heads], 3), ['B', 'T', 8]);
    const s = await ort.InferenceSession.create(serialize(g, { outputs: { back } }).model);
    const data = Float32Array.from({ length: 3 * 5 * 4 }, (_, i) => i);
    const r = await s.run({ x: new ort.Tensor('float32', data, [3, 5, 4]) });
    expect(r.back.dims).toEqual([3, 5, 8]);
    expect(Array.from((r.back.data as Float32Array).slice(0, 8))).toEqual([0, 1, 0, 1, 2, 3, 2, 3]);
  });
});
