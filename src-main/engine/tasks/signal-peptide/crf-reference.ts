// Reference linear-chain CRF in float64, plain TypeScript. It is the independent yardstick the
// ONNX CRF (trained on the accelerator) is tested against, so it favours obviousness over speed.
//
// Model (SignalP 6.0's multi_tag_crf.CRF, which PEFT-SP uses): for emissions e[t][j] (length L,
// T tags), start scores a[j], transitions A[i][j] and end scores b[j], a path y scores
//   s(y) = a[y0] + e[0][y0] + sum_{t>=1} (A[y_{t-1}][y_t] + e[t][y_t]) + b[y_{L-1}],
// and p(y) = exp(s(y) - log Z) with log Z = logsumexp over all paths (forward algorithm).
// Constraints are hard here: a disallowed transition or start is -Infinity (SignalP 6.0 uses a
// trainable -20 instead; see regions.ts for why its end list is not applied).
//
// Provided: log Z (forward), the score and negative log-likelihood of a path, the multi-tag NLL
// SignalP 6.0 trains with (-log of the probability mass of all paths inside per-residue tag
// sets), Viterbi (ties -> lowest state index), posterior marginals (forward-backward), SP-type
// probabilities from the marginals and the cleavage site from the Viterbi path.
//
// SP-type probabilities follow SignalP 6.0 (BertSequenceTaggingCRF.compute_global_labels_
// multistate): the marginals are averaged over the sequence positions and summed over each
// type's states (TYPE_STATES). With SignalP 6.0's transitions no path ever leaves its type's
// states, so this equals the type's marginal mass at any single position, e.g. the first.
// The predicted type is the argmax; for EUKARYA, SignalP 6.0 (when it knows the kingdom) first
// adds the mass of all signal-peptide types to SP and zeroes the others (predict_global_labels),
// since eukaryotes only have Sec/SPI signal peptides: `predictSpType` does that by default.
import type { Kingdom, SpType } from '../../data/signalp.js';
import { SP_TYPES } from '../../data/signalp.js';
import {
  ALLOWED_TRANSITION_LIST,
  CLASS_STATE_MAP,
  NUM_REGION_STATES,
  START_STATES,
  cleavageSiteOfPath,
} from './regions.js';

export interface CrfParams {
  numTags: number;
  /** row-major [from * numTags + to]; -Infinity = disallowed */
  transitions: Float64Array;
  /** per tag; -Infinity = not a start state */
  start: Float64Array;
  /** per tag; 0 when end scores are not used */
  end: Float64Array;
}

/** Emissions of one sequence: row-major [length x numTags]. */
export interface Emissions {
  length: number;
  numTags: number;
  data: Float64Array;
}

/**
 * Parameters with hard constraints: allowed[from][to] and startStates decide which entries
 * keep their score (from `scores`, default 0) and which become -Infinity.
 */
export function constrainedParams(
  numTags: number,
  allowed: readonly (readonly [number, number])[],
  startStates: readonly number[],
  scores: { transitions?: ArrayLike<number>; start?: ArrayLike<number>; end?: ArrayLike<number>; endStates?: readonly number[] } = {},
): CrfParams {
  const transitions = new Float64Array(numTags * numTags).fill(-Infinity);
  for (const [a, b] of allowed) transitions[a * numTags + b] = scores.transitions ? scores.transitions[a * numTags + b] : 0;
  const start = new Float64Array(numTags).fill(-Infinity);
  for (const s of startStates) start[s] = scores.start ? scores.start[s] : 0;
  const end = new Float64Array(numTags);
  for (let j = 0; j < numTags; j++) end[j] = scores.end ? scores.end[j] : 0;
  if (scores.endStates) {
    const keep = new Set(scores.endStates);
    for (let j = 0; j < numTags; j++) if (!keep.has(j)) end[j] = -Infinity;
  }
  return { numTags, transitions, start, end };
}

/** SignalP 6.0's 37-state CRF constraints (transitions + starts), with optional learned scores. */
export function signalp6Params(scores: { transitions?: ArrayLike<number>; start?: ArrayLike<number>; end?: ArrayLike<number> } = {}): CrfParams {
  return constrainedParams(NUM_REGION_STATES, ALLOWED_TRANSITION_LIST, START_STATES, scores);
}

