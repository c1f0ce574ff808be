// Batched ESM-2 inference: sequences are sorted by length and packed into batches under a
// token budget (padding never changes a result: padded keys are masked, padded rows dropped),
// and sequences longer than the model window are run as overlapping windows and merged by the
// rule below, which every output that used it states.
//
// Long-sequence rule: windows of W residues (default 1022, ESM-2's practical limit) start every
// W - overlap residues, the last one aligned to the sequence end. A residue's per-position
// outputs come from the window in which it lies farthest from a window edge (ties: the earlier
// window); `<cls>` comes from the first window, `<eos>` from the last. A pair of positions
// (attentions, contacts) comes from the window containing both in which the nearer-to-an-edge of
// the two lies farthest from an edge; pairs that share no window are 0.

import * as ort from 'onnxruntime-node';
import { Graph, type Tensor, serialize } from '../graph/index.js';
import { type RuntimeOptions, type Session, createSession } from '../runtime/index.js';
import { type Esm2Hooks, buildEsm2 } from './forward.js';
import type { LoadedModel } from './model.js';

export type EmitKind = 'logits' | 'representations' | 'attentions' | 'contacts';
export const EMIT_KINDS: readonly EmitKind[] = ['logits', 'representations', 'attentions', 'contacts'];

export interface InferOptions {
  emit: readonly EmitKind[];
  /** max padded tokens (batch x longest) per run; default 16384, less for wide models (defaultTokenBudget) */
  tokenBudget?: number;
  /** max attention cells (batch x longest^2) per run; default one full window, 1024 x 1024 */
  pairBudget?: number;
  /**
   * with attentions or contacts: max attention values (batch x layers x heads x T x T) per run;
   * default 16M (64 MB per attention-sized tensor). Attention maps grow with the square of
   * the length, so batches of long sequences (or of windows) are cut by this as well.
   */
  attentionBudget?: number;
  maxBatch?: number;
  /** residues per window for long sequences; default 1022 */
  window?: number;
  /** residues shared by consecutive windows; default 256 */
  overlap?: number;
  runtime?: RuntimeOptions;
  signal?: AbortSignal;
  onProgress?: (p: { done: number; total: number; residues: number; residuesPerSecond: number }) => void;
}

export interface OutputTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface WindowInfo {
  window: number;
  overlap: number;
  /** 0-based [start, end) residue ranges */
  ranges: [number, number][];
  rule: string;
}

export interface SequenceOutput {
  index: number;
  id: string;
  length: number;
  tensors: OutputTensor[];
  windows?: WindowInfo;
}

export const WINDOW_RULE =
  "overlapping windows; each residue's outputs from the window where it lies farthest from a window edge, " +
  '<cls> from the first window, <eos> from the last; pairs from the common window where the pair is most central, 0 where they share none';

/**
 * A fine-tuned model as inference sees it: the PEFT method's hooks with the run's tensors as
 * graph constants, and optionally the run's per-residue classifier, whose scores are then the
 * `logits` output (as a Hugging Face token-classification model's logits) instead of the MLM head's.
 */
export interface Adaptation {
  hooks(g: Graph): Esm2Hooks;
  classifier?(g: Graph, final: Tensor): Tensor;
}

/** An inference session for one set of outputs. */
export class Esm2Runner {
  private constructor(
    readonly model: LoadedModel,
    readonly emit: readonly EmitKind[],
    readonly session: Session,
    readonly outputNames: string[],
    /** the fine-tuned model it runs, when not the plain checkpoint */
    readonly adapted?: Adaptation,
  ) {}

  /**
   * `reprLayers` picks the representations written when emit includes them, as fair-esm's
   * repr_layers: 0 = scaled embeddings, L = after the final LayerNorm, negative counts from the
   * end (-1 = L); default [L], the last.
   */
  static async create(model: LoadedModel, emit: readonly EmitKind[], runtime: RuntimeOptions = {}, adaptation?: Adaptation, o: { reprLayers?: readonly number[] } = {}): Promise<Esm2Runner> {
    const g = new Graph('esm2-inference');
    const r = buildEsm2(g, model.config, model.source, {
      hooks: adaptation?.hooks(g),
      outputs: {
        logits: emit.includes('logits') && !adaptation?.classifier,
        representations: emit.includes('representations') ? reprLayers(model.config.numLayers, o.reprLayers) : false,
        attentions: emit.includes('attentions'),
        contacts: emit.includes('contacts'),
      },
    });
    const outputs: Record<string, Tensor> = {};
    if (r.logits) outputs.logits = r.logits;
    if (emit.includes('logits') && adaptation?.classifier) outputs.logits = adaptation.classifier(g, r.final);
    for (const [k, t] of r.representations) outputs[`representations.${k}`] = t;
    if (r.attentions) outputs.attentions = r.attentions;
    if (r.contacts) outputs.contacts = r.contacts;
    if (Object.keys(outputs).length === 0) throw new Error('nothing to emit: choose at least one of ' + EMIT_KINDS.join(', '));
    const m = serialize(g, { outputs });
    const session = await createSession(m.model, { ...runtime, weightsDir: model.weightsDir });
    return new Esm2Runner(model, emit, session, m.outputNames, adaptation);
  }

