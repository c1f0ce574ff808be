// What the attention view shows for one sequence, computed inside the graph so that no [L, H, T, T] tensor ever
// exists: one chosen layer x head map [T, T]; per head, its maximum and a small thumbnail (block
// means over an S x S grid, S <= 64); and the contact map [T-2, T-2]. Memory is then one
// layer's attention at a time (the forward pass needs that anyway), not all of them at once:
// 2,000 residues on the esm2_t6 shape hold 0.3 GB per layer where the stacked maps held 1.9 GB
// per copy.
//
// The contacts are fair-esm's contact head (symmetrize, APC, logistic regression over the L*H
// maps with <cls>, <eos> and padding left out) rearranged so that each layer adds its share as
// it goes. With A_h a head's map restricted to the valid positions, S_h = A_h + A_h^T, r_h its
// row sums (= column sums) and t_h its total, APC(S_h) = S_h - r_h r_h^T / t_h, and
//   logit = b + sum_lh w_lh APC(S_lh)
//         = b + sum_l [ (W_l + W_l^T) - R_l^T diag(w_l / t_l) R_l ],   W_l = sum_h w_lh A_lh,
// where W_l is one matrix-vector product over heads and R_l [H, T] is made of row and column
// sums (matrix-vector products too): nothing of size H x T x T is created beyond the map itself.
// Numerically this is the same sum in another order; the tests compare it with the stacked head.
import { type Graph, type Tensor, mulDims, ops, subDims } from '../graph/index.js';
import type { Esm2Config } from './config.js';
import { type Esm2Hooks, type WeightSource, buildEsm2 } from './forward.js';

const { add, concat, constant, div, equal, matmul, mul, not, reshape, slice, split, squeeze, sub, transpose, unsqueeze } = ops;

/** Largest thumbnail side (a head's thumbnail is S x S with S = min(T, this)). */
export const THUMBNAIL_MAX = 64;

export interface AttentionViewOptions {
  layer: number;
  head: number;
  /** token ids of <cls>, <eos> and <pad> (positions left out of the contacts) */
  special: { cls: number; eos: number; pad: number };
  /** PEFT hooks of a run, applied to the backbone */
  hooks?: Esm2Hooks;
}

export interface AttentionViewGraph {
  /** [B, size]: every result, packed (see AttentionViewLayout and unpackAttentionView) */
  view: Tensor;
  /** input [S, T]: row s averages the tokens of block s (see poolingMatrix) */
  pool: Tensor;
}

/** Rows of block means over T tokens in S blocks (block s = tokens floor(sT/S) .. floor((s+1)T/S) - 1). */
export function poolingMatrix(T: number, S: number): Float32Array {
  const p = new Float32Array(S * T);
  for (let s = 0; s < S; s++) {
    const [a, b] = [Math.floor((s * T) / S), Math.floor(((s + 1) * T) / S)];
    for (let t = a; t < b; t++) p[s * T + t] = 1 / (b - a);
  }
  return p;
}

/**
 * Builds the view graph. Why one packed output, built from the last layer back: onnxruntime
 * orders nodes depth-first from the outputs, exploring the most recently built input first, and
 * a map stays in memory until its last reader has run. Were the summaries separate outputs,
 * the whole backbone would run before any summary and every layer's map would be held at once
 * (2.4 GB for 2,000 residues on the t6 shape). Here layer l's results are one step of a chain,
 * built after the step for l + 1, so that each step reads its own layer's map first and the
 * deeper layers' step last: layer l's map is done with before layer l + 1's exists.
 */
