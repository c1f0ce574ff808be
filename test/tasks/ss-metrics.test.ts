import { describe, expect, it } from 'vitest';
import { SS3_STATES, SS8_STATES } from '../../src-main/engine/data/labels-ss.js';
import { evaluateSs3, evaluateSs8, sov99, sov99Parts, ss8ToSs3 } from '../../src-main/engine/tasks/secondary-structure/metrics.js';

/** 3-state string -> indices (H 0, E 1, C 2, '-' masked). */
const s3 = (s: string) => Int8Array.from([...s].map((c) => (c === '-' ? -1 : SS3_STATES.indexOf(c))));

describe('SOV\'99 against hand-computed cases', () => {
  it('is 1 for a perfect prediction', () => {
    // Every pair is identical: minov = maxov = len, delta = min(0, ...) = 0, term = len; N = 8.
    expect(sov99(s3('CCHHHHCC'), s3('CCHHHHCC'), 3)).toBe(1);
  });

  it('one observed helix, half predicted', () => {
    // obs H [0,9] len 10; pred H [0,4] len 5: minov 5, maxov 10,
    // delta = min(10-5, 5, floor(10/2)=5, floor(5/2)=2) = 2; term = (5+2)/10*10 = 7; N_H = 10.
    // No observed C segment, so N_C = 0. SOV = 7/10.
    const parts = sov99Parts(s3('HHHHHHHHHH'), s3('HHHHHCCCCC'), 3);
    expect(parts[0]).toEqual({ sum: 7, n: 10 });
    expect(parts[2]).toEqual({ sum: 0, n: 0 });
    expect(sov99(s3('HHHHHHHHHH'), s3('HHHHHCCCCC'), 3)).toBeCloseTo(0.7, 15);
  });

  it('several segments, one observed segment overlapping two predicted ones', () => {
    // obs  CCCHHHHHCCCC : C[0,2] H[3,7] C[8,11]
    // pred CCCCHHHCCHHC : C[0,3] H[4,6] C[7,8] H[9,10] C[11,11]
    // H: s1 [3,7] (5) vs s2 [4,6] (3): minov 3, maxov 5, delta = min(2, 3, 2, 1) = 1,
    //    term (3+1)/5*5 = 4; N_H = 5.
    // C: s1 [0,2] (3) vs [0,3] (4): minov 3, maxov 4, delta = min(1, 3, 1, 2) = 1 -> (3+1)/4*3 = 3; N += 3
    //    s1 [8,11] (4) vs [7,8] (2): minov 1, maxov 5, delta = min(4, 1, 2, 1) = 1 -> (1+1)/5*4 = 1.6; N += 4
    //    s1 [8,11] (4) vs [11,11] (1): minov 1, maxov 4, delta = min(3, 1, 2, 0) = 0 -> 1/4*4 = 1; N += 4
    //    N_C = 11, sum_C = 5.6.
    // SOV = (4 + 5.6) / (5 + 11) = 0.6.
    const parts = sov99Parts(s3('CCCHHHHHCCCC'), s3('CCCCHHHCCHHC'), 3);
    expect(parts[0]).toEqual({ sum: 4, n: 5 });
    expect(parts[1]).toEqual({ sum: 0, n: 0 });
    expect(parts[2].n).toBe(11);
    expect(parts[2].sum).toBeCloseTo(5.6, 14);
    expect(sov99(s3('CCCHHHHHCCCC'), s3('CCCCHHHCCHHC'), 3)).toBeCloseTo(0.6, 14);
  });

  it('an observed segment with no predicted partner adds to N only', () => {
    // obs EEEE CCCC; pred CCCCCCCC. E: [0,3] has no predicted E -> S'(E): N_E = 4, sum 0.
    // C: [4,7] vs pred [0,7]: minov 4, maxov 8, delta = min(4, 4, 2, 4) = 2 -> (4+2)/8*4 = 3; N_C = 4.
    // SOV = 3/8.
    expect(sov99(s3('EEEECCCC'), s3('CCCCCCCC'), 3)).toBeCloseTo(3 / 8, 15);
  });

  it('masked residues split observed segments but not predicted ones', () => {
    // obs HHH-HHH (residue 4 masked) -> H [0,2], [4,6]; pred HHHHHHH -> H [0,6].
    // each: minov 3, maxov 7, delta = min(4, 3, 1, 3) = 1 -> (3+1)/7*3 = 12/7; N = 3 + 3.
    // SOV = (24/7) / 6 = 4/7.
    expect(sov99(s3('HHH-HHH'), s3('HHHHHHH'), 3)).toBeCloseTo(4 / 7, 15);
    expect(sov99(s3('---'), s3('HHH'), 3)).toBeNull();
  });
});

