import { describe, expect, it } from 'vitest';
import { readSignalPFile } from '../../src-main/engine/data/signalp.js';
import {
  type CrfParams,
  type Emissions,
  constrainedParams,
  logPartition,
  marginals,
  negLogLikelihood,
  negLogLikelihoodTagSets,
  pathScore,
  predictSignalP,
  predictSpType,
  signalp6Params,
  typeProbabilities,
  viterbi,
} from '../../src-main/engine/tasks/signal-peptide/crf-reference.js';
import {
  ALLOWED_TRANSITIONS,
  ALLOWED_TRANSITION_LIST,
  CLASS_STATE_MAP,
  NUM_REGION_STATES,
  START_STATES,
  cleavageSiteOfPath,
  deriveRegions,
  firstDisallowed,
  trainingTagSets,
} from '../../src-main/engine/tasks/signal-peptide/regions.js';
import { rng } from '../helpers/gradcheck.js';
import { shared } from '../helpers/paths.js';

function randomEmissions(length: number, numTags: number, r: () => number, scale = 3): Emissions {
  return { length, numTags, data: Float64Array.from({ length: length * numTags }, () => (r() - 0.5) * 2 * scale) };
}

/** Every path of the given length over T tags. */
function* allPaths(T: number, L: number): Generator<number[]> {
  const p = new Array<number>(L).fill(0);
  for (;;) {
    yield p.slice();
    let k = L - 1;
    while (k >= 0 && p[k] === T - 1) p[k--] = 0;
    if (k < 0) return;
    p[k]++;
  }
}

/** Path score written out from the definition, independently of the module. */
function bruteScore(em: Emissions, allowed: boolean[][], starts: Set<number>, trans: number[][], start: number[], end: number[], path: number[]): number {
  if (!starts.has(path[0])) return -Infinity;
  let s = start[path[0]] + em.data[path[0]];
  for (let t = 1; t < path.length; t++) {
    if (!allowed[path[t - 1]][path[t]]) return -Infinity;
    s += trans[path[t - 1]][path[t]] + em.data[t * em.numTags + path[t]];
  }
  return s + end[path[path.length - 1]];
}

