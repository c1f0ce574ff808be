// What the attention view shows for one sequence, computed inside the graph so that no [L, H, T, T] tensor ever
// exists: one chosen layer x head map [T, T]; per head, its maximum and a small thumbnail (block
// means over an S x S grid, S <= 64); and the contact map [T-2, T-2]. Memory is then one group
// of heads' attention at a time (see buildAttentionView), not all of it at once: 2,000 residues on
// the esm2_t6 shape hold 64 MB per group of 4 heads where the stacked maps held 1.9 GB per copy.
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
import { type Dim, type Graph, type Tensor, mulDims, ops } from '../graph/index.js';
import type { Esm2Config } from './config.js';
import { type Esm2Hooks, type WeightSource, buildEsm2 } from './forward.js';

const { add, concat, constant, div, equal, matmul, mul, not, reshape, slice, squeeze, sub, transpose, unsqueeze } = ops;

/** Largest thumbnail side (a head's thumbnail is S x S with S = min(T, this)). */
export const THUMBNAIL_MAX = 64;

export interface AttentionViewOptions {
  layer: number;
  head: number;
  /** token ids of <cls>, <eos> and <pad> (positions left out of the contacts) */
  special: { cls: number; eos: number; pad: number };
  /** PEFT hooks of a run, applied to the backbone */
  hooks?: Esm2Hooks;
  /** heads computed at a time (default: all; see headGroupFor); unpackAttentionView needs the same */
  headGroup?: number;
}

export interface AttentionViewGraph {
  /** [B, size]: every result, packed (see AttentionViewLayout and unpackAttentionView) */
  view: Tensor;
  /** input [S, T]: row s averages the tokens of block s (see poolingMatrix) */
  pool: Tensor;
}

/** Bytes of one group's attention probabilities that a long sequence is held to. */
const GROUP_BYTES = 64 * 2 ** 20;

/**
 * Heads per group for a sequence of T tokens: all of them while one layer's [H, T, T] maps fit
 * in GROUP_BYTES, fewer beyond (2,000 residues on the t6 shape: 4 of 20 heads, 64 MB a group
 * instead of 320 MB for the layer; the runtime holds a group's scores and probabilities together).
 */