describe('Q3 / Q8, per-class metrics and confusion matrix', () => {
  const pairs = [
    { id: 'p1', truth: s3('HHHHHHHHHH'), pred: s3('HHHHHCCCCC') },
    { id: 'p2', truth: s3('CCCHHHHHCCCC'), pred: s3('CCCCHHHCCHHC') },
  ];

  it('matches hand-computed values', () => {
    const m = evaluateSs3(pairs);
    // p1: 5/10 correct; p2: positions 0,1,2,4,5,6,8,11 correct = 8/12.
    expect(m.accuracy).toBeCloseTo(13 / 22, 15);
    expect(m.perProteinAccuracy).toBeCloseTo((0.5 + 8 / 12) / 2, 15);
    expect(m.scoredResidues).toBe(22);
    expect(m.scoredProteins).toBe(2);
    // rows = truth H E C, columns = prediction H E C
    // H: p1 5 H->H, 5 H->C; p2 3 H->H (4,5,6), 2 H->C (3,7). C: p2 5 C->C, 2 C->H (9,10).
    expect(m.confusion).toEqual([
      [8, 0, 7],
      [0, 0, 0],
      [2, 0, 5],
    ]);
    const [h, e, c] = m.perClass;
    // H: TP 8, predicted 10, support 15 -> P 0.8, R 8/15, F1 = 2*0.8*(8/15)/(0.8+8/15) = 0.64
    expect(h).toMatchObject({ state: 'H', support: 15, predicted: 10, truePositives: 8 });
    expect(h.precision).toBeCloseTo(0.8, 15);
    expect(h.recall).toBeCloseTo(8 / 15, 15);
    expect(h.f1).toBeCloseTo(0.64, 14);
    // E: never true, never predicted -> undefined
    expect(e).toMatchObject({ support: 0, predicted: 0, precision: null, recall: null, f1: null });
    // C: TP 5, predicted 12, support 7 -> P 5/12, R 5/7, F1 = 2*5/(12+7) = 10/19
    expect(c.precision).toBeCloseTo(5 / 12, 15);
    expect(c.recall).toBeCloseTo(5 / 7, 15);
    expect(c.f1).toBeCloseTo(10 / 19, 14);
    // macro over classes with support: (0.64 + 10/19) / 2
    expect(m.macroF1).toBeCloseTo((0.64 + 10 / 19) / 2, 14);
    // SOV: p1 7/10, p2 9.6/16. pooled = 16.6/26, per-protein mean = (0.7 + 0.6)/2
    expect(m.sov!.pooled).toBeCloseTo(16.6 / 26, 14);
    expect(m.sov!.perProteinMean).toBeCloseTo(0.65, 14);
    expect(m.sov!.perState[0]).toEqual({ state: 'H', sov: 11 / 15, n: 15 });
  });

  it('ignores masked residues and whatever is predicted there', () => {
    const m = evaluateSs3([{ truth: s3('H-E-'), pred: s3('HCEH') }], { sov: false });
    expect(m.accuracy).toBe(1);
    expect(m.scoredResidues).toBe(2);
    expect(m.sov).toBeNull();
    const none = evaluateSs3([{ truth: s3('--'), pred: s3('HC') }]);
    expect(none.accuracy).toBeNull();
    expect(none.perProteinAccuracy).toBeNull();
    expect(none.scoredProteins).toBe(0);
  });

  it('rejects malformed inputs', () => {
    expect(() => evaluateSs3([{ id: 'x', truth: s3('HH'), pred: s3('H') }])).toThrow(/protein x: truth has 2 residues, prediction 1/);
    expect(() => evaluateSs3([{ truth: s3('HH'), pred: [0, 3] }])).toThrow(/prediction 3 at residue 2/);
  });

  it('scores 8 states and maps SS8 predictions to SS3', () => {
    const s8 = (s: string) => Int8Array.from([...s].map((c) => SS8_STATES.indexOf(c)));
    const truth = s8('GHIBESTC');
    const pred = s8('HHHEECCC');
    const m8 = evaluateSs8([{ truth, pred }]);
    // correct: H at 1, E at 4, C at 7
    expect(m8.accuracy).toBe(3 / 8);
    const m3 = evaluateSs3([{ truth: ss8ToSs3(truth), pred: ss8ToSs3(pred) }]);
    expect(m3.accuracy).toBe(1);
    expect([...ss8ToSs3([0, -1, 3, 7])]).toEqual([0, -1, 1, 2]);
  });
});
