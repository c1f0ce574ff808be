// The tensor DSL: one builder per ONNX op (opset 18). Each builder checks dtypes and shapes
// at build time and names the op and operands when it refuses, so a wrong model fails where it
// is written rather than inside onnxruntime.

import {
  type Dim, type Shape, addDims, broadcastShapes, dim, dimEq, isStatic, mulDims, numel, polyTerms, shapeStr, subDims,
} from './dims.js';
import { type Attr, type DType, type Graph, GraphError, Tensor, attr, isFloat } from './graph.js';

export type TensorLike = Tensor | number;
export const OPSET = 18;
/** ONNX's "to the end" for Slice ends. */
export const END = Number.MAX_SAFE_INTEGER;

function fail(op: string, msg: string, operands: (Tensor | null | undefined)[] = []): never {
  const list = operands.filter((t): t is Tensor => !!t).map((t) => t.toString());
  throw new GraphError(`${op}: ${msg}${list.length ? ` (operands: ${list.join(', ')})` : ''}`);
}

function graphOf(op: string, xs: TensorLike[]): Graph {
  const t = xs.find((x): x is Tensor => x instanceof Tensor);
  if (!t) fail(op, 'needs at least one tensor operand');
  return t.graph;
}

function normAxis(op: string, axis: number, rank: number, x?: Tensor): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) fail(op, `axis ${axis} out of range for rank ${rank}`, [x]);
  return a;
}

const ctor: Record<DType, (n: number[]) => Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array> = {
  float32: (v) => Float32Array.from(v),
  float64: (v) => Float64Array.from(v),
  float16: () => {
    throw new GraphError('constants of dtype float16 are not supported');
  },
  int64: (v) => BigInt64Array.from(v.map((x) => BigInt(Math.trunc(x)))),
  int32: (v) => Int32Array.from(v),
  bool: (v) => Uint8Array.from(v.map((x) => (x ? 1 : 0))),
};

/** A constant tensor (an initializer); scalars and short vectors are shared within a graph. */
export function constant(g: Graph, values: number | readonly number[], dtype: DType = 'float32', shape?: readonly number[]): Tensor {
  const arr = typeof values === 'number' ? [values] : [...values];
  const shp = shape ?? (typeof values === 'number' ? [] : [arr.length]);
  const key = `const:${dtype}:${shp.join('x')}:${arr.length <= 16 ? arr.join(',') : ''}`;
  if (arr.length <= 16) {
    const hit = g.cache.get(key);
    if (hit) return hit;
  }
  const t = g.initializer('const', dtype, shp, { data: ctor[dtype](arr) });
  if (arr.length <= 16) g.cache.set(key, t);
  return t;
}

function lift(op: string, x: TensorLike, like: Tensor): Tensor {
  if (x instanceof Tensor) return x;
  if (!isFloat(like.dtype) && !Number.isInteger(x)) fail(op, `scalar ${x} cannot be used with ${like.dtype}`, [like]);
  return constant(like.graph, x, like.dtype);
}

function one(g: Graph, op: string, inputs: (Tensor | null)[], attrs: Record<string, Attr>, dtype: DType, shape: Shape): Tensor {
  return g.node(op, inputs, attrs, [{ dtype, shape }])[0];
}

// ---------------------------------------------------------------- runtime shapes

/** Shape(x) as an int64 vector, emitted once per tensor. */
export function shapeOf(x: Tensor): Tensor {
  const key = `shape:${x.name}`;
  const hit = x.graph.cache.get(key);
  if (hit) return hit;
  const s = one(x.graph, 'Shape', [x], {}, 'int64', [x.rank]);
  x.graph.cache.set(key, s);
  return s;
}

