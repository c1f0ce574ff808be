import { describe, expect, it } from 'vitest';
import { type SpEvalItem, evaluateSignalP, mccFromCounts } from '../../src-main/engine/tasks/signal-peptide/metrics.js';

const item = (kingdom: SpEvalItem['kingdom'], trueType: SpEvalItem['trueType'], trueCs: number | null, predType: SpEvalItem['predType'], predCs: number | null): SpEvalItem => ({
  kingdom,
  trueType,
  trueCs,
  predType,
  predCs,
});

// NEGATIVE, 8 sequences:
//  1 SP cs20 -> SP cs20      5 NO_SP -> SP cs22
//  2 SP cs25 -> SP cs27      6 LIPO cs21 -> SP cs21
//  3 SP cs18 -> NO_SP        7 LIPO cs19 -> LIPO cs19
//  4 NO_SP -> NO_SP          8 NO_SP -> NO_SP
// EUKARYA: SP cs15 -> SP cs16; NO_SP -> NO_SP.
// ARCHAEA: TAT cs30 -> TAT cs33; TAT cs30 -> TAT without a CS.
const items: SpEvalItem[] = [
  item('NEGATIVE', 'SP', 20, 'SP', 20),
  item('NEGATIVE', 'SP', 25, 'SP', 27),
  item('NEGATIVE', 'SP', 18, 'NO_SP', null),
  item('NEGATIVE', 'NO_SP', null, 'NO_SP', null),
  item('NEGATIVE', 'NO_SP', null, 'SP', 22),
  item('NEGATIVE', 'LIPO', 21, 'SP', 21),
  item('NEGATIVE', 'LIPO', 19, 'LIPO', 19),
  item('NEGATIVE', 'NO_SP', null, 'NO_SP', null),
  item('EUKARYA', 'SP', 15, 'SP', 16),
  item('EUKARYA', 'NO_SP', null, 'NO_SP', null),
  item('ARCHAEA', 'TAT', 30, 'TAT', 33),
  item('ARCHAEA', 'TAT', 30, 'TAT', null),
];

describe('signal-peptide metrics against hand-computed values', () => {
  const m = evaluateSignalP(items);
  const get = (k: string, t: string) => m.find((x) => x.kingdom === k && x.type === t)!;

  it('reports kingdoms in SignalP order and only types with true sequences', () => {
    expect(m.map((x) => `${x.kingdom}/${x.type}`)).toEqual(['EUKARYA/SP', 'ARCHAEA/TAT', 'NEGATIVE/SP', 'NEGATIVE/LIPO']);
  });

  it('NEGATIVE / SP', () => {
    const x = get('NEGATIVE', 'SP');
    expect(x).toMatchObject({ total: 8, nTrue: 3, nPred: 4 });
    // MCC2 over all 8: TP = {1,2} = 2, FN = {3} = 1, FP = {5,6} = 2, TN = {4,7,8} = 3
    //   (2*3 - 2*1) / sqrt((2+2)(2+1)(3+2)(3+1)) = 4 / sqrt(240)
    expect(x.mcc2).toBeCloseTo(4 / Math.sqrt(240), 15);
    // MCC1 over true SP or NO_SP = {1,2,3,4,5,8}: TP 2, FN 1, FP 1 (5), TN 2 (4,8)
    //   (2*2 - 1*1) / sqrt(3*3*3*3) = 3/9
    expect(x.mcc1).toBeCloseTo(1 / 3, 15);
    // CS: true SP predicted SP: 1 (|0|), 2 (|2|) -> correct at w=0: 1, w=1: 1, w=2: 2, w=3: 2
    expect(x.csCorrect).toEqual([1, 1, 2, 2]);
    expect(x.csRecall).toEqual([1 / 3, 1 / 3, 2 / 3, 2 / 3]);
    expect(x.csPrecision).toEqual([1 / 4, 1 / 4, 2 / 4, 2 / 4]);
  });

  it('NEGATIVE / LIPO', () => {
    const x = get('NEGATIVE', 'LIPO');
    expect(x).toMatchObject({ nTrue: 2, nPred: 1 });
    // MCC2: TP {7} 1, FN {6} 1, FP 0, TN 6 -> (1*6 - 0) / sqrt(1*2*6*7) = 6/sqrt(84)
    expect(x.mcc2).toBeCloseTo(6 / Math.sqrt(84), 15);
    // MCC1 over {4,5,6,7,8}: TP 1, FN 1, FP 0, TN 3 -> 3 / sqrt(1*2*3*4) = 3/sqrt(24)
    expect(x.mcc1).toBeCloseTo(3 / Math.sqrt(24), 15);
    // CS: item 7 exact -> 1 at every window; recall 1/2, precision 1/1
    expect(x.csCorrect).toEqual([1, 1, 1, 1]);
    expect(x.csRecall).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(x.csPrecision).toEqual([1, 1, 1, 1]);
  });

  it('EUKARYA / SP', () => {
    const x = get('EUKARYA', 'SP');
    // TP 1, TN 1, FP 0, FN 0 -> 1/sqrt(1*1*1*1) = 1 for both MCCs
    expect([x.mcc1, x.mcc2]).toEqual([1, 1]);
    // |16 - 15| = 1: wrong at w=0, right from w=1
    expect(x.csRecall).toEqual([0, 1, 1, 1]);
    expect(x.csPrecision).toEqual([0, 1, 1, 1]);
  });

  it('ARCHAEA / TAT: undefined MCC is 0, a missing predicted CS counts against precision', () => {
    const x = get('ARCHAEA', 'TAT');
    // all true TAT and all predicted TAT: TP 2, TN 0 -> (tn+fp)(tn+fn) = 0 -> MCC 0 (sklearn)
    expect([x.mcc1, x.mcc2]).toEqual([0, 0]);
    // |33 - 30| = 3 is within w=3 only; the second prediction has no CS
    expect(x.csCorrect).toEqual([0, 0, 0, 1]);
    expect(x.csRecall).toEqual([0, 0, 0, 0.5]);
    expect(x.csPrecision).toEqual([0, 0, 0, 0.5]);
  });

  it('gives null precision when nothing is predicted as the type', () => {
    const [x] = evaluateSignalP([item('POSITIVE', 'PILIN', 12, 'NO_SP', null), item('POSITIVE', 'NO_SP', null, 'NO_SP', null)]);
    expect(x).toMatchObject({ type: 'PILIN', nTrue: 1, nPred: 0, mcc1: 0, mcc2: 0 });
    expect(x.csRecall).toEqual([0, 0, 0, 0]);
    expect(x.csPrecision).toEqual([null, null, null, null]);
  });

  it('checks the MCC formula and refuses SP items without a true cleavage site', () => {
    // (tp*tn - fp*fn)/sqrt(...): 5,3,1,2 -> (15 - 2)/sqrt(6*7*4*5)
    expect(mccFromCounts(5, 3, 1, 2)).toBeCloseTo(13 / Math.sqrt(840), 15);
    expect(mccFromCounts(0, 4, 0, 0)).toBe(0);
    expect(() => evaluateSignalP([item('EUKARYA', 'SP', null, 'SP', 3)])).toThrow(/needs a true cleavage site/);
  });
});
