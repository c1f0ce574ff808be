// onnxruntime's fused operators (the com.microsoft domain), float32 only. They replace chains
// of elementwise passes over large activations with one kernel: GELU, rotary embeddings and
// multi-head attention. Gelu has a gradient rule (grad-rules.ts) like every other op;
// RotaryEmbedding and MultiHeadAttention have none and are used only in graphs that are never
// differentiated (inference, frozen features). (SkipLayerNormalization, residual add + LayerNorm
// in one kernel, measured 2.5x slower than Add + LayerNormalization in onnxruntime 1.30 on CPU.)

import { dimEq, shapeStr } from './dims.js';
import { constant } from './ops.js';
import { GraphError, type Tensor, attr } from './graph.js';

const MS = 'com.microsoft';

function need32(op: string, ts: (Tensor | null)[]): void {
  for (const t of ts) if (t && t.dtype !== 'float32') throw new GraphError(`${MS}:${op}: float32 only, got ${t}`);
}

/** Exact (erf) GELU in one kernel. */
export function gelu(x: Tensor): Tensor {
  need32('Gelu', [x]);
  return x.graph.node(`${MS}:Gelu`, [x], {}, [{ dtype: x.dtype, shape: x.shape }])[0];
}

/**
 * Rotary embeddings in the rotate-half (GPT-NeoX) layout ESM-2 uses, on x [B, T, H * hd] with
 * positions 0..T-1: x cos + rotate_half(x) sin, where cos/sin [T, hd / 2] are the tables.
 */
export function rotaryEmbedding(x: Tensor, cos: Tensor, sin: Tensor, numHeads: number): Tensor {
  need32('RotaryEmbedding', [x, cos, sin]);
  if (x.rank !== 3) throw new GraphError(`${MS}:RotaryEmbedding: input must be [B, T, D], got ${x}`);
  const g = x.graph;
  return g.node(`${MS}:RotaryEmbedding`, [x, constant(g, [0], 'int64'), cos, sin], { interleaved: attr.i(0), num_heads: attr.i(numHeads) }, [{ dtype: x.dtype, shape: x.shape }])[0];
}

/**
 * softmax(q k^T * scale, keys where keyValid is 0 excluded) v per head, for q, k, v [B, T, H * hd]
 * and keyValid int32 [B, T] (1 = a real token). Returns [B, T, H * hd].
 */
export function multiHeadAttention(q: Tensor, k: Tensor, v: Tensor, keyValid: Tensor, numHeads: number, scale: number): Tensor {
  need32('MultiHeadAttention', [q, k, v]);
  if (keyValid.dtype !== 'int32' || keyValid.rank !== 2) throw new GraphError(`${MS}:MultiHeadAttention: key mask must be int32 [B, T], got ${keyValid}`);
  for (const t of [k, v]) if (!t.shape.every((d, i) => dimEq(d, q.shape[i]))) throw new GraphError(`${MS}:MultiHeadAttention: q, k, v differ in shape: ${shapeStr(q.shape)} vs ${t}`);
  return q.graph.node(`${MS}:MultiHeadAttention`, [q, k, v, null, keyValid], { num_heads: attr.i(numHeads), scale: attr.f(scale) }, [{ dtype: q.dtype, shape: q.shape }])[0];
}