/** A [1] int64 tensor holding the run-time value of dim d (symbols come from the graph inputs that declared them). */
export function dimValue(g: Graph, d: Dim): Tensor {
  if (typeof d === 'number') return constant(g, [d], 'int64');
  const key = `dim:${d}`;
  const hit = g.cache.get(key);
  if (hit) return hit;
  let acc: Tensor | null = null;
  for (const { coeff, symbols } of polyTerms(d)) {
    let term: Tensor | null = null;
    for (const s of symbols) {
      const src = g.symbols.get(s);
      if (!src) throw new GraphError(`dimension '${d}': symbol '${s}' is not carried by any graph input`);
      const v = gather(shapeOf(src.tensor), constant(g, [src.axis], 'int64'), 0);
      term = term ? mul(term, v) : v;
    }
    term = term ? (coeff === 1 ? term : mul(term, constant(g, [coeff], 'int64'))) : constant(g, [coeff], 'int64');
    acc = acc ? add(acc, term) : term;
  }
  const out = acc ?? constant(g, [0], 'int64');
  g.cache.set(key, out);
  return out;
}

/** An int64 shape vector for dims (constant when every dim is a number). */
export function shapeTensor(g: Graph, dims: Shape): Tensor {
  if (isStatic(dims)) return constant(g, dims as number[], 'int64');
  return concat(dims.map((d) => dimValue(g, d)), 0);
}

// ---------------------------------------------------------------- elementwise

function binary(op: string, a: TensorLike, b: TensorLike, outType?: DType, allowed?: (d: DType) => boolean): Tensor {
  const g = graphOf(op, [a, b]);
  const ta = a instanceof Tensor ? a : lift(op, a, b as Tensor);
  const tb = lift(op, b, ta);
  if (ta.dtype !== tb.dtype) fail(op, `dtype mismatch ${ta.dtype} vs ${tb.dtype}`, [ta, tb]);
  if (allowed && !allowed(ta.dtype)) fail(op, `dtype ${ta.dtype} not supported`, [ta, tb]);
  const shape = broadcastShapes(ta.shape, tb.shape);
  if (typeof shape === 'string') fail(op, `shapes do not broadcast: ${shape}`, [ta, tb]);
  return one(g, op, [ta, tb], {}, outType ?? ta.dtype, shape);
}

const numeric = (d: DType) => d !== 'bool';
export const add = (a: TensorLike, b: TensorLike) => binary('Add', a, b, undefined, numeric);
export const sub = (a: TensorLike, b: TensorLike) => binary('Sub', a, b, undefined, numeric);
export const mul = (a: TensorLike, b: TensorLike) => binary('Mul', a, b, undefined, numeric);
export const div = (a: TensorLike, b: TensorLike) => binary('Div', a, b, undefined, numeric);
export const pow = (a: TensorLike, b: TensorLike) => binary('Pow', a, b, undefined, isFloat);
export const minimum = (a: TensorLike, b: TensorLike) => binary('Min', a, b, undefined, numeric);
export const maximum = (a: TensorLike, b: TensorLike) => binary('Max', a, b, undefined, numeric);
export const equal = (a: TensorLike, b: TensorLike) => binary('Equal', a, b, 'bool');
export const less = (a: TensorLike, b: TensorLike) => binary('Less', a, b, 'bool', numeric);
export const greater = (a: TensorLike, b: TensorLike) => binary('Greater', a, b, 'bool', numeric);
export const lessOrEqual = (a: TensorLike, b: TensorLike) => binary('LessOrEqual', a, b, 'bool', numeric);
export const greaterOrEqual = (a: TensorLike, b: TensorLike) => binary('GreaterOrEqual', a, b, 'bool', numeric);
export const and = (a: TensorLike, b: TensorLike) => binary('And', a, b, 'bool', (d) => d === 'bool');
export const or = (a: TensorLike, b: TensorLike) => binary('Or', a, b, 'bool', (d) => d === 'bool');

function unary(op: string, x: Tensor, allowed: (d: DType) => boolean = isFloat, attrs: Record<string, Attr> = {}): Tensor {
  if (!(x instanceof Tensor)) fail(op, 'operand must be a tensor');
  if (!allowed(x.dtype)) fail(op, `dtype ${x.dtype} not supported`, [x]);
  return one(x.graph, op, [x], attrs, x.dtype, x.shape);
}

