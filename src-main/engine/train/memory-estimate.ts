// What a training run's peak RSS will be, from how the trainer spends memory:
//   runtime      Node + onnxruntime themselves (about 150 MiB)
//   weights      float32 weights mapped by onnxruntime from the checkpoint (one page-cache copy
//                shared by every session); a session only touches the weights its blocks use
//   optimizer    per trainable parameter: value, gradient, accumulated gradient, AdamW's two
//                moments, and the updated copies while a step is applied (32 bytes)
//   activations  what the backward pass keeps for one batch B x T in each trained block,
//                (42 d + 1.15 H T) floats per token: residual stream, LayerNorm outputs, q/k/v,
//                rotary and head layouts, dropout inputs and masks, attention probabilities,
//                the FFN pre-activation, and onnxruntime's arena slack. The coefficients are
//                fitted to measured peaks of LoRA r=8 on q,k,v,o at ESM-2 35M and 150M shapes
//                (batches 16 x 70 and 4 x 254, all blocks and top-k: within 10 %).
//   features     with frozen blocks below the method and reuse on, their outputs
//                ((len + 2) x d float32 per sequence, in memory up to the cache limit)
// With reuse the run has two phases that never overlap: the frozen blocks' single pass (their
// weights + one inference batch) and training (the trained blocks' weights + activations); the
// peak is the larger of the two, plus what both hold (runtime, optimizer state, feature cache).

import type { Esm2Config } from '../esm2/config.js';
import type { TensorRef } from '../esm2/weights.js';

export const RUNTIME_BYTES = 150 * 2 ** 20;
export const OPTIMIZER_BYTES_PER_PARAM = 32;
const ACT_PER_D = 42;
const ACT_PER_HT = 1.15;
/** floats per token of an inference batch (FFN pre- and post-activation, and a few [T, d] buffers) */
const featureFloatsPerToken = (c: Esm2Config) => 2 * c.intermediateSize + 8 * c.hiddenSize;

export interface MemoryEstimateInput {
  config: Esm2Config;
  /** every weight tensor by canonical name (their float32 size is what onnxruntime maps) */
  tensors: ReadonlyMap<string, Pick<TensorRef, 'shape'>>;
  /** first trained block (config.numLayers: none) */
  lowestBlock: number;
  reuse: boolean;
  batchSize: number;
  /** padded length of a batch, tokens (longest sequence + 2, + prompt tokens) */
  tokens: number;
  trainable: number;
  /** sequence lengths of the training (and validation) data, for the feature cache */
  lengths?: readonly number[];
  featureCacheLimit: number;
  /** the frozen-feature pass's token budget per batch */
  featureTokenBudget?: number;
}

export interface MemoryEstimate {
  /** Node and onnxruntime themselves */
  runtimeBytes: number;
  /** float32 weights onnxruntime maps at the peak (one copy, shared by the sessions) */
  weightsBytes: number;
  /** 32 bytes per trainable parameter */
  optimizerBytes: number;
  /** activations at the peak: one batch's backward pass, or the frozen blocks' single pass */
  activationBytes: number;
  /** reused outputs of the frozen blocks (one [len + 2, d] float32 per sequence, up to the cache limit) */
  featureCacheBytes: number;
  totalBytes: number;
  /** how the estimate is made */
  formula: string;
}

export const MEMORY_FORMULA =
  'runtime (150 MiB) + 32 bytes per trainable parameter + reused frozen-block outputs ((len + 2) x d x 4 bytes per sequence, ' +
  'up to the cache limit) + the larger of two phases: the frozen blocks\' single pass (their float32 weights + one inference batch) ' +
  'and training (the trained blocks\' float32 weights + B x T x (42 d + 1.15 H T) x 4 bytes per trained block)';

function blockOf(name: string): number | null {
  const m = /^encoder\.layer\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : null;
}

export function estimateTrainingMemory(i: MemoryEstimateInput): MemoryEstimate {
  const c = i.config;
  const L = c.numLayers;
  const low = Math.min(i.lowestBlock, L);
  const reuse = i.reuse && low > 0;
  let lower = 0;
  let trained = 0;
  for (const [name, t] of i.tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * 4;
    const k = blockOf(name);
    if (!reuse) trained += bytes;
    else if (k !== null && k >= low) trained += bytes;
    else if (k !== null || name.startsWith('embeddings.')) lower += bytes;
    else trained += bytes; // final LayerNorm, heads of the model
  }
  const perToken = ACT_PER_D * c.hiddenSize + ACT_PER_HT * c.numHeads * i.tokens;
  const activationBytes = Math.round((L - low) * i.batchSize * i.tokens * perToken * 4);
  const cached = reuse && i.lengths ? i.lengths.reduce((a, n) => a + (n + 2) * c.hiddenSize * 4, 0) : 0;
  const featureCacheBytes = Math.min(cached, i.featureCacheLimit);
  const featureTokens = Math.min(i.featureTokenBudget ?? 8192, i.lengths ? i.lengths.reduce((a, n) => a + n + 2, 0) : i.batchSize * i.tokens);
  const featurePhase = reuse ? lower + featureTokens * featureFloatsPerToken(c) * 4 : 0;
  const trainingPhase = trained + activationBytes;
  const optimizerBytes = i.trainable * OPTIMIZER_BYTES_PER_PARAM;
  // the phase that sets the peak decides which weights and activations are reported
  const [weightsBytes, activations] = featurePhase > trainingPhase ? [lower, featurePhase - lower] : [trained, activationBytes];
  return {
    runtimeBytes: RUNTIME_BYTES, weightsBytes, optimizerBytes, activationBytes: activations, featureCacheBytes,
    totalBytes: RUNTIME_BYTES + weightsBytes + optimizerBytes + activations + featureCacheBytes, formula: MEMORY_FORMULA,
  };
}
