// The CRF inside the graph (crf-graph.ts) against the float64 reference (crf-reference.ts):
// log Z and the multi-tag NLL agree to 1e-9 in a float64 graph, a padded batch gives exactly
// the numbers of each sequence alone, and the gradients match finite differences.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { readSignalPFile } from '../../src-main/engine/data/signalp.js';
import { Graph, type Tensor, ops, serialize } from '../../src-main/engine/graph/index.js';
import { type Emissions, logPartition, negLogLikelihoodTagSets } from '../../src-main/engine/tasks/signal-peptide/crf-reference.js';
import {
  type CrfStructure,
  SIGNALP6_CRF,
  crfGraphParams,
  crfLogPartition,
  crfParamSizes,
  crfParamsFromVectors,
  crfTagSetNll,
} from '../../src-main/engine/tasks/signal-peptide/crf-graph.js';
import { NUM_REGION_STATES, deriveRegions, trainingTagSets } from '../../src-main/engine/tasks/signal-peptide/regions.js';
import { gradCheck, rng } from '../helpers/gradcheck.js';
import { shared } from '../helpers/paths.js';

ort.env.logLevel = 'fatal';

interface Case {
  s: CrfStructure;
  L: number;
  lengths: number[];
  /** [B, L, T] */
  emissions: Float64Array;
  /** [B, L, T] 0/1 */
  tags: Uint8Array;
  flat: Float64Array;
}

/** A random small structure whose allowed transitions keep every state reachable from a start. */
function randomStructure(T: number, r: () => number): CrfStructure {
  const allowed: [number, number][] = [];
  for (let a = 0; a < T; a++) for (let b = 0; b < T; b++) if (a === b || b === (a + 1) % T || r() < 0.3) allowed.push([a, b]);
  const startStates = [...Array(T).keys()].filter((j) => j === 0 || r() < 0.4);
  return { numTags: T, allowed, startStates };
}

/** A random allowed path of length n (walks the structure). */
function randomPath(s: CrfStructure, n: number, r: () => number): number[] {
  const p = [s.startStates[Math.floor(r() * s.startStates.length)]];
  while (p.length < n) {
    const next = s.allowed.filter(([a]) => a === p[p.length - 1]).map(([, b]) => b);
    p.push(next[Math.floor(r() * next.length)]);
  }
  return p;
}

function randomCase(s: CrfStructure, L: number, lengths: number[], seed: number, extraTags = 0.3): Case {
  const r = rng(seed);
  const T = s.numTags;
  const B = lengths.length;
  const emissions = Float64Array.from({ length: B * L * T }, () => (r() - 0.5) * 6);
  const tags = new Uint8Array(B * L * T).fill(1);
  lengths.forEach((n, b) => {
    const path = randomPath(s, n, r);
    for (let i = 0; i < n; i++) for (let j = 0; j < T; j++) tags[(b * L + i) * T + j] = j === path[i] || r() < extraTags ? 1 : 0;
  });
  const flat = Float64Array.from({ length: crfParamSizes(s).total }, () => (r() - 0.5) * 4);
  return { s, L, lengths, emissions, tags, flat };
}

