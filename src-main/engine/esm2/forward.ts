// The ESM-2 forward graph, written once with the engine's DSL and exactly as fair-esm computes
// it: token-dropout scaling of the embeddings, pre-LayerNorm blocks, rotary attention on q and k
// (q scaled by head_dim^-0.5 first, the checkpoint's own inv_freq), padding keys masked, exact
// GELU, emb_layer_norm_after, the tied LM head and the contact head (APC over symmetrized
// attention of all layers). PEFT methods plug in through hooks; the graph may start at block k
// from precomputed hidden states (frozen lower blocks run once and are reused).

import type { Esm2Config } from './config.js';
import { type Dim, type ExternalRef, type Graph, type Tensor, END, contrib, ops } from '../graph/index.js';

const { add, concat, constant, div, equal, gather, layerNorm, matmul, mul, not, reshape, sigmoid, slice, softmax, split, sub, transpose, unsqueeze, where } = ops;

/** A weight as the graph needs it: float32 data in memory, or a float32 region of a file. */
export interface WeightRef {
  shape: number[];
  data?: Float32Array;
  external?: ExternalRef;
}

/** Weights by canonical Hugging Face name without the `esm.` prefix (e.g. `encoder.layer.0.attention.self.query.weight`). */
export interface WeightSource {
  get(name: string): WeightRef;
  /** the values as float32, wherever they are stored (for initialising PEFT parameters) */
  read(name: string): Float32Array;
}

export type LinearSite = 'query' | 'key' | 'value' | 'attn_out' | 'ffn_in' | 'ffn_out';
export const LINEAR_SITES: readonly LinearSite[] = ['query', 'key', 'value', 'attn_out', 'ffn_in', 'ffn_out'];

/** Hugging Face module path of each linear site inside `encoder.layer.N.` */
export const HF_LINEAR_NAME: Record<LinearSite, string> = {
  query: 'attention.self.query',
  key: 'attention.self.key',
  value: 'attention.self.value',
  attn_out: 'attention.output.dense',
  ffn_in: 'intermediate.dense',
  ffn_out: 'output.dense',
};

export interface LinearCall {
  layer: number;
  site: LinearSite;
  /** input [B, T, in] */
  x: Tensor;
  /** frozen weight [out, in] (Hugging Face layout) and bias [out] */
  weight: Tensor;
  bias: Tensor;
  /** x W^T + b, optionally with a replacement weight and/or input */
  base: (weight?: Tensor, input?: Tensor) => Tensor;
}

/** Extension points used by the PEFT methods; every hook is optional. */
export interface Esm2Hooks {
  /** replaces a linear layer's computation (LoRA, DoRA, IA3 on k/v/FFN) */
  linear?(call: LinearCall): Tensor;
  /** extra key/value rows per layer, [H, P, head_dim] each, attended by every query (prefix tuning) */
  attentionPrefix?(layer: number, batch: Tensor): { key: Tensor; value: Tensor } | null;
  /** sublayer outputs before the residual add; `input` is the sublayer's LayerNorm output (adapters) */
  attentionOutput?(layer: number, h: Tensor, input: Tensor): Tensor;
  ffnOutput?(layer: number, h: Tensor, input: Tensor): Tensor;
  /** hidden states entering a block (deep prompt tuning) */
  layerInput?(layer: number, x: Tensor): Tensor;
  /** soft tokens [P, D] placed before `<cls>` when entering block `atLayer` (0 = at the embeddings) */
  prompt?(): { tokens: Tensor; atLayer: number } | null;
  /** a replacement for a backbone weight, e.g. a trainable input (full fine-tuning) */
  weight?(name: string): Tensor | null;
  /**
   * sees each block's attention probabilities [B, h, T, T] (prompt/prefix positions removed), for
   * graphs that summarise them: heads firstHead .. firstHead + h - 1, all H at once unless the
   * build's attentionHeadGroup splits them. It may return a zero [B, 1, 1, 1] computed from what it
   * built on them: the next group's (or block's) attention then waits for it, so that onnxruntime
   * cannot compute the next scores while these probabilities are still held.
   */
  attentionProbs?(layer: number, probs: Tensor, firstHead: number): Tensor | void;
}