export const neg = (x: Tensor) => unary('Neg', x, numeric);
export const abs = (x: Tensor) => unary('Abs', x, numeric);
export const sqrt = (x: Tensor) => unary('Sqrt', x);
export const exp = (x: Tensor) => unary('Exp', x);
export const log = (x: Tensor) => unary('Log', x);
export const erf = (x: Tensor) => unary('Erf', x);
export const tanh = (x: Tensor) => unary('Tanh', x);
export const sigmoid = (x: Tensor) => unary('Sigmoid', x);
export const relu = (x: Tensor) => unary('Relu', x);
export const reciprocal = (x: Tensor) => unary('Reciprocal', x);
// Cos and Sin build rotary tables from positions; no gradient rule (nothing trainable flows through them).
export const cos = (x: Tensor) => unary('Cos', x);
export const sin = (x: Tensor) => unary('Sin', x);
export const identity = (x: Tensor) => unary('Identity', x, () => true);
export const not = (x: Tensor) => unary('Not', x, (d) => d === 'bool');

/** Exact GELU, 0.5 x (1 + erf(x / sqrt 2)), as ESM-2 uses it. */
export function gelu(x: Tensor): Tensor {
  return mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
}

/**
 * Inverted dropout with an explicit mask input, so a training step is reproducible. The mask
 * holds 0 (dropped) or 1 / (1 - p) (kept): the rescaling is folded into its values, which
 * saves a full-size multiplication forward and backward.
 */
export function dropout(x: Tensor, mask: Tensor, p: number): Tensor {
  if (p <= 0) return x;
  if (p >= 1) fail('Dropout', `probability ${p} must be below 1`, [x, mask]);
  return mul(x, mask);
}

// ---------------------------------------------------------------- linear algebra

export function matmul(a: Tensor, b: Tensor): Tensor {
  const op = 'MatMul';
  if (a.rank < 2 || b.rank < 2) fail(op, 'operands must have rank >= 2', [a, b]);
  if (a.dtype !== b.dtype || !isFloat(a.dtype)) fail(op, 'operands must share a float dtype', [a, b]);
  const k1 = a.shape[a.rank - 1];
  const k2 = b.shape[b.rank - 2];
  if (!dimEq(k1, k2)) fail(op, `inner dimensions differ (${k1} vs ${k2})`, [a, b]);
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  if (typeof batch === 'string') fail(op, `batch dimensions do not broadcast: ${batch}`, [a, b]);
  return one(a.graph, op, [a, b], {}, a.dtype, [...batch, a.shape[a.rank - 2], b.shape[b.rank - 1]]);
}

export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
}

export function gemm(a: Tensor, b: Tensor, c: Tensor | null = null, o: GemmOptions = {}): Tensor {
  const op = 'Gemm';
  if (a.rank !== 2 || b.rank !== 2) fail(op, 'A and B must be 2-D', [a, b, c]);
  if (a.dtype !== b.dtype || (c && c.dtype !== a.dtype) || !isFloat(a.dtype)) fail(op, 'operands must share a float dtype', [a, b, c]);
  const [m, k1] = o.transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [k2, n] = o.transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (!dimEq(k1, k2)) fail(op, `inner dimensions differ (${k1} vs ${k2})`, [a, b]);
  if (c) {
    const s = broadcastShapes([m, n], c.shape);
    if (typeof s === 'string' || !dimEq(s[0], m) || !dimEq(s[1], n)) fail(op, `C does not broadcast to ${shapeStr([m, n])}`, [a, b, c]);
  }
  const attrs: Record<string, Attr> = {
    alpha: attr.f(o.alpha ?? 1), beta: attr.f(o.beta ?? 1), transA: attr.i(o.transA ? 1 : 0), transB: attr.i(o.transB ? 1 : 0),
  };
  return one(a.graph, op, c ? [a, b, c] : [a, b], attrs, a.dtype, [m, n]);
}

/**
 * x W^T + b over the last axis, with W in torch.nn.Linear's layout [out, in]: x [..., in] is
 * flattened to 2-D and multiplied by one Gemm with transB, so W is used as stored. (MatMul with
 * Transpose(W) would make onnxruntime fold a transposed copy of every weight at load time.)
 */