  /** Runs padded token rows [B, T]; returns each output's raw batch tensor. */
  async runBatch(sequences: readonly string[]): Promise<{ lengths: number[]; T: number; out: Record<string, ort.Tensor> }> {
    const enc = this.model.tokenizer.encodeBatch(sequences, 'int64');
    const out = await this.session.run({ tokens: new ort.Tensor('int64', enc.ids, [enc.batch, enc.maxLen]) });
    return { lengths: Array.from(enc.lengths, (n) => n - 2), T: enc.maxLen, out };
  }

  /** Unpadded outputs of batch row b holding a sequence of n residues. */
  unpad(batch: { T: number; out: Record<string, ort.Tensor> }, b: number, n: number): OutputTensor[] {
    const res: OutputTensor[] = [];
    const T = batch.T;
    for (const name of this.outputNames) {
      const t = batch.out[name];
      const data = t.data as Float32Array;
      const dims = t.dims as readonly number[];
      if (name === 'logits' || name.startsWith('representations.')) {
        const X = dims[2];
        res.push({ name, shape: [n + 2, X], data: data.slice(b * T * X, b * T * X + (n + 2) * X) });
      } else if (name === 'attentions') {
        const [, L, H] = dims;
        const m = n + 2;
        const o = new Float32Array(L * H * m * m);
        for (let lh = 0; lh < L * H; lh++)
          for (let i = 0; i < m; i++) {
            const src = ((b * L * H + lh) * T + i) * T;
            o.set(data.subarray(src, src + m), (lh * m + i) * m);
          }
        res.push({ name, shape: [L, H, m, m], data: o });
      } else if (name === 'contacts') {
        const C = T - 2;
        const o = new Float32Array(n * n);
        for (let i = 0; i < n; i++) o.set(data.subarray((b * C + i) * C, (b * C + i) * C + n), i * n);
        res.push({ name, shape: [n, n], data: o });
      }
    }
    return res;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** Representation indices 0..L from fair-esm-style layer numbers (negative from the end); default [L]. */
export function reprLayers(L: number, layers: readonly number[] = [L]): number[] {
  const out = new Set<number>();
  for (const k of layers) {
    if (!Number.isInteger(k) || k < -(L + 1) || k > L) throw new Error(`representation layer ${k} is outside 0..${L} (or -${L + 1}..-1 from the end) for a model with ${L} layers`);
    out.add(k < 0 ? L + 1 + k : k);
  }
  return [...out].sort((a, b) => a - b);
}

export function windowRanges(n: number, W: number, overlap: number): [number, number][] {
  if (n <= W) return [[0, n]];
  if (overlap < 0 || overlap >= W) throw new Error(`window overlap ${overlap} must be in [0, ${W})`);
  const stride = W - overlap;
  const ranges: [number, number][] = [];
  for (let s = 0; ; s += stride) {
    if (s + W >= n) {
      ranges.push([n - W, n]);
      break;
    }
    ranges.push([s, s + W]);
  }
  return ranges;
}

/** Index of the window where residue i is most central (ties: earlier window). */
function bestWindow(ranges: [number, number][], i: number): number {
  let best = -1;
  let score = -1;
  ranges.forEach(([s, e], k) => {
    if (i < s || i >= e) return;
    const c = Math.min(i - s, e - 1 - i);
    if (c > score) [best, score] = [k, c];
  });
  return best;
}

/**
 * Window for a pair of token positions (0 = <cls>, n+1 = <eos>), or -1 when they share none.
 * Looks at every window: used for the O(n) pairs that involve <cls> or <eos>; residue pairs go
 * through pairRuns.
 */
export function pairWindow(ranges: readonly (readonly [number, number])[], n: number, p: number, q: number): number {
  let best = -1;
  let score = -1;
  ranges.forEach(([s, e], k) => {
    const central = (t: number) => (t === 0 ? (k === 0 ? 0 : -1) : t === n + 1 ? (k === ranges.length - 1 ? 0 : -1) : t - 1 >= s && t - 1 < e ? Math.min(t - 1 - s, e - t) : -1);
    const c = Math.min(central(p), central(q));
    if (c > score) [best, score] = [k, c];
  });
  return best;
}

/**
 * The window of every residue pair (i, j) of row i, as runs: visit(j0, j1, k) for consecutive
 * j in [j0, j1) that take the pair from window k (-1: no window holds both). Same rule as
 * pairWindow, found in amortised O(n + windows) per row instead of O(n x windows): with
 * lo = min(i, j) and hi = max(i, j), a window [s, e) holding both scores min(lo - s, e - 1 - hi),
 * the minimum of a falling and a rising sequence as windows move right (starts and ends both
 * increase), so the first best window is found by walking right while the score strictly
 * improves; and as j grows, both the windows holding the pair and the best of them only move
 * right, so one pointer serves the whole row.
 */
export function pairRuns(ranges: readonly (readonly [number, number])[], n: number, i: number, visit: (j0: number, j1: number, k: number) => void): void {
  const K = ranges.length;
  let k = 0;
  let runStart = 0;
  let runK = -2;
  for (let j = 0; j < n; j++) {
    const lo = j < i ? j : i;
    const hi = j < i ? i : j;
    while (k < K && ranges[k][1] <= hi) k++; // first window that reaches hi
    let w = -1;
    if (k < K && ranges[k][0] <= lo) {
      let score = Math.min(lo - ranges[k][0], ranges[k][1] - 1 - hi);
      while (k + 1 < K && ranges[k + 1][0] <= lo) {
        const next = Math.min(lo - ranges[k + 1][0], ranges[k + 1][1] - 1 - hi);
        if (next <= score) break;
        k++;
        score = next;
      }
      w = k;
    }
    if (w !== runK) {
      if (runK !== -2) visit(runStart, j, runK);
      runStart = j;
      runK = w;
    }
  }
  if (n > 0) visit(runStart, n, runK);
}

/** Local token position of global token position p inside window k. */
function localPos(ranges: [number, number][], n: number, k: number, p: number): number {
  const W = ranges[k][1] - ranges[k][0];
  return p === 0 ? 0 : p === n + 1 ? W + 1 : p - ranges[k][0];
}

/** Merge the windows' outputs of one long sequence by the long-sequence rule (see the header). */
export function mergeWindows(n: number, ranges: [number, number][], parts: OutputTensor[][]): OutputTensor[] {
  const merged: OutputTensor[] = [];
  for (let o = 0; o < parts[0].length; o++) {
    const name = parts[0][o].name;
    const per = parts.map((p) => p[o]);
    if (name === 'logits' || name.startsWith('representations.')) {
      const X = per[0].shape[1];
      const data = new Float32Array((n + 2) * X);
      for (let p = 0; p < n + 2; p++) {
        const k = p === 0 ? 0 : p === n + 1 ? ranges.length - 1 : bestWindow(ranges, p - 1);
        const lp = localPos(ranges, n, k, p);
        data.set(per[k].data.subarray(lp * X, lp * X + X), p * X);
      }
      merged.push({ name, shape: [n + 2, X], data });
    } else if (name === 'attentions') {
      const [L, H] = per[0].shape;
      const m = n + 2;
      const data = new Float32Array(L * H * m * m);
      const copy = (p: number, q0: number, q1: number, k: number) => {
        const m0 = per[k].shape[2];
        const [lp, lq] = [localPos(ranges, n, k, p), localPos(ranges, n, k, q0)];
        for (let lh = 0; lh < L * H; lh++) {
          const src = (lh * m0 + lp) * m0 + lq;
          data.set(per[k].data.subarray(src, src + (q1 - q0)), (lh * m + p) * m + q0);
        }
      };
      // residue pairs by runs; pairs with <cls> or <eos> (O(n) of them) one by one
      for (let i = 0; i < n; i++) pairRuns(ranges, n, i, (j0, j1, k) => k >= 0 && copy(i + 1, j0 + 1, j1 + 1, k));
      for (let p = 0; p < m; p++)
        for (const q of p === 0 || p === m - 1 ? Array.from({ length: m }, (_, x) => x) : [0, m - 1]) {
          const k = pairWindow(ranges, n, p, q);
          if (k >= 0) copy(p, q, q + 1, k);
        }
      merged.push({ name, shape: [L, H, m, m], data });
    } else if (name === 'contacts') {
      const data = new Float32Array(n * n);
      for (let i = 0; i < n; i++) {
        pairRuns(ranges, n, i, (j0, j1, k) => {
          if (k < 0) return;
          const s = ranges[k][0];
          const W = per[k].shape[0];
          const src = (i - s) * W + (j0 - s);
          data.set(per[k].data.subarray(src, src + (j1 - j0)), i * n + j0);
        });
      }
      merged.push({ name, shape: [n, n], data });
    }
  }
  return merged;
}

/**
 * Memory bounds of one run. The attention scores of a batch take B x H x T^2 floats, so batches
 * hold at most one full window's worth of them (1024^2 cells, pairBudgetRows): a batch of long
 * sequences, or of the windows of a sequence beyond the model's window, needs no more memory
 * than one 1,022-residue sequence. The token budget also shrinks for wide models, so that the
 * largest activation (tokens x ffn floats) stays within 256 MiB.
 */
export const DEFAULT_PAIR_BUDGET = 1024 * 1024;
export function defaultTokenBudget(intermediateSize: number): number {
  return Math.max(1024, Math.min(16384, Math.floor((256 * 2 ** 20) / (4 * intermediateSize))));
}
/** Rows of T tokens whose attention scores fit the pair budget (B x T^2 cells). */
export const pairBudgetRows = (T: number, pairBudget = DEFAULT_PAIR_BUDGET) => Math.max(1, Math.floor(pairBudget / (T * T)));

/**
 * Batches of indices (sorted by length, longest first) under the token budget; `maxRows(T)`
 * further caps the rows of a batch whose longest row has T tokens (the attention budget).
 */
export function planBatches(lengths: readonly number[], tokenBudget: number, maxBatch: number, maxRows: (T: number) => number = () => maxBatch): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a] || a - b);
  const batches: number[][] = [];
  let cur: number[] = [];
  for (const i of order) {
    const T = (cur.length ? lengths[cur[0]] : lengths[i]) + 2;
    if (cur.length && ((cur.length + 1) * T > tokenBudget || cur.length >= Math.min(maxBatch, maxRows(T)))) {
      batches.push(cur);
      cur = [];
    }
    cur.push(i);
  }
  if (cur.length) batches.push(cur);
  return batches;
}

