// One gradient rule per op. A rule gets the forward node, the gradients of its outputs (null
// where no gradient reaches an output) and which inputs need a gradient; it returns one
// gradient per input (null where none is needed). Rules build ordinary graph nodes with the
// same DSL, so every backward graph is checked like a forward one.

import { dimEq } from './dims.js';
import { type Graph, GraphError, type Node, type Tensor, attr, isFloat } from './graph.js';
import {
  add, cast, concat, constant, constantOfShape, convTranspose1d, countAlong, div, equal, erf, exp, expandAs, gather, gemm, greater,
  greaterOrEqual, log, matmul, mul, neg, padZeros, pow, reduceSum, reshapeAs, scatterNDAdd, shapeOf, split, squeeze, sub, transpose,
  unsqueeze, where,
} from './ops.js';

export type GradRule = (node: Node, gy: (Tensor | null)[], needs: boolean[]) => (Tensor | null)[];

/** Sum g down to the shape of target (undoes numpy broadcasting). */
export function unbroadcast(g: Tensor, target: Tensor): Tensor {
  const lead = g.rank - target.rank;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead) axes.push(i);
    else if (target.shape[i - lead] === 1 && g.shape[i] !== 1) axes.push(i);
  }
  let r = axes.length ? reduceSum(g, axes, true) : g;
  if (lead > 0) r = squeeze(r, [...Array(lead).keys()]);
  if (r.rank !== target.rank || !r.shape.every((d, i) => dimEq(d, target.shape[i])))
    throw new GraphError(`unbroadcast: gradient ${g} cannot be reduced to ${target}`);
  return r;
}

/** The integer values of a constant input (axes, starts, ...). */
export function constInts(t: Tensor | null): number[] {
  const data = t ? t.graph.initializers.get(t)?.data : undefined;
  if (!data) throw new GraphError(`expected a constant operand, got ${t}`);
  return Array.from(data as ArrayLike<number | bigint>, (v) => Number(v));
}

const swapLast = (t: Tensor) => {
  const p = [...Array(t.rank).keys()];
  [p[t.rank - 2], p[t.rank - 1]] = [p[t.rank - 1], p[t.rank - 2]];
  return transpose(t, p);
};

const attrI = (n: Node, k: string, d: number) => (n.attrs[k] as { value: number } | undefined)?.value ?? d;
const attrF = attrI;
const attrInts = (n: Node, k: string): readonly number[] => (n.attrs[k] as { value: readonly number[] } | undefined)?.value ?? [];

/** gy with the reduced axes restored (for reductions with keepdims=0). */
function keep(n: Node, g: Tensor): Tensor {
  return attrI(n, 'keepdims', 1) ? g : unsqueeze(g, constInts(n.inputs[1]));
}

function runtimeDim(g: Graph, x: Tensor, axis: number): Tensor {
  return gather(shapeOf(x), constant(g, [axis], 'int64'), 0);
}

