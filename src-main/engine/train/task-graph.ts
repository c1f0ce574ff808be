// One model = backbone + PEFT method + task head, compiled into ONNX graphs:
//  - the training graph: loss, one gradient per trainable tensor, head outputs;
//  - the evaluation graph: loss and head outputs, no dropout;
//  - the feature graph: the frozen blocks below the method's lowest block, run once per
//    sequence so their outputs can be reused across epochs.
// Trainable tensors are graph inputs (`param.NAME`); dropout masks are inputs (`mask.NAME`,
// holding 0 or 1/(1-p), see ops.dropout).

import { type DType, type Dim, Graph, type Tensor, gradients, serialize } from '../graph/index.js';
import { buildEsm2 } from '../esm2/forward.js';
import type { Esm2Config } from '../esm2/config.js';
import type { LoadedModel } from '../esm2/model.js';
import type { HookContext, PeftMethod, TrainableSpec } from '../peft/method.js';
import type { Head } from './head.js';

export interface MaskSpec {
  name: string;
  p: number;
  /** symbolic shape (B, T and expressions of them) */
  shape: readonly Dim[];
}

export interface TaskGraph {
  graph: Graph;
  params: TrainableSpec[];
  masks: MaskSpec[];
  /** true when the graph starts from reused hidden states instead of tokens */
  fromBlock: number;
  outputs: Record<string, Tensor>;
  /** serialized model bytes */
  model: Uint8Array;
}

export interface TaskGraphOptions {
  training: boolean;
  /** first block run by this graph (0 = from tokens; method.lowestBlock to reuse frozen outputs) */
  fromBlock?: number;
  precision?: 'float32' | 'float64';
}

/**
 * What hooks see while a graph is built: trainable tensors become inputs `param.NAME` on first
 * use (tensors records which were used), dropout masks become inputs `mask.NAME` when training,
 * and `constants` (a frozen adapter's tensors, not trained) become initializers `const.NAME`.
 */
export function hookContext(
  g: Graph,
  cfg: Esm2Config,
  params: readonly TrainableSpec[],
  o: { dtype: DType; training: boolean; fromLayer?: number; constants?: PeftMethod['constants'] },
): { ctx: HookContext; tensors: Map<string, Tensor>; masks: MaskSpec[] } {
  const tensors = new Map<string, Tensor>();
  const fixed = new Map<string, Tensor>();
  const masks: MaskSpec[] = [];
  const ctx: HookContext = {
    graph: g,
    cfg,
    fromLayer: o.fromLayer ?? 0,
    param(name) {
      let t = tensors.get(name) ?? fixed.get(name);
      if (!t) {
        const spec = params.find((p) => p.name === name);
        const value = spec ? undefined : o.constants?.get(name);
        if (value) {
          const data = o.dtype === 'float64' ? { data: Float64Array.from(value.data) } : { data: value.data };
          t = g.initializer(`const.${name}`, o.dtype, value.shape, data);
          fixed.set(name, t);
          return t;
        }
        if (!spec) throw new Error(`no trainable tensor '${name}'`);
        t = g.input(`param.${name}`, o.dtype, spec.shape);
        tensors.set(name, t);
      }
      return t;
    },
    dropoutMask(name, like, p) {
      if (!o.training || p <= 0) return null;
      masks.push({ name, p, shape: like.shape });
      return g.input(`mask.${name}`, o.dtype, like.shape);
    },
  };
  return { ctx, tensors, masks };
}

export function buildTaskGraph(model: LoadedModel, method: PeftMethod, head: Head, o: TaskGraphOptions): TaskGraph {
  const dt: DType = o.precision ?? 'float32';
  const from = o.fromBlock ?? 0;
  if (from > method.lowestBlock) throw new Error(`cannot start at block ${from}: the method trains block ${method.lowestBlock}`);
  const g = new Graph(`${method.name}-${head.name}-${o.training ? 'train' : 'eval'}`);
  const params = [...method.params, ...head.params];
  const { ctx, tensors, masks } = hookContext(g, model.config, params, { dtype: dt, training: o.training, fromLayer: from, constants: method.constants });
  // tokens first: its dims define the symbols B and T
  const esm = buildEsm2(g, model.config, model.source, { hooks: method.hooks(ctx), fromLayer: from, precision: dt, differentiable: o.training });
  const h = head.build(ctx, esm.final, dt);
  const outputs: Record<string, Tensor> = { loss: h.loss, ...h.outputs };
  if (o.training) {
    const used = params.filter((p) => tensors.has(p.name));
    const unused = params.filter((p) => !tensors.has(p.name)).map((p) => p.name);
    if (unused.length) throw new Error(`trainable tensors not used by the graph: ${unused.join(', ')}`);
    const grads = gradients(h.loss, used.map((p) => tensors.get(p.name)!));
    used.forEach((p, i) => (outputs[`grad.${p.name}`] = grads[i]));
  }
  const m = serialize(g, { outputs });
  return { graph: g, params, masks, fromBlock: from, outputs, model: m.model };
}

/**
 * The frozen blocks below `toBlock`: tokens -> hidden states entering block toBlock. A method
 * with constants (a frozen adapter) applies them here too; trainable tensors never reach these
 * blocks (they start at the method's lowest block).
 */
export function buildFeatureGraph(model: LoadedModel, toBlock: number, method?: PeftMethod): Uint8Array {
  const g = new Graph(`esm2-features-${toBlock}`);
  const hooks = method?.constants ? method.hooks(hookContext(g, model.config, [], { dtype: 'float32', training: false, constants: method.constants }).ctx) : undefined;
  const esm = buildEsm2(g, model.config, model.source, { toLayer: toBlock, hooks });
  return serialize(g, { outputs: { hidden: esm.blocksOut } }).model;
}