describe('reference CRF against brute-force enumeration (4 states, length 4)', () => {
  const T = 4;
  const L = 4;
  // allowed: self loops, 0->1, 1->2, 2->3, 3->1, 2->0; starts {0, 2}
  const list: [number, number][] = [[0, 0], [1, 1], [2, 2], [3, 3], [0, 1], [1, 2], [2, 3], [3, 1], [2, 0]];
  const allowed = Array.from({ length: T }, () => new Array<boolean>(T).fill(false));
  for (const [a, b] of list) allowed[a][b] = true;
  const starts = new Set([0, 2]);

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`matches log Z, marginals, Viterbi and NLL exactly enough (seed ${seed})`, () => {
      const r = rng(seed);
      const trans = Array.from({ length: T }, () => Array.from({ length: T }, () => r() * 2 - 1));
      const start = Array.from({ length: T }, () => r() * 2 - 1);
      const end = Array.from({ length: T }, () => r() * 2 - 1);
      const p: CrfParams = constrainedParams(T, list, [...starts], { transitions: trans.flat(), start, end });
      const em = randomEmissions(L, T, r);

      const scores: [number[], number][] = [];
      for (const path of allPaths(T, L)) scores.push([path, bruteScore(em, allowed, starts, trans, start, end, path)]);
      const finite = scores.filter(([, s]) => s > -Infinity);
      const m = Math.max(...finite.map(([, s]) => s));
      const logZ = m + Math.log(finite.reduce((a, [, s]) => a + Math.exp(s - m), 0));
      expect(logPartition(em, p)).toBeCloseTo(logZ, 12);

      const marg = marginals(em, p);
      for (let t = 0; t < L; t++)
        for (let j = 0; j < T; j++) {
          const want = finite.filter(([path]) => path[t] === j).reduce((a, [, s]) => a + Math.exp(s - logZ), 0);
          expect(marg[t * T + j]).toBeCloseTo(want, 12);
        }

      const best = finite.reduce((a, b) => (b[1] > a[1] ? b : a));
      const v = viterbi(em, p);
      expect([...v.path]).toEqual(best[0]);
      expect(v.score).toBeCloseTo(best[1], 12);

      for (const [path, s] of scores.slice(0, 64)) {
        if (s === -Infinity) {
          expect(pathScore(em, p, path)).toBe(-Infinity);
          expect(negLogLikelihood(em, p, path)).toBe(Infinity);
        } else {
          expect(pathScore(em, p, path)).toBeCloseTo(s, 12);
          expect(negLogLikelihood(em, p, path)).toBeCloseTo(logZ - s, 12);
        }
      }

      // multi-tag NLL: residues 1 and 3 may be {0,1} or {1,2,3}, the rest anything
      const tags = new Uint8Array(L * T).fill(1);
      for (const j of [2, 3]) tags[1 * T + j] = 0;
      tags[3 * T + 0] = 0;
      const inside = finite.filter(([path]) => tags[1 * T + path[1]] && tags[3 * T + path[3]]);
      const logIn = Math.log(inside.reduce((a, [, s]) => a + Math.exp(s), 0));
      expect(negLogLikelihoodTagSets(em, p, tags)).toBeCloseTo(logZ - logIn, 12);
      // one-hot tag sets are the single-path NLL
      const oneHot = new Uint8Array(L * T);
      best[0].forEach((j, t) => (oneHot[t * T + j] = 1));
      expect(negLogLikelihoodTagSets(em, p, oneHot)).toBeCloseTo(negLogLikelihood(em, p, best[0]), 12);
    });
  }

  it('breaks Viterbi ties towards the lowest state index', () => {
    const p = constrainedParams(T, list, [0, 2]);
    const v = viterbi({ length: L, numTags: T, data: new Float64Array(L * T) }, p);
    expect([...v.path]).toEqual([0, 0, 0, 0]);
    expect(v.score).toBe(0);
  });

  it('reports impossible tag sets as infinite loss', () => {
    const p = constrainedParams(T, list, [0, 2]);
    const tags = new Uint8Array(L * T);
    // only state 1 at residue 0: not a start state
    tags.fill(1);
    for (const j of [0, 2, 3]) tags[j] = 0;
    expect(negLogLikelihoodTagSets(randomEmissions(L, T, rng(9)), p, tags)).toBe(Infinity);
  });
});