export interface Esm2Outputs {
  logits?: boolean;
  /** which representations to return: true = all (0..L) */
  representations?: boolean | number[];
  attentions?: boolean;
  contacts?: boolean;
}

export interface Esm2BuildOptions {
  outputs?: Esm2Outputs;
  hooks?: Esm2Hooks;
  /** first block to run; > 0 means the graph takes `hidden` [B, T, D], the output of block fromLayer-1 */
  fromLayer?: number;
  /** blocks to run (default: all); fewer stops early and skips the final LayerNorm */
  toLayer?: number;
  /**
   * float64 exists to verify gradients by finite differences: onnxruntime has no float64 Erf, so
   * that mode uses GELU's tanh form. Predictions always use float32 and the exact erf GELU.
   */
  precision?: 'float32' | 'float64';
  /** the graph will be differentiated: only ops with gradient rules (no fused attention) */
  differentiable?: boolean;
  /**
   * computes attention this many heads at a time (default: all): with an attentionProbs hook that
   * returns what to wait for, the scores and probabilities of a long sequence then exist for one
   * group of heads at a time, not for all H (the attention view)
   */
  attentionHeadGroup?: number;
}

export interface Esm2Graph {
  tokens: Tensor;
  /** only when fromLayer > 0 */
  hidden?: Tensor;
  /** bool [B, T]: true at padding */
  padding: Tensor;
  /** [B, T, D] after the final LayerNorm (or the last block run), prompt positions removed */
  final: Tensor;
  /** [B, T, D] output of the last block run, before any final LayerNorm, prompt positions removed */
  blocksOut: Tensor;
  logits?: Tensor;
  representations: Map<number, Tensor>;
  /** [B, L, H, T, T], zero where query or key is padding */
  attentions?: Tensor;
  /** [B, T-2, T-2] */
  contacts?: Tensor;
}

const MASK_RATIO_TRAIN = 0.15 * 0.8;
/** `<eos>` in the ESM alphabet (vocab.txt line 3) */
const EOS_ID = 2;