function logSumExp(xs: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) if (xs[i] > m) m = xs[i];
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += Math.exp(xs[i] - m);
  return m + Math.log(s);
}

function check(em: Emissions, p: CrfParams): void {
  if (em.numTags !== p.numTags) throw new Error(`emissions have ${em.numTags} tags, CRF ${p.numTags}`);
  if (em.data.length !== em.length * em.numTags) throw new Error(`emissions hold ${em.data.length} values, expected ${em.length}x${em.numTags}`);
  if (em.length < 1) throw new Error('empty sequence');
}

/** Forward log-messages alpha [L x T] (alpha[t][j] = log-sum of all prefixes ending in j at t). */
export function forward(em: Emissions, p: CrfParams): Float64Array {
  check(em, p);
  const T = p.numTags;
  const L = em.length;
  const alpha = new Float64Array(L * T);
  for (let j = 0; j < T; j++) alpha[j] = p.start[j] + em.data[j];
  const tmp = new Float64Array(T);
  for (let t = 1; t < L; t++) {
    for (let j = 0; j < T; j++) {
      for (let i = 0; i < T; i++) tmp[i] = alpha[(t - 1) * T + i] + p.transitions[i * T + j];
      alpha[t * T + j] = logSumExp(tmp) + em.data[t * T + j];
    }
  }
  return alpha;
}

/** Backward log-messages beta [L x T] (beta[t][i] = log-sum of all suffixes after t given i at t, end included). */
export function backward(em: Emissions, p: CrfParams): Float64Array {
  check(em, p);
  const T = p.numTags;
  const L = em.length;
  const beta = new Float64Array(L * T);
  for (let j = 0; j < T; j++) beta[(L - 1) * T + j] = p.end[j];
  const tmp = new Float64Array(T);
  for (let t = L - 2; t >= 0; t--) {
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) tmp[j] = p.transitions[i * T + j] + em.data[(t + 1) * T + j] + beta[(t + 1) * T + j];
      beta[t * T + i] = logSumExp(tmp);
    }
  }
  return beta;
}

/** log Z. -Infinity when no allowed path exists. */
export function logPartition(em: Emissions, p: CrfParams): number {
  const alpha = forward(em, p);
  const T = p.numTags;
  const last = new Float64Array(T);
  for (let j = 0; j < T; j++) last[j] = alpha[(em.length - 1) * T + j] + p.end[j];
  return logSumExp(last);
}

/** Unnormalised score s(path); -Infinity if the path uses a disallowed start or transition. */
export function pathScore(em: Emissions, p: CrfParams, path: ArrayLike<number>): number {
  check(em, p);
  if (path.length !== em.length) throw new Error(`path has ${path.length} states, emissions ${em.length}`);
  const T = p.numTags;
  let s = p.start[path[0]] + em.data[path[0]];
  for (let t = 1; t < path.length; t++) s += p.transitions[path[t - 1] * T + path[t]] + em.data[t * T + path[t]];
  return s + p.end[path[path.length - 1]];
}

/** -log p(path) = log Z - s(path); +Infinity for a disallowed path. */
export function negLogLikelihood(em: Emissions, p: CrfParams, path: ArrayLike<number>): number {
  return logPartition(em, p) - pathScore(em, p, path);
}

/**
 * SignalP 6.0's multi-tag loss: -log of the total probability of the paths whose state at each
 * position t is in tags[t] (row-major [L x T] of 0/1). +Infinity when no allowed path fits.
 */
export function negLogLikelihoodTagSets(em: Emissions, p: CrfParams, tags: ArrayLike<number>): number {
  check(em, p);
  const T = p.numTags;
  if (tags.length !== em.length * T) throw new Error(`tag sets hold ${tags.length} values, expected ${em.length}x${T}`);
  const masked: Emissions = { length: em.length, numTags: T, data: new Float64Array(em.data) };
  for (let k = 0; k < masked.data.length; k++) if (!tags[k]) masked.data[k] = -Infinity;
  return logPartition(em, p) - logPartition(masked, p);
}

export interface ViterbiResult {
  path: Int32Array;
  score: number;
}