/** float64 graph: inputs em [B,L,T], valid [B,L], tags [B,L,T], flat params; outputs logZ and nll [B]. */
async function runGraph(c: Case): Promise<{ logZ: Float64Array; nll: Float64Array }> {
  const { s, L } = c;
  const T = s.numTags;
  const B = c.lengths.length;
  const z = crfParamSizes(s);
  const g = new Graph('crf-test');
  const em = g.input('em', 'float64', ['B', L, T]);
  const valid = ops.greater(g.input('valid', 'float64', ['B', L]), 0.5);
  const tags = ops.greater(g.input('tags', 'float64', ['B', L, T]), 0.5);
  const tr = g.input('tr', 'float64', [z.transitions]);
  const st = g.input('st', 'float64', [z.start]);
  const en = g.input('en', 'float64', [z.end]);
  const p = crfGraphParams(g, s, tr, st, en);
  const logZ = crfLogPartition(em, valid, p);
  const nll = crfTagSetNll(em, valid, tags, p);
  const sess = await ort.InferenceSession.create(serialize(g, { outputs: { logZ, nll } }).model);
  const validData = new Float64Array(B * L);
  c.lengths.forEach((n, b) => validData.fill(1, b * L, b * L + n));
  const out = await sess.run({
    em: new ort.Tensor('float64', c.emissions, [B, L, T]),
    valid: new ort.Tensor('float64', validData, [B, L]),
    tags: new ort.Tensor('float64', Float64Array.from(c.tags), [B, L, T]),
    tr: new ort.Tensor('float64', c.flat.slice(0, z.transitions), [z.transitions]),
    st: new ort.Tensor('float64', c.flat.slice(z.transitions, z.transitions + z.start), [z.start]),
    en: new ort.Tensor('float64', c.flat.slice(z.transitions + z.start), [z.end]),
  });
  return { logZ: out.logZ.data as Float64Array, nll: out.nll.data as Float64Array };
}

/** The reference numbers of sequence b (its valid prefix only). */
function reference(c: Case, b: number): { logZ: number; nll: number } {
  const T = c.s.numTags;
  const n = c.lengths[b];
  const em: Emissions = { length: n, numTags: T, data: c.emissions.slice(b * c.L * T, (b * c.L + n) * T) };
  const params = crfParamsFromVectors(c.s, c.flat);
  return { logZ: logPartition(em, params), nll: negLogLikelihoodTagSets(em, params, c.tags.slice(b * c.L * T, (b * c.L + n) * T)) };
}

describe('in-graph CRF against crf-reference.ts (float64)', () => {
  it('log Z and the multi-tag NLL agree to 1e-9 on random small structures, padded batches included', async () => {
    let checked = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const s = randomStructure(3 + (seed % 4), rng(100 + seed));
      const c = randomCase(s, 7, [7, 4, 1, 6], seed);
      const got = await runGraph(c);
      c.lengths.forEach((_, b) => {
        const want = reference(c, b);
        expect(Number.isFinite(want.nll)).toBe(true);
        expect(Math.abs(got.logZ[b] - want.logZ)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want.logZ)));
        expect(Math.abs(got.nll[b] - want.nll)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want.nll)));
        checked++;
      });
    }
    expect(checked).toBe(24);
  });

  it('single-tag sets give the ordinary path NLL, and all-true sets give 0', async () => {
    const s = randomStructure(4, rng(3));
    const c = randomCase(s, 6, [6, 5], 11, 0);
    const got = await runGraph(c);
    const want = [reference(c, 0).nll, reference(c, 1).nll];
    got.nll.forEach((v, b) => expect(Math.abs(v - want[b])).toBeLessThanOrEqual(1e-9 * Math.max(1, want[b])));
    const all = { ...c, tags: new Uint8Array(c.tags.length).fill(1) };
    expect(Array.from((await runGraph(all)).nll)).toEqual([0, 0]);
  });

  it("SignalP 6.0's 37 states on real records' training tag sets agree to 1e-9", async () => {
    const file = await readSignalPFile(shared('data', 'signalp6', 'small_dataset_10.partitions-0-1.fasta'), { strict: true });
    // one record of each type present, the first ones, cut to 20 residues to keep the case small
    const picked = ['NO_SP', 'SP', 'LIPO', 'TAT', 'TATLIPO', 'PILIN']
      .map((t) => file.records.find((r) => r.type === t && r.labels !== null))
      .filter((r) => r !== undefined);
    expect(picked.length).toBeGreaterThanOrEqual(4);
    const L = 40;
    const T = NUM_REGION_STATES;
    const r = rng(5);
    const lengths = picked.map((rec) => Math.min(L, rec.sequence.length));
    const tags = new Uint8Array(picked.length * L * T).fill(1);
    picked.forEach((rec, b) => {
      const n = lengths[b];
      const d = deriveRegions({ ...rec, sequence: rec.sequence.slice(0, n), labels: rec.labels!.slice(0, n) });
      const t = trainingTagSets(d).tags;
      tags.set(t, b * L * T);
    });
    const c: Case = {
      s: SIGNALP6_CRF, L, lengths,
      emissions: Float64Array.from({ length: picked.length * L * T }, () => (r() - 0.5) * 6),
      tags,
      flat: Float64Array.from({ length: crfParamSizes(SIGNALP6_CRF).total }, () => (r() - 0.5) * 2),
    };
    const got = await runGraph(c);
    picked.forEach((_, b) => {
      const want = reference(c, b);
      expect(Number.isFinite(want.nll)).toBe(true);
      expect(Math.abs(got.logZ[b] - want.logZ)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want.logZ)));
      expect(Math.abs(got.nll[b] - want.nll)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want.nll)));
    });
  });

  it('ignores padded positions exactly: a sequence alone and inside a padded batch give identical numbers', async () => {
    const s = SIGNALP6_CRF;
    const T = s.numTags;
    const L = 12;
    const batch = randomCase(s, L, [12, 5, 9], 21);
    const all = await runGraph(batch);
    for (let b = 0; b < 3; b++) {
      const n = batch.lengths[b];
      // alone: unrolled only over its own residues, no padding at all
      const alone: Case = { ...batch, L: n, lengths: [n], emissions: batch.emissions.slice(b * L * T, (b * L + n) * T), tags: batch.tags.slice(b * L * T, (b * L + n) * T) };
      const one = await runGraph(alone);
      // garbage in the padded part of the batch must change nothing
      const noisy: Case = { ...batch, emissions: batch.emissions.map((v, k) => (k % (L * T) >= batch.lengths[Math.floor(k / (L * T))] * T ? v + 1000 : v)) };
      const withNoise = await runGraph(noisy);
      expect(all.nll[b]).toBe(one.nll[0]);
      expect(all.logZ[b]).toBe(one.logZ[0]);
      expect(withNoise.nll[b]).toBe(all.nll[b]);
    }
  });
});