export function buildEsm2(g: Graph, cfg: Esm2Config, weights: WeightSource, o: Esm2BuildOptions = {}): Esm2Graph {
  const out = o.outputs ?? {};
  const hooks = o.hooks ?? {};
  const L = cfg.numLayers;
  const from = o.fromLayer ?? 0;
  const to = o.toLayer ?? L;
  if (from < 0 || from > to || to > L) throw new Error(`buildEsm2: blocks ${from}..${to} are outside 0..${L}`);
  const D = cfg.hiddenSize;
  const H = cfg.numHeads;
  const hd = cfg.headDim;
  const dt = o.precision ?? 'float32';
  const group = o.attentionHeadGroup ?? H;
  if (!(Number.isInteger(group) && group >= 1)) throw new Error(`buildEsm2: attentionHeadGroup ${group} is not a positive whole number`);
  if (group < H && (out.attentions || out.contacts)) throw new Error('buildEsm2: stacked attentions and contacts need every head at once (no attentionHeadGroup)');

  const cache = new Map<string, Tensor>();
  const w = (name: string): Tensor => {
    let t = cache.get(name);
    if (!t) {
      t = hooks.weight?.(name) ?? undefined;
      if (!t) {
        const ref = weights.get(name);
        t = dt === 'float64'
          ? g.initializer(name, 'float64', ref.shape, { data: Float64Array.from(weights.read(name)) })
          : g.initializer(name, 'float32', ref.shape, ref.data ? { data: ref.data } : { external: ref.external! });
      }
      cache.set(name, t);
    }
    return t;
  };

  const tokens = g.input('tokens', 'int64', ['B', 'T']);
  let padding = equal(tokens, constant(g, cfg.padTokenId, 'int64'));
  let notPad = ops.cast(not(padding), dt); // [B, T]

  let x: Tensor;
  let hidden: Tensor | undefined;
  const representations = new Map<number, Tensor>();
  const wantRepr = (k: number) => out.representations === true || (Array.isArray(out.representations) && out.representations.includes(k));

  const prompt = hooks.prompt?.() ?? null;
  const P = prompt ? (prompt.tokens.shape[0] as number) : 0;
  const promptAt = prompt ? prompt.atLayer : -1;
  if (prompt && (promptAt < from || promptAt >= to)) throw new Error(`buildEsm2: prompt at block ${promptAt} is outside the blocks run (${from}..${to - 1})`);

  if (from === 0) {
    x = gather(w('embeddings.word_embeddings.weight'), tokens, 0); // [B, T, D]
    if (cfg.tokenDropout) {
      const isMask = equal(tokens, constant(g, cfg.maskTokenId, 'int64'));
      x = where(unsqueeze(isMask, [2]), 0, x);
      const masked = ops.reduceSum(ops.cast(isMask, dt), [1]);
      const lengths = ops.reduceSum(notPad, [1]);
      const scale = div(1 - MASK_RATIO_TRAIN, sub(1, div(masked, lengths))); // [B]
      x = mul(x, unsqueeze(scale, [1, 2]));
    }
    x = mul(x, unsqueeze(notPad, [2]));
    if (wantRepr(0)) representations.set(0, x);
  } else {
    hidden = g.input('hidden', dt, ['B', 'T', D]);
    x = hidden;
  }
  /** Prepends the prompt positions: never padding, attended like residues. */
  const insertPrompt = () => {
    x = concat([ops.expand(unsqueeze(prompt!.tokens, [0]), ['B', P, D]), x], 1);
    const zeros = ops.expand(constant(g, [0], dt, [1, 1]), ['B', P]);
    notPad = concat([add(zeros, 1), notPad], 1);
    padding = concat([ops.cast(zeros, 'bool'), padding], 1);
  };
  const realPadding = padding;

  // Rotary frequencies over positions 0..T'-1 (T' includes prompt tokens once inserted), [T', hd/2].
  const rotaryFreqs = (layer: number, Tdim: Dim) => {
    const name = `encoder.layer.${layer}.attention.self.rotary_embeddings.inv_freq`;
    const key = `rotary:${Tdim}:${weights.get(name).data?.join(',') ?? layer}`;
    let hit = cache.get(key);
    if (!hit) {
      const n = ops.cast(gather(ops.shapeOf(x), constant(g, 1, 'int64'), 0), dt);
      const pos = ops.range(g, 0, n, 1, dt, Tdim);
      cache.set(key, (hit = mul(unsqueeze(pos, [1]), unsqueeze(w(name), [0]))));
    }
    return { key, freqs: hit };
  };
  /** cos and sin tables [T', hd] (frequencies repeated, as fair-esm builds them) */
  const rotary = (layer: number, Tdim: Dim) => {
    const { key, freqs } = rotaryFreqs(layer, Tdim);
    let hit = cache.get(`${key}:tables`);
    if (!hit) {
      const emb = concat([freqs, freqs], 1);
      cache.set(`${key}:tables`, (hit = concat([ops.cos(emb), ops.sin(emb)], 0))); // [2T', hd], split below
    }
    return split(hit, [Tdim, Tdim], 0);
  };
  /** cos and sin [T', hd/2] for the fused rotary kernel */
  const rotaryHalfTables = (layer: number, Tdim: Dim) => {
    const { key, freqs } = rotaryFreqs(layer, Tdim);
    let c = cache.get(`${key}:cos`);
    if (!c) {
      cache.set(`${key}:cos`, (c = ops.cos(freqs)));
      cache.set(`${key}:sin`, ops.sin(freqs));
    }
    return [c, cache.get(`${key}:sin`)!];
  };
  const rotateHalf = (t: Tensor) => {
    const [a, b] = split(t, [hd / 2, hd / 2], 3);
    return concat([ops.neg(b), a], 3);
  };
  const applyRotary = (t: Tensor, cos: Tensor, sin: Tensor) => add(mul(t, cos), mul(rotateHalf(t), sin));

  // float32 graphs use onnxruntime's fused kernels: GELU, and (in graphs nobody differentiates,
  // without attention outputs or prefixes) rotary embeddings + attention.
  const fused = dt === 'float32';
  const gelu = fused ? contrib.gelu : geluTanh;
  const norm = (t: Tensor, name: string) => layerNorm(t, w(`${name}.weight`), w(`${name}.bias`), cfg.layerNormEps);

  const attnList: Tensor[] = [];

  const linear = (layer: number, site: LinearSite, input: Tensor): Tensor => {
    const prefix = `encoder.layer.${layer}.${HF_LINEAR_NAME[site]}`;
    const weight = w(`${prefix}.weight`);
    const bias = w(`${prefix}.bias`);
    const base = (replacement?: Tensor, x2?: Tensor) => ops.linear(x2 ?? input, replacement ?? weight, bias);
    return hooks.linear ? hooks.linear({ layer, site, x: input, weight, bias, base }) : base();
  };
  let wait: Tensor | undefined; // what the next attention waits for (see Esm2Hooks.attentionProbs)
  let keyBias: Tensor | null = null;
  let keyValid: Tensor | null = null;
  for (let layer = from; layer < to; layer++) {
    const p = `encoder.layer.${layer}`;
    if (layer === promptAt) {
      insertPrompt();
      keyBias = null;
      keyValid = null;
    }
    const Tdim = x.shape[1];
    const heads = (t: Tensor) => transpose(reshape(t, ['B', Tdim, H, hd]), [0, 2, 1, 3]); // [B, H, T', hd]
    if (hooks.layerInput) x = hooks.layerInput(layer, x);
    // self-attention
    const h = norm(x, `${p}.attention.LayerNorm`);
    const pre = hooks.attentionPrefix?.(layer, tokens);
    let ctx: Tensor;
    if (fused && !o.differentiable && !pre && !out.attentions && !out.contacts && !hooks.attentionProbs) {
      const [cos, sin] = rotaryHalfTables(layer, Tdim);
      const q = contrib.rotaryEmbedding(linear(layer, 'query', h), cos, sin, H);
      const k = contrib.rotaryEmbedding(linear(layer, 'key', h), cos, sin, H);
      keyValid ??= ops.cast(notPad, 'int32');
      ctx = contrib.multiHeadAttention(q, k, linear(layer, 'value', h), keyValid, H, hd ** -0.5);
    } else {
      keyBias ??= unsqueeze(where(padding, -Infinity, constant(g, 0, dt)), [1, 2]); // [B, 1, 1, T']
      const [cos, sin] = rotary(layer, Tdim);
      const q = applyRotary(heads(mul(linear(layer, 'query', h), hd ** -0.5)), cos, sin);
      let k = applyRotary(heads(linear(layer, 'key', h)), cos, sin);
      let v = heads(linear(layer, 'value', h));
      let bias = keyBias;
      if (pre) {
        const Pp = pre.key.shape[1];
        k = concat([ops.expand(unsqueeze(pre.key, [0]), ['B', H, Pp, hd]), k], 2);
        v = concat([ops.expand(unsqueeze(pre.value, [0]), ['B', H, Pp, hd]), v], 2);
        bias = concat([ops.expand(constant(g, [0], dt, [1, 1, 1, 1]), ['B', 1, 1, Pp]), keyBias], 3);
      }
      const ctxs: Tensor[] = [];
      for (let h0 = 0; h0 < H; h0 += group) {
        const pick = (t: Tensor) => (group >= H ? t : slice(t, [h0], [Math.min(H, h0 + group)], [1]));
        const qg = wait ? add(pick(q), wait) : pick(q);
        const probs = softmax(add(matmul(qg, transpose(pick(k), [0, 1, 3, 2])), bias), -1); // [B, h, T', T'(+P)]
        if (out.attentions || out.contacts || hooks.attentionProbs) {
          let a = pre ? slice(probs, [pre.key.shape[1] as number], [END], [3]) : probs;
          if (layer >= promptAt && P) a = slice(a, [P, P], [END, END], [2, 3]);
          if (out.attentions || out.contacts) attnList.push(a);
          wait = hooks.attentionProbs?.(layer, a, h0) ?? wait;
        }
        ctxs.push(matmul(probs, pick(v)));
      }
      ctx = reshape(transpose(ctxs.length === 1 ? ctxs[0] : concat(ctxs, 1), [0, 2, 1, 3]), ['B', Tdim, D]);
    }
    let a = linear(layer, 'attn_out', ctx);
    if (hooks.attentionOutput) a = hooks.attentionOutput(layer, a, h);
    x = add(x, a);
    // feed-forward
    const f = norm(x, `${p}.LayerNorm`);
    let y = linear(layer, 'ffn_out', gelu(linear(layer, 'ffn_in', f)));
    if (hooks.ffnOutput) y = hooks.ffnOutput(layer, y, f);
    x = add(x, y);
    if (layer + 1 < L && wantRepr(layer + 1)) representations.set(layer + 1, layer >= promptAt ? dropPrompt(x, P) : x);
  }

  const blocksOut = dropPrompt(x, P);
  const final = dropPrompt(to === L ? norm(x, 'encoder.emb_layer_norm_after') : x, P);
  if (to === L && wantRepr(L)) representations.set(L, final);

  const result: Esm2Graph = { tokens, hidden, padding: realPadding, final, blocksOut, representations };
  if (out.logits) {
    if (to !== L) throw new Error('buildEsm2: logits need every block');
    const d = ops.linear(final, w('lm_head.dense.weight'), w('lm_head.dense.bias'));
    const n = layerNorm(gelu(d), w('lm_head.layer_norm.weight'), w('lm_head.layer_norm.bias'), cfg.layerNormEps);
    result.logits = ops.linear(n, w('embeddings.word_embeddings.weight'), w('lm_head.bias'));
  }
  if ((out.attentions || out.contacts) && from === 0 && to === L) {
    // [B, L, H, T, T], zeroed where query or key is padding (as fair-esm returns them)
    const stacked = concat(attnList.map((t) => unsqueeze(t, [1])), 1);
    const nonPad = ops.cast(not(result.padding), dt);
    const pairMask = mul(unsqueeze(nonPad, [2]), unsqueeze(nonPad, [1])); // [B, T, T]
    const attn = mul(stacked, unsqueeze(pairMask, [1, 2]));
    if (out.attentions) result.attentions = attn;
    if (out.contacts) result.contacts = contactHead(g, cfg, attn, tokens, w);
  }
  return result;
}