export function linear(x: Tensor, w: Tensor, b: Tensor | null = null): Tensor {
  const op = 'Linear';
  if (x.rank < 2 || w.rank !== 2) fail(op, 'input must be [..., in] and weight [out, in]', [x, w, b]);
  if (!dimEq(x.shape[x.rank - 1], w.shape[1])) fail(op, `input has ${x.shape[x.rank - 1]} features, weight expects ${w.shape[1]}`, [x, w]);
  if (b && (b.rank !== 1 || !dimEq(b.shape[0], w.shape[0]))) fail(op, 'bias must be [out]', [x, w, b]);
  if (x.rank === 2) return gemm(x, w, b, { transB: true });
  const g = x.graph;
  const lead = x.shape.slice(0, -1);
  const inF = x.shape[x.rank - 1];
  if (typeof inF !== 'number' || typeof w.shape[0] !== 'number') fail(op, 'feature dimensions must be static', [x, w]);
  const flat = one(g, 'Reshape', [x, constant(g, [-1, inF], 'int64')], {}, x.dtype, [lead.reduce<Dim>((a, d) => mulDims(a, d), 1), inF]);
  const y = gemm(flat, w, b, { transB: true });
  const leadShape = slice(shapeOf(x), [0], [x.rank - 1], [0]);
  return one(g, 'Reshape', [y, concat([leadShape, constant(g, [w.shape[0]], 'int64')], 0)], {}, x.dtype, [...lead, w.shape[0]]);
}

// ---------------------------------------------------------------- normalisation and activations over an axis

export function softmax(x: Tensor, axis = -1): Tensor {
  if (!isFloat(x.dtype)) fail('Softmax', `dtype ${x.dtype} not supported`, [x]);
  return one(x.graph, 'Softmax', [x], { axis: attr.i(normAxis('Softmax', axis, x.rank, x)) }, x.dtype, x.shape);
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  if (!isFloat(x.dtype)) fail('LogSoftmax', `dtype ${x.dtype} not supported`, [x]);
  return one(x.graph, 'LogSoftmax', [x], { axis: attr.i(normAxis('LogSoftmax', axis, x.rank, x)) }, x.dtype, x.shape);
}

export function layerNorm(x: Tensor, scale: Tensor, bias: Tensor | null, epsilon = 1e-5, axis = -1): Tensor {
  const op = 'LayerNormalization';
  const ax = normAxis(op, axis, x.rank, x);
  const norm = x.shape.slice(ax);
  for (const p of [scale, bias]) {
    if (!p) continue;
    if (p.dtype !== x.dtype) fail(op, 'scale/bias dtype differs from input', [x, scale, bias]);
    if (p.rank !== norm.length || !p.shape.every((d, i) => dimEq(d, norm[i]))) fail(op, `scale/bias must have shape ${shapeStr(norm)}`, [x, scale, bias]);
  }
  return one(x.graph, op, bias ? [x, scale, bias] : [x, scale], { axis: attr.i(ax), epsilon: attr.f(epsilon) }, x.dtype, x.shape);
}

// ---------------------------------------------------------------- indexing and layout

export function gather(data: Tensor, indices: Tensor, axis = 0): Tensor {
  const op = 'Gather';
  if (indices.dtype !== 'int64' && indices.dtype !== 'int32') fail(op, 'indices must be int64 or int32', [data, indices]);
  const ax = normAxis(op, axis, data.rank, data);
  return one(data.graph, op, [data, indices], { axis: attr.i(ax) }, data.dtype, [
    ...data.shape.slice(0, ax), ...indices.shape, ...data.shape.slice(ax + 1),
  ]);
}