export function buildAttentionView(g: Graph, cfg: Esm2Config, weights: WeightSource, thumbnail: number, o: AttentionViewOptions): AttentionViewGraph {
  const L = cfg.numLayers;
  const H = cfg.numHeads;
  if (!(o.layer >= 0 && o.layer < L && o.head >= 0 && o.head < H)) throw new RangeError(`layer ${o.layer}, head ${o.head}: the model has ${L} layers of ${H} heads`);
  const regression = weights.read('contact_head.regression.weight'); // [1, L*H]

  const probs: Tensor[] = [];
  const r = buildEsm2(g, cfg, weights, { hooks: { ...o.hooks, attentionProbs: (layer, a) => void (probs[layer] = a) }, outputs: {} });
  if (probs.length !== L) throw new Error('buildAttentionView: the forward graph reported no attention');
  const [B, , T, T2] = probs[0].shape;
  const pool = g.input('pool', 'float32', [thumbnail, T2]);
  const is = (id: number) => equal(r.tokens, constant(g, id, 'int64'));
  const valid = ops.cast(not(ops.or(ops.or(is(o.special.cls), is(o.special.eos)), is(o.special.pad))), 'float32'); // [B, T]
  const vCol = unsqueeze(valid, [1, 3]); // [B, 1, T, 1]
  const vRow = unsqueeze(valid, [1, 2]); // [B, 1, 1, T]
  const flat = (t: Tensor) => reshape(t, [B, -1]);

  const TT = mulDims(T, T2);
  let next: Tensor | undefined;
  for (let layer = L - 1; layer >= 0; layer--) {
    // The deeper layers' step, cut first (built first = explored last): the running logit and their summaries.
    const [prevSum, prevRest] = next ? split(next, [TT, subDims(next.shape[1], TT)], 1) : [undefined, undefined];
    // One sequence per run (B = 1, no padding): the maps are used as they are, without a masked copy.
    const a = probs[layer];
    // This layer's share D_l of the contact logit, logit = b + D + D^T with D = sum_l W_l - APC_l / 2
    // (APC is symmetric; <cls>, <eos> and padding are left out of the contacts, so W_l needs no mask there).
    const w = Array.from(regression.subarray(layer * H, (layer + 1) * H));
    const rows = mul(matmul(a, vCol), vCol); // [B, H, T, 1]: sums over valid keys, valid queries only
    const cols = mul(matmul(vRow, a), vRow); // [B, H, 1, T]
    const rsum = squeeze(add(rows, transpose(cols, [0, 1, 3, 2])), [3]); // row sums of A + A^T, [B, H, T]
    const total = mul(ops.reduceSum(rows, [2, 3]), 2); // [B, H]
    const weighted = flat(matmul(constant(g, w, 'float32', [1, H]), reshape(a, [B, H, TT]))); // sum_h w_h A_h, [B, T*T]
    const halfScaled = mul(rsum, unsqueeze(div(constant(g, w.map((x) => x / 2), 'float32', [1, H]), total), [2])); // (w_h / 2 t_h) r_h
    const halfApc = flat(matmul(transpose(halfScaled, [0, 2, 1]), rsum)); // [B, T*T]
    const share = sub(weighted, halfApc);
    const sum = prevSum ? add(share, prevSum) : share;
    // Built last, explored first: the summaries that read this layer's map.
    const parts = [sum, flat(ops.reduceMax(a, [2, 3])), flat(matmul(pool, matmul(a, transpose(pool, [1, 0]))))];
    if (layer === o.layer) parts.push(flat(slice(a, [o.head], [o.head + 1], [1])));
    if (prevRest) parts.push(prevRest);
    next = concat(parts, 1);
  }
  return { view: next!, pool };
}

/** Where each result sits in the packed view of a sequence of T tokens. */
export function unpackAttentionView(view: Float32Array, cfg: Pick<Esm2Config, 'numLayers' | 'numHeads'>, T: number, S: number, o: { layer: number; bias: number }) {
  const { numLayers: L, numHeads: H } = cfg;
  const n = T - 2;
  const headMax = new Float32Array(L * H);
  const thumbnails = new Float32Array(L * H * S * S);
  let map: Float32Array | undefined;
  let at = 0;
  const take = (len: number) => view.subarray(at, (at += len));
  const D = take(T * T);
  for (let l = 0; l < L; l++) {
    headMax.set(take(H), l * H);
    thumbnails.set(take(H * S * S), l * H * S * S);
    if (l === o.layer) map = take(T * T).slice();
  }
  if (at !== view.length || !map) throw new Error(`attention view: ${view.length} values, expected ${at} for ${T} tokens`);
  // fair-esm's contacts leave out <cls> and <eos>: rows and columns 1 .. T-2, then the logistic.
  const contacts = new Float32Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) contacts[i * n + j] = 1 / (1 + Math.exp(-(o.bias + D[(i + 1) * T + j + 1] + D[(j + 1) * T + i + 1])));
  return { map, headMax, thumbnails, contacts };
}
