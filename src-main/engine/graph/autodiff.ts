// Reverse-mode autodiff over a built graph. Only nodes that lie on a path from a requested
// tensor to the loss get backward nodes, so gradients flow exactly as deep as the lowest
// trainable tensor and no more; serialization then drops anything the outputs do not need.

import { dimEq, shapeStr } from './dims.js';
import { GraphError, type Node, type Tensor, isFloat } from './graph.js';
import { gradRules } from './grad-rules.js';
import { add, constant, constantOfShape, shapeOf } from './ops.js';
import { liveSet } from './onnx.js';

export interface GradientOptions {
  /** Gradient of the loss to start from (default 1; the loss must then be a scalar). */
  seed?: Tensor;
}

/** One gradient tensor per entry of wrt, each shaped like it. */
export function gradients(loss: Tensor, wrt: Tensor[], opts: GradientOptions = {}): Tensor[] {
  const g = loss.graph;
  if (!isFloat(loss.dtype)) throw new GraphError(`gradients: loss ${loss} is not floating point`);
  if (!opts.seed && loss.rank !== 0) throw new GraphError(`gradients: loss ${loss} must be a scalar (or pass a seed gradient)`);
  for (const w of wrt) {
    if (w.graph !== g) throw new GraphError(`gradients: ${w} belongs to another graph`);
    if (!isFloat(w.dtype)) throw new GraphError(`gradients: ${w} is not floating point`);
  }

  // Forward: which float tensors depend on a requested tensor.
  const depends = new Set<Tensor>(wrt);
  const active = new Set<Node>();
  for (const n of g.nodes) {
    if (!n.inputs.some((i) => i && depends.has(i))) continue;
    const floatOuts = n.outputs.filter((o) => isFloat(o.dtype));
    if (floatOuts.length === 0) continue;
    active.add(n);
    for (const o of floatOuts) depends.add(o);
  }
  // Backward: of those, the ones the loss depends on.
  const onPath = liveSet(g, [loss]).nodes.filter((n) => active.has(n));

  const contributions = new Map<Tensor, Tensor[]>();
  const push = (t: Tensor, gt: Tensor) => {
    if (gt.rank !== t.rank || !gt.shape.every((d, i) => dimEq(d, t.shape[i])))
      throw new GraphError(`gradients: rule for '${t.producer?.op ?? 'input'}' produced ${shapeStr(gt.shape)} for ${t}`);
    const list = contributions.get(t);
    if (list) list.push(gt);
    else contributions.set(t, [gt]);
  };
  const total = (t: Tensor): Tensor | null => {
    const list = contributions.get(t);
    if (!list) return null;
    const s = list.reduce((a, b) => add(a, b));
    contributions.set(t, [s]);
    return s;
  };

  push(loss, opts.seed ?? constant(g, 1, loss.dtype));
  for (let k = onPath.length - 1; k >= 0; k--) {
    const n = onPath[k];
    const gys = n.outputs.map(total);
    if (gys.every((x) => x === null)) continue;
    const rule = gradRules[n.op];
    if (!rule) throw new GraphError(`gradients: no gradient rule for op '${n.op}' (node '${n.name}')`);
    const needs = n.inputs.map((i) => !!i && depends.has(i));
    const gxs = rule(n, gys, needs);
    n.inputs.forEach((inp, i) => {
      if (inp && needs[i] && gxs[i]) push(inp, gxs[i]!);
    });
  }
  // A requested tensor the loss does not depend on has a zero gradient.
  return wrt.map((w) => total(w) ?? constantOfShape(g, shapeOf(w), w.shape, 0, w.dtype));
}