describe('reference CRF with SignalP 6.0 constraints (37 states)', () => {
  const r = rng(42);
  const scores = {
    transitions: Float64Array.from({ length: 37 * 37 }, () => r() - 0.5),
    start: Float64Array.from({ length: 37 }, () => r() - 0.5),
  };
  const p = signalp6Params(scores);

  it('agrees with brute force over all 37^3 paths of length 3', () => {
    const em = randomEmissions(3, 37, r);
    const finite: [number[], number][] = [];
    const starts = new Set(START_STATES);
    const trans = Array.from({ length: 37 }, (_, a) => Array.from({ length: 37 }, (_, b) => scores.transitions[a * 37 + b]));
    const allowed = ALLOWED_TRANSITIONS.map((row) => [...row]);
    for (const path of allPaths(37, 3)) {
      const s = bruteScore(em, allowed, starts, trans, [...scores.start], new Array(37).fill(0), path);
      if (s > -Infinity) finite.push([path, s]);
    }
    const m = Math.max(...finite.map(([, s]) => s));
    const logZ = m + Math.log(finite.reduce((a, [, s]) => a + Math.exp(s - m), 0));
    expect(logPartition(em, p)).toBeCloseTo(logZ, 11);
    const marg = marginals(em, p);
    for (let j = 0; j < 37; j++) {
      const want = finite.filter(([path]) => path[1] === j).reduce((a, [, s]) => a + Math.exp(s - logZ), 0);
      expect(marg[37 + j]).toBeCloseTo(want, 12);
    }
  });

  it('gives normalised marginals, type probabilities equal to the first-position mass, and an allowed Viterbi path', () => {
    for (let k = 0; k < 5; k++) {
      const em = randomEmissions(40, 37, r, 4);
      const marg = marginals(em, p);
      for (let t = 0; t < 40; t++) {
        let s = 0;
        for (let j = 0; j < 37; j++) s += marg[t * 37 + j];
        expect(s).toBeCloseTo(1, 12);
      }
      const probs = typeProbabilities(marg, 40, 37);
      expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      // paths never change type, so every position carries the same type mass
      CLASS_STATE_MAP.forEach((states, c) => {
        for (const t of [0, 17, 39]) expect(states.reduce((a, j) => a + marg[t * 37 + j], 0)).toBeCloseTo(probs[c], 12);
      });
      const v = viterbi(em, p);
      expect(firstDisallowed(v.path)).toBe(-1);
      const pred = predictSignalP(em, p, 'NEGATIVE');
      expect(pred.cleavageSite).toBe(cleavageSiteOfPath(v.path));
      expect([...pred.viterbi]).toEqual([...v.path]);
    }
  });

  it('assigns finite loss to every training target of the shared data, and Viterbi beats them', async () => {
    const { records } = await readSignalPFile(shared('data', 'signalp6', 'small_dataset_30.partitions-0-1.fasta'));
    let inexact = 0;
    for (const rec of records.slice(0, 200)) {
      const d = deriveRegions(rec);
      const em = randomEmissions(rec.sequence.length, NUM_REGION_STATES, r);
      const target = trainingTagSets(d);
      if (!target.exact) inexact++;
      const nll = negLogLikelihoodTagSets(em, p, target.tags);
      expect(Number.isFinite(nll)).toBe(true);
      expect(nll).toBeGreaterThanOrEqual(-1e-9);
      expect(negLogLikelihood(em, p, d.path)).toBeGreaterThanOrEqual(nll - 1e-9);
      expect(viterbi(em, p).score).toBeGreaterThanOrEqual(pathScore(em, p, d.path) - 1e-9);
      // SignalP 6.0's raw tags are impossible under hard constraints exactly when not feasible
      if (!d.tagsFeasible) expect(negLogLikelihoodTagSets(em, p, d.tags!)).toBe(Infinity);
    }
    expect(inexact).toBeGreaterThan(0);
  });

  it('uses the allowed-transition list (80 finite entries) and the seven start states', () => {
    expect([...p.transitions].filter(Number.isFinite)).toHaveLength(ALLOWED_TRANSITION_LIST.length);
    expect([...p.start].map((x, i) => (Number.isFinite(x) ? i : -1)).filter((i) => i >= 0)).toEqual([...START_STATES]);
  });
});

describe('SP type prediction', () => {
  it('folds all signal-peptide types into SP for EUKARYA, as SignalP 6.0 does', () => {
    const probs = [0.4, 0.2, 0.05, 0.3, 0.0, 0.05];
    // NEGATIVE: argmax = NO_SP (0.4)
    expect(predictSpType(probs, 'NEGATIVE').type).toBe('NO_SP');
    // EUKARYA: SP = 0.2 + 0.05 + 0.3 + 0 + 0.05 = 0.6 > 0.4
    const e = predictSpType(probs, 'EUKARYA');
    expect(e.type).toBe('SP');
    expect([...e.probs].map((x) => Math.round(x * 100) / 100)).toEqual([0.4, 0.6, 0, 0, 0, 0]);
    expect(predictSpType(probs, 'EUKARYA', false).type).toBe('NO_SP');
  });
});
