// The linear-chain CRF inside the training graph: log Z by the forward algorithm, unrolled over
// a static number of positions with ReduceLogSumExp, and SignalP 6.0's multi-tag negative
// log-likelihood (log Z minus the log-sum over the paths that stay inside per-residue tag sets).
// Gradients come from the graph's autodiff, like every other op; crf-reference.ts is the float64
// yardstick it is tested against.
//
// Parameters (trainable graph inputs, all float):
//   transitions [A]   one score per ALLOWED transition (structure.allowed order);
//   start       [S]   one score per allowed start state (structure.startStates order);
//   end         [T]   one score per state.
// In the graph they are scattered (Gather from [params, NEG]) into a full [T, T] matrix and a
// start vector in which every disallowed entry is the constant CRF_NEG. Only allowed entries
// are parameters, so a disallowed transition can never be learned back into existence.
//
// Why CRF_NEG and not -Infinity: a state no path can reach would have forward score -Infinity
// and the ReduceLogSumExp gradient exp(x - y) would be NaN. -1e4 is "minus infinity" for every
// number that matters: exp(-1e4) is exactly 0 in float32 and float64, so log Z in float64 agrees
// with the reference (which uses true -Infinity) to rounding. A path through one disallowed
// entry could only matter if its other scores beat every allowed path by ~1e4, i.e. emission
// and transition scores of magnitude ~70 over 70 residues; trained heads stay far below that.
//
// Padding: emissions are [B, L, T] with a static L (the unroll length) and `valid` [B, L] marks
// the residues of each sequence (a prefix). At a padded position the forward message is carried
// over unchanged (Where), so a padded sequence gives bit for bit the numbers it gives alone.
import type { Graph, Tensor } from '../../graph/index.js';
import { ops } from '../../graph/index.js';
import { type CrfParams, constrainedParams } from './crf-reference.js';
import { ALLOWED_TRANSITION_LIST, NUM_REGION_STATES, START_STATES } from './regions.js';

export const CRF_NEG = -1e4;

/** The fixed structure of a constrained CRF: states, allowed transitions and start states. */
export interface CrfStructure {
  numTags: number;
  allowed: readonly (readonly [number, number])[];
  startStates: readonly number[];
}

/** SignalP 6.0's 37-state structure (regions.ts). */
export const SIGNALP6_CRF: CrfStructure = Object.freeze({
  numTags: NUM_REGION_STATES,
  allowed: ALLOWED_TRANSITION_LIST,
  startStates: START_STATES,
});

/** Sizes of the three parameter vectors. */
export function crfParamSizes(s: CrfStructure): { transitions: number; start: number; end: number; total: number } {
  const t = s.allowed.length;
  const st = s.startStates.length;
  return { transitions: t, start: st, end: s.numTags, total: t + st + s.numTags };
}

/**
 * The reference CRF's parameters (-Infinity where disallowed) from the three vectors, or from
 * one flat vector [transitions, start, end] as the graph packs it.
 */
export function crfParamsFromVectors(s: CrfStructure, flat: ArrayLike<number>): CrfParams {
  const z = crfParamSizes(s);
  if (flat.length < z.total) throw new Error(`CRF parameters: ${flat.length} values, expected ${z.total}`);
  const T = s.numTags;
  const trans = new Float64Array(T * T);
  s.allowed.forEach(([a, b], k) => (trans[a * T + b] = flat[k]));
  const start = new Float64Array(T);
  s.startStates.forEach((j, k) => (start[j] = flat[z.transitions + k]));
  const end = new Float64Array(T);
  for (let j = 0; j < T; j++) end[j] = flat[z.transitions + z.start + j];
  return constrainedParams(T, s.allowed, s.startStates, { transitions: trans, start, end });
}

export interface CrfGraphParams {
  /** [T, T], CRF_NEG where disallowed */
  transitions: Tensor;
  /** [T], CRF_NEG for non-start states */
  start: Tensor;
  /** [T] */
  end: Tensor;
}

/** Scatters the parameter vectors into the full matrices the recursion uses. */
export function crfGraphParams(g: Graph, s: CrfStructure, transitions: Tensor, start: Tensor, end: Tensor): CrfGraphParams {
  const T = s.numTags;
  const z = crfParamSizes(s);
  const dt = transitions.dtype;
  const check = (t: Tensor, n: number, what: string) => {
    if (t.rank !== 1 || t.shape[0] !== n) throw new Error(`CRF ${what} must be a vector of ${n}, got ${t}`);
  };
  check(transitions, z.transitions, 'transitions');
  check(start, z.start, 'start scores');
  check(end, T, 'end scores');
  const neg = ops.constant(g, [CRF_NEG], dt);
  // index of each matrix entry in [params..., NEG]
  const tIdx = new Array<number>(T * T).fill(z.transitions);
  s.allowed.forEach(([a, b], k) => (tIdx[a * T + b] = k));
  const sIdx = new Array<number>(T).fill(z.start);
  s.startStates.forEach((j, k) => (sIdx[j] = k));
  const full = ops.gather(ops.concat([transitions, neg], 0), ops.constant(g, tIdx, 'int64', [T, T]), 0);
  const st = ops.gather(ops.concat([start, neg], 0), ops.constant(g, sIdx, 'int64', [T]), 0);
  return { transitions: full, start: st, end };
}

/**
 * log Z per sequence [B] by the forward algorithm over emissions [B, L, T] (L static),
 * positions where valid [B, L] is false being skipped (a padded suffix).
 */
export function crfLogPartition(emissions: Tensor, valid: Tensor, p: CrfGraphParams): Tensor {
  const L = emissions.shape[1];
  if (typeof L !== 'number') throw new Error(`CRF: the unroll length must be static, got ${emissions}`);
  if (valid.dtype !== 'bool') throw new Error(`CRF: valid must be bool, got ${valid}`);
  const es = L > 1 ? ops.split(emissions, new Array<number>(L).fill(1), 1) : [emissions];
  const vs = L > 1 ? ops.split(valid, new Array<number>(L).fill(1), 1) : [valid];
  let alpha = ops.add(ops.squeeze(es[0], [1]), p.start); // [B, T]
  for (let t = 1; t < L; t++) {
    // s[b, j] = logsumexp_i alpha[b, i] + A[i, j]
    const s = ops.reduceLogSumExp(ops.add(ops.unsqueeze(alpha, [2]), p.transitions), [1]);
    alpha = ops.where(vs[t], ops.add(s, ops.squeeze(es[t], [1])), alpha);
  }
  return ops.reduceLogSumExp(ops.add(alpha, p.end), [1]);
}

/**
 * SignalP 6.0's multi-tag NLL per sequence [B]: log Z - log(sum of exp(score) over the paths
 * whose state at each valid position is in tags [B, L, T] (bool)). With one tag per position it
 * is the ordinary path NLL.
 */
export function crfTagSetNll(emissions: Tensor, valid: Tensor, tags: Tensor, p: CrfGraphParams): Tensor {
  if (tags.dtype !== 'bool') throw new Error(`CRF: tags must be bool, got ${tags}`);
  const logZ = crfLogPartition(emissions, valid, p);
  const inside = crfLogPartition(ops.where(tags, emissions, CRF_NEG), valid, p);
  return ops.sub(logZ, inside);
}