/** 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), for the float64 verification mode only. */
function geluTanh(x: Tensor): Tensor {
  const inner = mul(add(x, mul(mul(mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
  return mul(mul(x, 0.5), add(ops.tanh(inner), 1));
}

function dropPrompt(t: Tensor, P: number): Tensor {
  return P ? slice(t, [P], [END], [1]) : t;
}

/** fair-esm ContactPredictionHead: drop <eos>/<cls>, symmetrize, APC, logistic regression over L*H channels. */
function contactHead(g: Graph, cfg: Esm2Config, attn: Tensor, tokens: Tensor, w: (n: string) => Tensor): Tensor {
  const L = cfg.numLayers;
  const H = cfg.numHeads;
  const notEos = ops.cast(not(equal(tokens, constant(g, EOS_ID, 'int64'))), attn.dtype);
  const eosMask = mul(unsqueeze(notEos, [2]), unsqueeze(notEos, [1]));
  let a = mul(attn, unsqueeze(eosMask, [1, 2]));
  a = slice(a, [1, 1], [-1, -1], [3, 4]); // [B, L, H, T-2, T-2]
  const n = a.shape[3];
  a = reshape(a, ['B', L * H, n, n]);
  a = add(a, transpose(a, [0, 1, 3, 2]));
  const a1 = ops.reduceSum(a, [3], true);
  const a2 = ops.reduceSum(a, [2], true);
  const a12 = ops.reduceSum(a, [2, 3], true);
  a = sub(a, div(mul(a1, a2), a12));
  a = transpose(a, [0, 2, 3, 1]); // [B, n, n, L*H]
  const logit = add(matmul(a, transpose(w('contact_head.regression.weight'), [1, 0])), w('contact_head.regression.bias'));
  return sigmoid(ops.squeeze(logit, [3]));
}
