// Signal-peptide decoding gives one self-consistent answer: the region path lies within the
// reported type's states, a cleavage site exists only when that path has a signal peptide that
// ends inside the window, cleavage-site probabilities equal the exact ones enumerated over every
// allowed path, and uncertain calls are flagged.
import { describe, expect, it } from 'vitest';
import { SP_TYPES, type SpType } from '../../src-main/engine/data/signalp.js';
import { type CrfParams, type Emissions, logPartition, pathScore, signalp6Params } from '../../src-main/engine/tasks/signal-peptide/crf-reference.js';
import { cleavageSiteProbabilities, decodeSp, viterbiWithin } from '../../src-main/engine/tasks/signal-peptide/decode.js';
import { ALLOWED_TRANSITION_LIST, NUM_REGION_STATES, REGION_STATES, START_STATES, TYPE_STATES, cleavageSiteOfPath, pathType } from '../../src-main/engine/tasks/signal-peptide/regions.js';
import { marginals } from '../../src-main/engine/tasks/signal-peptide/crf-reference.js';
import { rng } from '../helpers/gradcheck.js';

const T = NUM_REGION_STATES;

function randomCrf(r: () => number): CrfParams {
  return signalp6Params({
    transitions: Float64Array.from({ length: T * T }, () => (r() - 0.5) * 2),
    start: Float64Array.from({ length: T }, () => (r() - 0.5) * 2),
    end: Float64Array.from({ length: T }, () => (r() - 0.5)),
  });
}
const randomEm = (L: number, r: () => number, scale = 3): Emissions => ({ length: L, numTags: T, data: Float64Array.from({ length: L * T }, () => (r() - 0.5) * 2 * scale) });
/** Rows as the head outputs them: <cls>, residues, <eos>. */
const rowsOf = (em: Emissions) => Float32Array.from([...new Array(T).fill(0), ...em.data, ...new Array(T).fill(0)]);
/** Emissions that survive the float32 round trip of rowsOf, so both sides decode the same numbers. */
const f32 = (em: Emissions): Emissions => ({ ...em, data: Float64Array.from(Float32Array.from(em.data)) });

/** Every allowed path of length L (starts and transitions of SignalP 6.0), by depth-first search. */
function allowedPaths(L: number): number[][] {
  const next = Array.from({ length: T }, () => [] as number[]);
  for (const [a, b] of ALLOWED_TRANSITION_LIST) next[a].push(b);
  const out: number[][] = [];
  const walk = (p: number[]) => {
    if (p.length === L) return void out.push(p.slice());
    for (const s of next[p[p.length - 1]]) walk([...p, s]);
  };
  for (const s of START_STATES) walk([s]);
  return out;
}

describe('signal-peptide decoding', () => {
  const L = 5;
  const paths = allowedPaths(L);

  it('cleavage-site probabilities and the per-type best path equal brute force over every allowed path', () => {
    const r = rng(3);
    for (let trial = 0; trial < 6; trial++) {
      const crf = randomCrf(r);
      const em = randomEm(L, r);
      const logZ = logPartition(em, crf);
      const exact = new Float64Array(L);
      const best = new Map<SpType, { score: number; path: number[] }>();
      for (const p of paths) {
        const s = pathScore(em, crf, p);
        const cs = cleavageSiteOfPath(p);
        if (cs !== null) exact[cs - 1] += Math.exp(s - logZ);
        const t = pathType(p)!;
        const b = best.get(t);
        if (!b || s > b.score) best.set(t, { score: s, path: p });
      }
      const got = cleavageSiteProbabilities(marginals(em, crf), L);
      for (let i = 0; i < L; i++) expect(got[i]).toBeCloseTo(exact[i], 10);
      for (const t of SP_TYPES) expect(Array.from(viterbiWithin(em, crf, TYPE_STATES[t]))).toEqual(best.get(t)!.path);
    }
  });

  it('reports a path of the reported type, a cleavage site only inside the window, and flags what is uncertain', () => {
    const r = rng(9);
    const crf = randomCrf(r);
    let differs = 0;
    let beyond = 0;
    for (let trial = 0; trial < 300; trial++) {
      const kingdom = trial % 3 === 0 ? 'EUKARYA' : trial % 3 === 1 ? 'NEGATIVE' : null;
      const em = f32(randomEm(8 + (trial % 5), r, 2));
      const d = decodeSp(rowsOf(em), em.length, kingdom, crf);
      // the path lies within the reported type's states: its letters are that type's
      expect(pathType(d.path)).toBe(d.type);
      const own = d.type === 'NO_SP' ? '' : REGION_STATES[TYPE_STATES[d.type][0]].letter;
      expect([...d.letters].every((c) => !'SLTP'.includes(c) || c === own)).toBe(true);
      const run = cleavageSiteOfPath(d.path);
      if (d.type === 'NO_SP') expect(run).toBeNull();
      else expect(run).not.toBeNull();
      if (run === em.length) {
        beyond++;
        expect(d.cleavageSite).toBeNull();
        expect(d.flags.map((f) => f.code)).toContain('cs-beyond-window');
      } else expect(d.cleavageSite).toBe(run);
      if (d.cleavageSite !== null) expect(d.cleavageSiteProbability).toBe(d.csProbs[d.cleavageSite - 1]);
      else expect(d.cleavageSiteProbability).toBeNull();
      const pType = d.typeProbs[SP_TYPES.indexOf(d.type)];
      expect(d.flags.some((f) => f.code === 'low-type-probability')).toBe(pType < 0.5);
      const bestReported = kingdom === 'EUKARYA' && d.bestPathType !== 'NO_SP' ? 'SP' : d.bestPathType;
      expect(d.flags.some((f) => f.code === 'path-type-differs')).toBe(bestReported !== d.type);
      if (bestReported !== d.type) differs++;
      expect(d.flags.some((f) => f.code === 'low-cs-probability')).toBe(d.cleavageSiteProbability !== null && d.cleavageSiteProbability < 0.5);
    }
    // the random CRF produces both kinds of disagreement, so the checks above ran on them
    expect(differs).toBeGreaterThan(0);
    expect(beyond).toBeGreaterThan(0);
  });

  it('gives a confident Sec/SPI call its cleavage site and no flags', () => {
    const crf = signalp6Params();
    const L = 30;
    const em: Emissions = { length: L, numTags: T, data: new Float64Array(L * T).fill(-5) };
    const want = [...new Array(4).fill(3), ...new Array(10).fill(4), ...new Array(6).fill(5), ...new Array(10).fill(8)];
    want.forEach((s, i) => (em.data[i * T + s] = 8));
    const d = decodeSp(rowsOf(em), L, 'EUKARYA', crf);
    expect(d.type).toBe('SP');
    expect(Array.from(d.path)).toEqual(want);
    expect(d.cleavageSite).toBe(20);
    expect(d.cleavageSiteProbability).toBeGreaterThan(0.99);
    expect(d.flags).toEqual([]);
  });
});