/** Runs every sequence; yields results as their batch completes (not in input order). */
export async function* inferSequences(runner: Esm2Runner, seqs: readonly { id: string; sequence: string }[], o: Omit<InferOptions, 'emit' | 'runtime'> = {}): AsyncGenerator<SequenceOutput> {
  const W = o.window ?? 1022;
  const overlap = o.overlap ?? 256;
  const budget = o.tokenBudget ?? defaultTokenBudget(runner.model.config.intermediateSize);
  const pairBudget = o.pairBudget ?? DEFAULT_PAIR_BUDGET;
  const maxBatch = o.maxBatch ?? 64;
  const { numLayers, numHeads } = runner.model.config;
  const pairs = runner.emit.includes('attentions') || runner.emit.includes('contacts');
  const attentionBudget = o.attentionBudget ?? 16 * 1024 * 1024;
  // the forward's own attention scores bound every batch; emitted attention maps (all layers) more
  const maxRows = (T: number) => Math.min(pairBudgetRows(T, pairBudget), pairs ? Math.max(1, Math.floor(attentionBudget / (numLayers * numHeads * T * T))) : maxBatch);
  const lengths = seqs.map((s) => runner.model.tokenizer.residueIds(s.sequence).length);
  const short = lengths.map((n, i) => (n <= W ? i : -1)).filter((i) => i >= 0);
  const long = lengths.map((n, i) => (n > W ? i : -1)).filter((i) => i >= 0);
  const total = seqs.length;
  let done = 0;
  let residues = 0;
  const t0 = performance.now();
  const progress = () => {
    const dt = (performance.now() - t0) / 1000;
    o.onProgress?.({ done, total, residues, residuesPerSecond: dt > 0 ? residues / dt : 0 });
  };
  const check = () => {
    if (o.signal?.aborted) throw new DOMException('inference cancelled', 'AbortError');
  };

  for (const batch of planBatches(short.map((i) => lengths[i]), budget, maxBatch, maxRows)) {
    check();
    const idx = batch.map((k) => short[k]);
    const res = await runner.runBatch(idx.map((i) => seqs[i].sequence));
    for (let b = 0; b < idx.length; b++) {
      const i = idx[b];
      done++;
      residues += lengths[i];
      yield { index: i, id: seqs[i].id, length: lengths[i], tensors: runner.unpad(res, b, lengths[i]) };
    }
    progress();
  }
  for (const i of long) {
    check();
    const n = lengths[i];
    const ranges = windowRanges(n, W, overlap);
    const residuesOf = runner.model.tokenizer.residueIds(seqs[i].sequence);
    const parts: OutputTensor[][] = [];
    // Windows have equal length: run them in batches that respect the budget, no padding.
    const perBatch = Math.max(1, Math.min(maxBatch, maxRows(W + 2), Math.floor(budget / (W + 2))));
    for (let k = 0; k < ranges.length; k += perBatch) {
      check();
      const chunk = ranges.slice(k, k + perBatch).map(([s, e]) => runner.model.tokenizer.decode(residuesOf.slice(s, e)));
      const res = await runner.runBatch(chunk);
      chunk.forEach((_, b) => parts.push(runner.unpad(res, b, W)));
    }
    done++;
    residues += n;
    yield {
      index: i, id: seqs[i].id, length: n, tensors: mergeWindows(n, ranges, parts),
      windows: { window: W, overlap, ranges, rule: WINDOW_RULE },
    };
    progress();
  }
}