/** Best path (ties -> lowest state index, both for predecessors and for the last state). */
export function viterbi(em: Emissions, p: CrfParams): ViterbiResult {
  check(em, p);
  const T = p.numTags;
  const L = em.length;
  let delta = new Float64Array(T);
  for (let j = 0; j < T; j++) delta[j] = p.start[j] + em.data[j];
  const back = new Int32Array(L * T).fill(-1);
  for (let t = 1; t < L; t++) {
    const next = new Float64Array(T);
    for (let j = 0; j < T; j++) {
      let best = -Infinity;
      let arg = -1;
      for (let i = 0; i < T; i++) {
        const v = delta[i] + p.transitions[i * T + j];
        if (v > best) {
          best = v;
          arg = i;
        }
      }
      next[j] = best + em.data[t * T + j];
      back[t * T + j] = arg;
    }
    delta = next;
  }
  let end = -1;
  let best = -Infinity;
  for (let j = 0; j < T; j++) {
    const v = delta[j] + p.end[j];
    if (v > best) {
      best = v;
      end = j;
    }
  }
  if (end < 0) throw new Error('no allowed path');
  const path = new Int32Array(L);
  path[L - 1] = end;
  for (let t = L - 1; t > 0; t--) path[t - 1] = back[t * T + path[t]];
  return { path, score: best };
}

/** Posterior marginals p(y_t = j) [L x T] by forward-backward. */
export function marginals(em: Emissions, p: CrfParams): Float64Array {
  const alpha = forward(em, p);
  const beta = backward(em, p);
  const T = p.numTags;
  const L = em.length;
  const last = new Float64Array(T);
  for (let j = 0; j < T; j++) last[j] = alpha[(L - 1) * T + j] + p.end[j];
  const logZ = logSumExp(last);
  if (logZ === -Infinity) throw new Error('no allowed path');
  const out = new Float64Array(L * T);
  for (let k = 0; k < L * T; k++) out[k] = Math.exp(alpha[k] + beta[k] - logZ);
  return out;
}

/**
 * Class probabilities from marginals: mean over positions of the summed marginal mass of each
 * class's states (SignalP 6.0's compute_global_labels_multistate). Default classes: the six SP
 * types in SP_TYPES order.
 */
export function typeProbabilities(marg: Float64Array, length: number, numTags: number, classStates: readonly (readonly number[])[] = CLASS_STATE_MAP): Float64Array {
  const out = new Float64Array(classStates.length);
  for (let c = 0; c < classStates.length; c++) {
    let s = 0;
    for (let t = 0; t < length; t++) for (const j of classStates[c]) s += marg[t * numTags + j];
    out[c] = s / length;
  }
  return out;
}

/**
 * Predicted SP type from type probabilities (SP_TYPES order). For EUKARYA the signal-peptide
 * types are folded into SP first (SignalP 6.0's predict_global_labels with kingdom ids) unless
 * `foldEukarya` is false. Returns the type and the (possibly folded) probabilities.
 */
export function predictSpType(probs: ArrayLike<number>, kingdom: Kingdom | null, foldEukarya = true): { type: SpType; probs: Float64Array } {
  const q = Float64Array.from(probs);
  if (kingdom === 'EUKARYA' && foldEukarya) {
    let sp = 0;
    for (let c = 1; c < q.length; c++) sp += q[c];
    q[1] = sp;
    for (let c = 2; c < q.length; c++) q[c] = 0;
  }
  let arg = 0;
  for (let c = 1; c < q.length; c++) if (q[c] > q[arg]) arg = c;
  return { type: SP_TYPES[arg], probs: q };
}

export interface SignalPPrediction {
  /** type probabilities in SP_TYPES order (folded for EUKARYA, see predictSpType) */
  typeProbs: Float64Array;
  type: SpType;
  viterbi: Int32Array;
  /** cleavage site from the Viterbi path (1-based last SP residue), null if it has no SP */
  cleavageSite: number | null;
  marginals: Float64Array;
}

/** Everything SignalP 6.0 reads off the CRF for one sequence of 37-state emissions. */
export function predictSignalP(em: Emissions, p: CrfParams, kingdom: Kingdom | null): SignalPPrediction {
  const marg = marginals(em, p);
  const raw = typeProbabilities(marg, em.length, p.numTags);
  const { type, probs } = predictSpType(raw, kingdom);
  const v = viterbi(em, p);
  return { typeProbs: probs, type, viterbi: v.path, cleavageSite: cleavageSiteOfPath(v.path), marginals: marg };
}