export const gradRules: Record<string, GradRule> = {
  Identity: (_n, [g]) => [g],
  Add: ({ inputs: [a, b] }, [g], [na, nb]) => [na ? unbroadcast(g!, a!) : null, nb ? unbroadcast(g!, b!) : null],
  Sub: ({ inputs: [a, b] }, [g], [na, nb]) => [na ? unbroadcast(g!, a!) : null, nb ? unbroadcast(neg(g!), b!) : null],
  Mul: ({ inputs: [a, b] }, [g], [na, nb]) => [na ? unbroadcast(mul(g!, b!), a!) : null, nb ? unbroadcast(mul(g!, a!), b!) : null],
  Div: ({ inputs: [a, b], outputs: [y] }, [g], [na, nb]) => [
    na ? unbroadcast(div(g!, b!), a!) : null,
    nb ? unbroadcast(neg(div(mul(g!, y), b!)), b!) : null,
  ],
  Pow: ({ inputs: [a, b], outputs: [y] }, [g], [na, nb]) => [
    na ? unbroadcast(mul(mul(g!, b!), pow(a!, sub(b!, 1))), a!) : null,
    nb ? unbroadcast(mul(mul(g!, y), log(a!)), b!) : null,
  ],
  // Ties go to the first operand.
  Min: ({ inputs: [a, b], outputs: [y] }, [g], [na, nb]) => minMax(a!, b!, y, g!, na, nb),
  Max: ({ inputs: [a, b], outputs: [y] }, [g], [na, nb]) => minMax(a!, b!, y, g!, na, nb),
  Neg: (_n, [g]) => [neg(g!)],
  Abs: ({ inputs: [x] }, [g]) => [where(greaterOrEqual(x!, 0), g!, neg(g!))],
  Sqrt: ({ outputs: [y] }, [g]) => [div(mul(g!, 0.5), y)],
  Exp: ({ outputs: [y] }, [g]) => [mul(g!, y)],
  Log: ({ inputs: [x] }, [g]) => [div(g!, x!)],
  Erf: ({ inputs: [x] }, [g]) => [mul(g!, mul(exp(neg(mul(x!, x!))), 2 / Math.sqrt(Math.PI)))],
  Tanh: ({ outputs: [y] }, [g]) => [mul(g!, sub(1, mul(y, y)))],
  Sigmoid: ({ outputs: [y] }, [g]) => [mul(g!, mul(y, sub(1, y)))],
  Relu: ({ inputs: [x] }, [g]) => [where(greater(x!, 0), g!, 0)],
  // d/dx x Phi(x) = Phi(x) + x phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2, phi the standard normal density
  'com.microsoft:Gelu': ({ inputs: [x] }, [g]) => {
    const cdf = mul(add(erf(mul(x!, Math.SQRT1_2)), 1), 0.5);
    const pdf = mul(exp(mul(mul(x!, x!), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return [mul(g!, add(cdf, mul(x!, pdf)))];
  },
  Reciprocal: ({ outputs: [y] }, [g]) => [neg(mul(g!, mul(y, y)))],

  MatMul: ({ inputs: [a, b] }, [g], [na, nb]) => [
    na ? unbroadcast(matmul(g!, swapLast(b!)), a!) : null,
    nb ? unbroadcast(matmul(swapLast(a!), g!), b!) : null,
  ],
  Gemm: (n, [g], [na, nb, nc]) => {
    const [a, b, c] = n.inputs as Tensor[];
    const alpha = attrF(n, 'alpha', 1);
    const [tA, tB] = [attrI(n, 'transA', 0), attrI(n, 'transB', 0)];
    const ga = !na ? null
      : !tA && !tB ? gemm(g!, b, null, { transB: true, alpha })
      : !tA && tB ? gemm(g!, b, null, { alpha })
      : tA && !tB ? gemm(b, g!, null, { transB: true, alpha })
      : gemm(b, g!, null, { transA: true, transB: true, alpha });
    const gb = !nb ? null
      : !tA && !tB ? gemm(a, g!, null, { transA: true, alpha })
      : !tA && tB ? gemm(g!, a, null, { transA: true, alpha })
      : tA && !tB ? gemm(a, g!, null, { alpha })
      : gemm(g!, a, null, { transA: true, transB: true, alpha });
    return [ga, gb, nc ? unbroadcast(mul(g!, attrF(n, 'beta', 1)), c) : null];
  },

  Softmax: (n, [g]) => {
    const y = n.outputs[0];
    const ax = attrI(n, 'axis', -1);
    return [mul(y, sub(g!, reduceSum(mul(g!, y), [ax], true)))];
  },
  LogSoftmax: (n, [g]) => {
    const ax = attrI(n, 'axis', -1);
    return [sub(g!, mul(exp(n.outputs[0]), reduceSum(g!, [ax], true)))];
  },
  LayerNormalization: (n, [g], [nx, ns, nb]) => {
    const [x, scale] = n.inputs as Tensor[];
    const ax = attrI(n, 'axis', -1);
    const axes = [...Array(x.rank - ax).keys()].map((i) => i + ax);
    const lead = [...Array(ax).keys()];
    const eps = attrF(n, 'epsilon', 1e-5);
    const mean = (t: Tensor) => div(reduceSum(t, axes, true), countAlong(x, axes));
    const xc = sub(x, mean(x));
    const rstd = div(1, pow(add(mean(mul(xc, xc)), eps), 0.5));
    const xhat = mul(xc, rstd);
    const sumLead = (t: Tensor) => (lead.length ? reduceSum(t, lead) : t);
    let gx: Tensor | null = null;
    if (nx) {
      const gh = mul(g!, scale);
      gx = mul(rstd, sub(sub(gh, mean(gh)), mul(xhat, mean(mul(gh, xhat)))));
    }
    return [gx, ns ? sumLead(mul(g!, xhat)) : null, nb ? sumLead(g!) : null];
  },

  Gather: (n, [g], [nd]) => {
    if (!nd) return [null, null];
    const [data, idx] = n.inputs as Tensor[];
    const ax = attrI(n, 'axis', 0);
    const gr = data.graph;
    const i64 = cast(idx, 'int64');
    // Move the gathered axis to the front, scatter-add rows, move it back.
    const front = ax === 0 ? data : transpose(data, [ax, ...[...Array(data.rank).keys()].filter((i) => i !== ax)]);
    const ir = idx.rank;
    const gPerm = [...Array(ir).keys()].map((i) => i + ax)
      .concat([...Array(ax).keys()], [...Array(data.rank - ax - 1).keys()].map((i) => i + ax + ir));
    const upd = ax === 0 ? g! : transpose(g!, gPerm);
    const zeros = constantOfShape(gr, shapeOf(front), front.shape, 0, data.dtype);
    const scattered = scatterNDAdd(zeros, unsqueeze(i64, [-1]), upd);
    if (ax === 0) return [scattered, null];
    const back = [...Array(data.rank).keys()].map((i) => (i < ax ? i + 1 : i === ax ? 0 : i));
    return [transpose(scattered, back), null];
  },
  Slice: (n, [g]) => {
    const x = n.inputs[0]!;
    const gr = x.graph;
    const [starts, ends, axes] = [constInts(n.inputs[1]), constInts(n.inputs[2]), constInts(n.inputs[3])];
    if (n.inputs[4] && constInts(n.inputs[4]).some((s) => s !== 1)) throw new GraphError('Slice: no gradient for steps other than 1');
    const zero = constant(gr, [0], 'int64');
    const begin: Tensor[] = Array(x.rank).fill(zero);
    const end: Tensor[] = Array(x.rank).fill(zero);
    axes.forEach((a, i) => {
      const d = x.shape[a];
      const dimT = () => (typeof d === 'number' ? constant(gr, [d], 'int64') : runtimeDim(gr, x, a));
      const s = starts[i], e = ends[i];
      if (typeof d === 'number') {
        const sn = s < 0 ? Math.max(0, d + s) : Math.min(s, d);
        const en = e < 0 ? Math.max(sn, d + e) : Math.min(Math.max(e, sn), d);
        begin[a] = constant(gr, [sn], 'int64');
        end[a] = constant(gr, [d - en], 'int64');
      } else {
        begin[a] = s >= 0 ? constant(gr, [s], 'int64') : add(dimT(), constant(gr, [s], 'int64'));
        end[a] = e >= Number.MAX_SAFE_INTEGER ? zero : e < 0 ? constant(gr, [-e], 'int64') : sub(dimT(), constant(gr, [e], 'int64'));
      }
    });
    return [padZeros(g!, concat([...begin, ...end], 0), x.shape), null, null, null, null];
  },
  Concat: (n, [g]) => {
    const ax = attrI(n, 'axis', 0);
    const ins = n.inputs as Tensor[];
    const sizes = concat(ins.map((t) => runtimeDim(t.graph, t, ax)), 0);
    return split(g!, ins.map((t) => t.shape[ax]), ax, sizes);
  },
  Split: (n, gys) => {
    const ax = attrI(n, 'axis', 0);
    const parts = n.outputs.map((o, i) => gys[i] ?? constantOfShape(o.graph, shapeOf(o), o.shape, 0, o.dtype));
    return [concat(parts, ax), null];
  },
  Reshape: ({ inputs: [x] }, [g]) => [reshapeAs(g!, x!), null],
  Transpose: (n, [g]) => {
    const perm = attrInts(n, 'perm');
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [transpose(g!, inv)];
  },
  Squeeze: (n, [g]) => [unsqueeze(g!, constInts(n.inputs[1])), null],
  Unsqueeze: (n, [g]) => [squeeze(g!, constInts(n.inputs[1])), null],
  Expand: ({ inputs: [x] }, [g]) => [unbroadcast(g!, x!), null],
  Where: ({ inputs: [c, a, b] }, [g], [, na, nb]) => [
    null,
    na ? unbroadcast(where(c!, g!, 0), a!) : null,
    nb ? unbroadcast(where(c!, 0, g!), b!) : null,
  ],
  Cast: ({ inputs: [x] }, [g]) => [isFloat(x!.dtype) ? cast(g!, x!.dtype) : null],

  ReduceSum: (n, [g]) => [expandAs(keep(n, g!), n.inputs[0]!), null],
  ReduceMean: (n, [g]) => {
    const x = n.inputs[0]!;
    return [div(expandAs(keep(n, g!), x), countAlong(x, constInts(n.inputs[1]))), null];
  },
  ReduceMax: (n, [g]) => {
    const x = n.inputs[0]!;
    const axes = constInts(n.inputs[1]);
    const mask = cast(equal(x, keep(n, n.outputs[0])), x.dtype);
    return [div(mul(mask, keep(n, g!)), reduceSum(mask, axes, true)), null];
  },
  ReduceLogSumExp: (n, [g]) => {
    const x = n.inputs[0]!;
    return [mul(keep(n, g!), exp(sub(x, keep(n, n.outputs[0])))), null];
  },

  Conv: (n, [g], [nx, nw, nb]) => {
    const [x, w] = n.inputs as Tensor[];
    const pads = attrInts(n, 'pads');
    if (attrI(n, 'group', 1) !== 1 || attrInts(n, 'strides')[0] !== 1 || attrInts(n, 'dilations')[0] !== 1)
      throw new GraphError('Conv: gradients need group 1, stride 1, dilation 1');
    const gx = nx ? convTranspose1d(g!, w, [pads[0], pads[1]]) : null;
    let gw: Tensor | null = null;
    if (nw) {
      // dW[m,c,k] = sum_n,l g[n,m,l] x[n,c,l+k-pad]: a convolution of x (channels as batch) by g (batch as channels).
      const xt = transpose(x, [1, 0, 2]);
      const gt = transpose(g!, [1, 0, 2]);
      const cmk = x.graph.node('Conv', [xt, gt], { pads: attr.ints(pads) }, [{ dtype: x.dtype, shape: [x.shape[1], g!.shape[1], w.shape[2]] }])[0];
      gw = transpose(cmk, [1, 0, 2]);
    }
    return [gx, gw, nb ? reduceSum(g!, [0, 2]) : null];
  },
};

function minMax(a: Tensor, b: Tensor, y: Tensor, g: Tensor, na: boolean, nb: boolean): (Tensor | null)[] {
  const fromA = equal(y, a);
  return [na ? unbroadcast(where(fromA, g, 0), a) : null, nb ? unbroadcast(where(fromA, 0, g), b) : null];
}