function sliceDim(d: Dim, start: number, end: number, step: number): Dim {
  if (step !== 1) {
    if (typeof d !== 'number') throw new GraphError(`Slice: step ${step} needs a static dimension, got ${d}`);
    const s = start < 0 ? Math.max(0, d + start) : Math.min(start, d);
    const e = end < 0 ? Math.max(-1, d + end) : Math.min(end, d);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  if (typeof d === 'number') {
    const s = start < 0 ? Math.max(0, d + start) : Math.min(start, d);
    const e = end < 0 ? Math.max(0, d + end) : Math.min(end, d);
    return Math.max(0, e - s);
  }
  const s: Dim = start < 0 ? addDims(d, start) : start;
  const e: Dim = end >= END ? d : end < 0 ? addDims(d, end) : end;
  return subDims(e, s);
}

/** Slice with constant bounds; END means "to the end". Negative bounds count from the end. */
export function slice(x: Tensor, starts: number[], ends: number[], axes: number[], steps?: number[]): Tensor {
  const op = 'Slice';
  if (starts.length !== ends.length || starts.length !== axes.length || (steps && steps.length !== axes.length))
    fail(op, 'starts, ends, axes (and steps) must have equal length', [x]);
  const shape = [...x.shape];
  const ax = axes.map((a) => normAxis(op, a, x.rank, x));
  ax.forEach((a, i) => {
    shape[a] = sliceDim(x.shape[a], starts[i], ends[i], steps?.[i] ?? 1);
  });
  const g = x.graph;
  const ins = [x, constant(g, starts, 'int64'), constant(g, ends, 'int64'), constant(g, ax, 'int64')];
  if (steps) ins.push(constant(g, steps, 'int64'));
  return one(g, op, ins, {}, x.dtype, shape);
}

export function concat(xs: Tensor[], axis: number): Tensor {
  const op = 'Concat';
  if (xs.length === 0) fail(op, 'needs at least one operand');
  const r = xs[0].rank;
  const ax = normAxis(op, axis, r, xs[0]);
  let total: Dim = 0;
  for (const t of xs) {
    if (t.rank !== r || t.dtype !== xs[0].dtype) fail(op, 'operands must share rank and dtype', xs);
    for (let i = 0; i < r; i++) if (i !== ax && !dimEq(t.shape[i], xs[0].shape[i])) fail(op, `dimension ${i} differs`, xs);
    total = addDims(total, t.shape[ax]);
  }
  if (xs.length === 1) return xs[0];
  const shape = [...xs[0].shape];
  shape[ax] = total;
  return one(xs[0].graph, op, xs, { axis: attr.i(ax) }, xs[0].dtype, shape);
}

/** Split into pieces of the given sizes along axis (sizes may be symbolic). */
export function split(x: Tensor, sizes: Dim[], axis: number, sizesTensor?: Tensor): Tensor[] {
  const op = 'Split';
  const ax = normAxis(op, axis, x.rank, x);
  const total = sizes.reduce<Dim>((a, b) => addDims(a, b), 0);
  if (!dimEq(total, x.shape[ax])) fail(op, `sizes ${sizes.join('+')} do not add up to dimension ${x.shape[ax]}`, [x]);
  const outs = sizes.map((s) => {
    const shape = [...x.shape];
    shape[ax] = dim(s);
    return { dtype: x.dtype, shape };
  });
  return x.graph.node(op, [x, sizesTensor ?? shapeTensor(x.graph, sizes)], { axis: attr.i(ax) }, outs);
}

/** Reshape to dims; one dim may be -1 (inferred when the element counts allow it). */
export function reshape(x: Tensor, dims: Dim[]): Tensor {
  const op = 'Reshape';
  const infer = dims.filter((d) => d === -1).length;
  if (infer > 1) fail(op, 'at most one dimension may be -1', [x]);
  if (dims.some((d) => d === 0)) fail(op, 'dimension 0 is not allowed (name the dimension instead)', [x]);
  const total = numel(x.shape);
  let out: Dim[] = dims.map(dim);
  if (infer) {
    const known = out.filter((d) => d !== -1).reduce<Dim>((a, b) => mulDims(a, b), 1);
    const q = divideDims(total, known);
    if (q === null) fail(op, `cannot infer -1: ${total} is not divisible by ${known}`, [x]);
    out = out.map((d) => (d === -1 ? q : d));
  } else if (!dimEq(numel(out), total)) {
    fail(op, `element count differs: ${shapeStr(x.shape)} has ${total}, target ${shapeStr(out)} has ${numel(out)}`, [x]);
  }
  return one(x.graph, op, [x, shapeTensor(x.graph, out)], {}, x.dtype, out);
}

/** a / b when both are single monomials (static counts or products of symbols). */
function divideDims(a: Dim, b: Dim): Dim | null {
  const ta = polyTerms(a);
  const tb = polyTerms(b);
  if (ta.length !== 1 || tb.length !== 1) return null;
  const rest = [...ta[0].symbols];
  for (const s of tb[0].symbols) {
    const i = rest.indexOf(s);
    if (i < 0) return null;
    rest.splice(i, 1);
  }
  if (ta[0].coeff % tb[0].coeff !== 0) return null;
  return rest.reduce<Dim>((acc, s) => mulDims(acc, s), ta[0].coeff / tb[0].coeff);
}

/** Reshape x to the run-time shape of like (equal element counts are the caller's promise). */
export function reshapeAs(x: Tensor, like: Tensor): Tensor {
  if (!dimEq(numel(x.shape), numel(like.shape))) fail('Reshape', `element counts differ: ${numel(x.shape)} vs ${numel(like.shape)}`, [x, like]);
  return one(x.graph, 'Reshape', [x, shapeOf(like)], {}, x.dtype, like.shape);
}

export function transpose(x: Tensor, perm: number[]): Tensor {
  const op = 'Transpose';
  if (perm.length !== x.rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) fail(op, `perm [${perm}] is not a permutation of rank ${x.rank}`, [x]);
  return one(x.graph, op, [x], { perm: attr.ints(perm) }, x.dtype, perm.map((p) => x.shape[p]));
}

export function unsqueeze(x: Tensor, axes: number[]): Tensor {
  const op = 'Unsqueeze';
  const r = x.rank + axes.length;
  const ax = axes.map((a) => normAxis(op, a, r, x)).sort((a, b) => a - b);
  if (new Set(ax).size !== ax.length) fail(op, `repeated axes [${axes}]`, [x]);
  const shape: Dim[] = [];
  let k = 0;
  for (let i = 0; i < r; i++) shape.push(ax.includes(i) ? 1 : x.shape[k++]);
  return one(x.graph, op, [x, constant(x.graph, ax, 'int64')], {}, x.dtype, shape);
}

export function squeeze(x: Tensor, axes: number[]): Tensor {
  const op = 'Squeeze';
  const ax = axes.map((a) => normAxis(op, a, x.rank, x));
  for (const a of ax) if (x.shape[a] !== 1) fail(op, `axis ${a} has size ${x.shape[a]}, not 1`, [x]);
  return one(x.graph, op, [x, constant(x.graph, ax, 'int64')], {}, x.dtype, x.shape.filter((_, i) => !ax.includes(i)));
}

export function expand(x: Tensor, dims: Dim[]): Tensor {
  const op = 'Expand';
  const shape = broadcastShapes(x.shape, dims);
  if (typeof shape === 'string') fail(op, `cannot expand to ${shapeStr(dims)}: ${shape}`, [x]);
  return one(x.graph, op, [x, shapeTensor(x.graph, dims)], {}, x.dtype, shape);
}

/** Expand to the run-time shape of another tensor (no symbols needed). */
export function expandAs(x: Tensor, like: Tensor): Tensor {
  const shape = broadcastShapes(x.shape, like.shape);
  if (typeof shape === 'string') fail('Expand', `cannot expand to the shape of ${like}: ${shape}`, [x, like]);
  return one(x.graph, 'Expand', [x, shapeOf(like)], {}, x.dtype, shape);
}

export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const op = 'Where';
  if (cond.dtype !== 'bool') fail(op, 'condition must be bool', [cond]);
  const like = a instanceof Tensor ? a : b instanceof Tensor ? b : fail(op, 'needs a tensor branch', [cond]);
  const ta = lift(op, a, like);
  const tb = lift(op, b, like);
  if (ta.dtype !== tb.dtype) fail(op, `branch dtypes differ ${ta.dtype} vs ${tb.dtype}`, [cond, ta, tb]);
  const s1 = broadcastShapes(ta.shape, tb.shape);
  const s = typeof s1 === 'string' ? s1 : broadcastShapes(s1, cond.shape);
  if (typeof s === 'string') fail(op, `shapes do not broadcast: ${s}`, [cond, ta, tb]);
  return one(cond.graph, op, [cond, ta, tb], {}, ta.dtype, s);
}