export function headGroupFor(H: number, T: number): number {
  return Math.max(1, Math.min(H, Math.floor(GROUP_BYTES / (4 * T * T))));
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
 * Builds the view graph. The forward computes a layer's attention a group of heads at a time
 * (headGroup), and each group's summaries are built as soon as its probabilities exist; the next
 * group's attention waits for them (it adds a zero computed from them), because onnxruntime
 * would otherwise compute every group's, or the next block's, scores while these probabilities
 * are still held. At most one group's scores and probabilities are then alive; the running
 * contact logit and the chosen head's map are the only [T, T] tensors kept to the end, in one
 * packed output.
 */
export function buildAttentionView(g: Graph, cfg: Esm2Config, weights: WeightSource, thumbnail: number, o: AttentionViewOptions): AttentionViewGraph {
  const L = cfg.numLayers;
  const H = cfg.numHeads;
  const G = o.headGroup ?? H;
  if (!(o.layer >= 0 && o.layer < L && o.head >= 0 && o.head < H)) throw new RangeError(`layer ${o.layer}, head ${o.head}: the model has ${L} layers of ${H} heads`);
  const regression = weights.read('contact_head.regression.weight'); // [1, L*H]

  let sum: Tensor | undefined;
  const summaries: Tensor[] = [];
  // the pooling input and the masks of the valid positions, made once for every group
  let inputs: { pool: Tensor; vCol: Tensor; vRow: Tensor } | undefined;
  const inputsFor = (T2: Dim) => {
    if (inputs) return inputs;
    const tokens = g.inputs.find((t) => t.name === 'tokens')!;
    const is = (id: number) => equal(tokens, constant(g, id, 'int64'));
    const valid = ops.cast(not(ops.or(ops.or(is(o.special.cls), is(o.special.eos)), is(o.special.pad))), 'float32'); // [B, T]
    inputs = { pool: g.input('pool', 'float32', [thumbnail, T2]), vCol: unsqueeze(valid, [1, 3]), vRow: unsqueeze(valid, [1, 2]) }; // [B, 1, T, 1], [B, 1, 1, T]
    return inputs;
  };
  const summarise = (layer: number, a: Tensor, h0: number): Tensor => {
    // One sequence per run (B = 1, no padding): the maps are used as they are, without a masked copy.
    const [B, h, T, T2] = a.shape as [Dim, number, Dim, Dim];
    const { pool, vCol, vRow } = inputsFor(T2);
    const flat = (t: Tensor) => reshape(t, [B, -1]);
    // This group's share D of the contact logit, logit = b + D + D^T with D = sum W - APC / 2 over
    // layers and heads (APC is symmetric; <cls>, <eos> and padding are left out of the contacts,
    // so W needs no mask there).
    const w = Array.from(regression.subarray(layer * H + h0, layer * H + h0 + h));
    const rows = mul(matmul(a, vCol), vCol); // [B, h, T, 1]: sums over valid keys, valid queries only
    const cols = mul(matmul(vRow, a), vRow); // [B, h, 1, T]
    const rsum = squeeze(add(rows, transpose(cols, [0, 1, 3, 2])), [3]); // row sums of A + A^T, [B, h, T]
    const total = mul(ops.reduceSum(rows, [2, 3]), 2); // [B, h]
    const weighted = flat(matmul(constant(g, w, 'float32', [1, h]), reshape(a, [B, h, mulDims(T, T2)]))); // sum_h w_h A_h, [B, T*T]
    const halfScaled = mul(rsum, unsqueeze(div(constant(g, w.map((x) => x / 2), 'float32', [1, h]), total), [2])); // (w_h / 2 t_h) r_h
    const halfApc = flat(matmul(transpose(halfScaled, [0, 2, 1]), rsum)); // [B, T*T]
    const share = sub(weighted, halfApc);
    sum = sum ? add(sum, share) : share;
    const parts = [flat(ops.reduceMax(a, [2, 3])), flat(matmul(pool, matmul(a, transpose(pool, [1, 0]))))];
    if (layer === o.layer && o.head >= h0 && o.head < h0 + h) parts.push(flat(slice(a, [o.head - h0], [o.head - h0 + 1], [1])));
    summaries.push(...parts);
    // 0 whatever the values (NaN included): equal(x, x) is true or false, times 0
    const all = [sum, ...parts].map((t) => ops.reduceSum(t, [1])).reduce((x, y) => add(x, y)); // [B]
    return unsqueeze(mul(ops.cast(equal(all, all), 'float32'), constant(g, 0, 'float32')), [1, 2, 3]);
  };
  buildEsm2(g, cfg, weights, { hooks: { ...o.hooks, attentionProbs: summarise }, outputs: {}, attentionHeadGroup: G });
  if (summaries.length < 2 * L || !sum || !inputs) throw new Error('buildAttentionView: the forward graph reported no attention');
  return { view: concat([sum, ...summaries], 1), pool: inputs.pool };
}

/** Where each result sits in the packed view of a sequence of T tokens. */
export function unpackAttentionView(view: Float32Array, cfg: Pick<Esm2Config, 'numLayers' | 'numHeads'>, T: number, S: number, o: { layer: number; head: number; bias: number; headGroup?: number }) {
  const { numLayers: L, numHeads: H } = cfg;
  const G = o.headGroup ?? H;
  const n = T - 2;
  const headMax = new Float32Array(L * H);
  const thumbnails = new Float32Array(L * H * S * S);
  let map: Float32Array | undefined;
  let at = 0;
  const take = (len: number) => view.subarray(at, (at += len));
  const D = take(T * T);
  for (let l = 0; l < L; l++)
    for (let h0 = 0; h0 < H; h0 += G) {
      const h = Math.min(H, h0 + G) - h0;
      headMax.set(take(h), l * H + h0);
      thumbnails.set(take(h * S * S), (l * H + h0) * S * S);
      if (l === o.layer && o.head >= h0 && o.head < h0 + h) map = take(T * T).slice();
    }
  if (at !== view.length || !map) throw new Error(`attention view: ${view.length} values, expected ${at} for ${T} tokens`);
  // fair-esm's contacts leave out <cls> and <eos>: rows and columns 1 .. T-2, then the logistic.
  const contacts = new Float32Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) contacts[i * n + j] = 1 / (1 + Math.exp(-(o.bias + D[(i + 1) * T + j + 1] + D[(j + 1) * T + i + 1])));
  return { map, headMax, thumbnails, contacts };
}