describe('in-graph CRF gradients', () => {
  it('match central finite differences for emissions, transitions, start and end scores', async () => {
    const s = randomStructure(4, rng(9));
    const z = crfParamSizes(s);
    const L = 5;
    const lengths = [5, 3];
    const c = randomCase(s, L, lengths, 4);
    const validConst = (g: Graph) => {
      const v = new Array<number>(lengths.length * L).fill(0);
      lengths.forEach((n, b) => v.fill(1, b * L, b * L + n));
      return ops.greater(ops.constant(g, v, 'float64', [lengths.length, L]), 0.5);
    };
    const res = await gradCheck(
      (g: Graph, [em, tr, st, en]: Tensor[]) => {
        const p = crfGraphParams(g, s, tr, st, en);
        const tags = ops.greater(ops.constant(g, Array.from(c.tags), 'float64', [lengths.length, L, s.numTags]), 0.5);
        return crfTagSetNll(em, validConst(g), tags, p);
      },
      [{ shape: [lengths.length, L, s.numTags] }, { shape: [z.transitions] }, { shape: [z.start] }, { shape: [z.end] }],
      { dtype: 'float64' },
    );
    expect(res.checked).toBe(lengths.length * L * s.numTags + z.total);
    expect(res.maxError, res.worst).toBeLessThanOrEqual(1);
  });

  it('match finite differences for log Z on the 37-state SignalP structure', async () => {
    const z = crfParamSizes(SIGNALP6_CRF);
    const L = 4;
    const res = await gradCheck(
      (g: Graph, [em, tr, st, en]: Tensor[]) => crfLogPartition(em, ops.greater(ops.constant(g, [1, 1, 1, 1, 1, 1, 0, 0], 'float64', [2, L]), 0.5), crfGraphParams(g, SIGNALP6_CRF, tr, st, en)),
      [{ shape: [2, L, NUM_REGION_STATES] }, { shape: [z.transitions] }, { shape: [z.start] }, { shape: [z.end] }],
      { dtype: 'float64' },
    );
    expect(res.maxError, res.worst).toBeLessThanOrEqual(1);
  });
});