const ONNX_DTYPE: Record<DType, number> = { float32: 1, bool: 9, int32: 6, int64: 7, float16: 10, float64: 11 };
export const onnxDType = (d: DType): number => ONNX_DTYPE[d];

export function cast(x: Tensor, to: DType): Tensor {
  if (x.dtype === to) return x;
  return one(x.graph, 'Cast', [x], { to: attr.i(ONNX_DTYPE[to]) }, to, x.shape);
}

// ---------------------------------------------------------------- reductions

function reduce(op: string, x: Tensor, axes: number[], keepdims: boolean): Tensor {
  if (!(numeric(x.dtype))) fail(op, `dtype ${x.dtype} not supported`, [x]);
  if (axes.length === 0) fail(op, 'axes must be given (an empty list would mean "all" or "none" depending on attributes)', [x]);
  const ax = [...new Set(axes.map((a) => normAxis(op, a, x.rank, x)))].sort((a, b) => a - b);
  const shape = keepdims ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !ax.includes(i));
  return one(x.graph, op, [x, constant(x.graph, ax, 'int64')], { keepdims: attr.i(keepdims ? 1 : 0) }, x.dtype, shape);
}

export const reduceSum = (x: Tensor, axes: number[], keepdims = false) => reduce('ReduceSum', x, axes, keepdims);
export const reduceMean = (x: Tensor, axes: number[], keepdims = false) => reduce('ReduceMean', x, axes, keepdims);
export const reduceMax = (x: Tensor, axes: number[], keepdims = false) => reduce('ReduceMax', x, axes, keepdims);
export const reduceLogSumExp = (x: Tensor, axes: number[], keepdims = false) => reduce('ReduceLogSumExp', x, axes, keepdims);

/** Sum of every element, a scalar. */
export const sumAll = (x: Tensor) => (x.rank === 0 ? x : reduceSum(x, x.shape.map((_, i) => i)));

export function argMax(x: Tensor, axis: number, keepdims = false): Tensor {
  const ax = normAxis('ArgMax', axis, x.rank, x);
  const shape = keepdims ? x.shape.map((d, i) => (i === ax ? 1 : d)) : x.shape.filter((_, i) => i !== ax);
  return one(x.graph, 'ArgMax', [x], { axis: attr.i(ax), keepdims: attr.i(keepdims ? 1 : 0) }, 'int64', shape);
}

// ---------------------------------------------------------------- convolution (1-D)

export interface Conv1dOptions {
  pads?: [number, number];
  dilation?: number;
  stride?: number;
  group?: number;
}

/** 1-D convolution: x [N, C, L], w [M, C/group, K], bias [M]. */
export function conv1d(x: Tensor, w: Tensor, bias: Tensor | null = null, o: Conv1dOptions = {}): Tensor {
  const op = 'Conv';
  if (x.rank !== 3 || w.rank !== 3) fail(op, 'input must be [N, C, L] and weight [M, C/group, K]', [x, w]);
  if (!isFloat(x.dtype) || w.dtype !== x.dtype || (bias && bias.dtype !== x.dtype)) fail(op, 'operands must share a float dtype', [x, w, bias]);
  const group = o.group ?? 1;
  const [pads, dil, stride] = [o.pads ?? [0, 0], o.dilation ?? 1, o.stride ?? 1];
  if (!dimEq(mulDims(w.shape[1], group), x.shape[1])) fail(op, `weight has ${w.shape[1]} input channels x ${group} groups, input has ${x.shape[1]}`, [x, w]);
  if (bias && (bias.rank !== 1 || !dimEq(bias.shape[0], w.shape[0]))) fail(op, 'bias must be [M]', [x, w, bias]);
  const k = w.shape[2];
  if (typeof k !== 'number') fail(op, 'kernel size must be static', [w]);
  const span = dil * (k - 1) + 1;
  let len: Dim;
  if (stride === 1) len = addDims(x.shape[2], pads[0] + pads[1] - span + 1);
  else if (typeof x.shape[2] === 'number') len = Math.floor((x.shape[2] + pads[0] + pads[1] - span) / stride) + 1;
  else fail(op, 'stride > 1 needs a static length', [x]);
  const attrs = { kernel_shape: attr.ints([k]), pads: attr.ints(pads), dilations: attr.ints([dil]), strides: attr.ints([stride]), group: attr.i(group) };
  return one(x.graph, op, bias ? [x, w, bias] : [x, w], attrs, x.dtype, [x.shape[0], w.shape[0], len]);
}

/** Transposed 1-D convolution with stride 1 (the input-gradient of conv1d). */
export function convTranspose1d(x: Tensor, w: Tensor, pads: [number, number]): Tensor {
  const op = 'ConvTranspose';
  if (x.rank !== 3 || w.rank !== 3 || !dimEq(x.shape[1], w.shape[0])) fail(op, 'input must be [N, M, L] and weight [M, C, K]', [x, w]);
  const k = w.shape[2] as number;
  const len = addDims(x.shape[2], k - 1 - pads[0] - pads[1]);
  return one(x.graph, op, [x, w], { kernel_shape: attr.ints([k]), pads: attr.ints(pads) }, x.dtype, [x.shape[0], w.shape[1], len]);
}

// ---------------------------------------------------------------- creation and scatter

export function constantOfShape(g: Graph, shape: Tensor, declared: Shape, value = 0, dtype: DType = 'float32'): Tensor {
  if (shape.dtype !== 'int64' || shape.rank !== 1) fail('ConstantOfShape', 'shape must be a 1-D int64 tensor', [shape]);
  return one(g, 'ConstantOfShape', [shape], { value: attr.tensor(dtype, [value]) }, dtype, declared);
}

/** Zeros with the run-time shape of like. */
export function zerosLike(like: Tensor): Tensor {
  return constantOfShape(like.graph, shapeOf(like), like.shape, 0, like.dtype);
}

/** ScatterND with reduction 'add': out = data; out[indices[i]] += updates[i]. */
export function scatterNDAdd(data: Tensor, indices: Tensor, updates: Tensor): Tensor {
  if (indices.dtype !== 'int64') fail('ScatterND', 'indices must be int64', [data, indices, updates]);
  return one(data.graph, 'ScatterND', [data, indices, updates], { reduction: attr.s('add') }, data.dtype, data.shape);
}

export function range(g: Graph, start: TensorLike, limit: TensorLike, delta: TensorLike, dtype: DType, length: Dim): Tensor {
  const s = start instanceof Tensor ? start : constant(g, start, dtype);
  const l = limit instanceof Tensor ? limit : constant(g, limit, dtype);
  const d = delta instanceof Tensor ? delta : constant(g, delta, dtype);
  for (const t of [s, l, d]) if (t.rank !== 0 || t.dtype !== dtype) fail('Range', `start, limit and delta must be ${dtype} scalars`, [s, l, d]);
  return one(g, 'Range', [s, l, d], {}, dtype, [length]);
}

/** Pad with zeros; pads = [begin_0.., end_0..] as a run-time int64 tensor. */
export function padZeros(x: Tensor, pads: Tensor, shape: Shape): Tensor {
  return one(x.graph, 'Pad', [x, pads], { mode: attr.s('constant') }, x.dtype, shape);
}

/** A scalar view of the run-time element count along axes, as x's dtype. */
export function countAlong(x: Tensor, axes: number[]): Tensor {
  const g = x.graph;
  const ax = axes.map((a) => normAxis('count', a, x.rank, x));
  const ds = ax.map((a) => x.shape[a]);
  if (ds.every((d) => typeof d === 'number')) return constant(g, (ds as number[]).reduce((a, b) => a * b, 1), x.dtype);
  const picked = gather(shapeOf(x), constant(g, ax, 'int64'), 0);
  const prod = one(g, 'ReduceProd', [picked, constant(g, [0], 'int64')], { keepdims: attr.i(0) }, 'int64', []);
  return cast(prod, x.dtype);
}
