// The numbers behind the renderer's charts: TensorBoard's debiased EMA smoothing and the Pareto
// front of the Compare scatter.
import { describe, expect, it } from 'vitest';
import { paretoFront } from '../../src-renderer/src/lib/pareto.js';
import { emaDebiased } from '../../src-renderer/src/lib/smoothing.js';
import { bytes, compact, seconds } from '../../src-renderer/src/lib/format.js';

describe('emaDebiased', () => {
  it('is the identity at weight 0 and starts at the first value (no pull towards 0)', () => {
    expect(emaDebiased([3, 1, 2], 0)).toEqual([3, 1, 2]);
    const s = emaDebiased([2, 2, 2, 2], 0.9);
    for (const v of s) expect(v).toBeCloseTo(2, 12);
  });

  it('matches the recurrence s_t = w s_(t-1) + (1-w) x_t divided by 1 - w^t', () => {
    const xs = [1, 0, 4, 2];
    const w = 0.6;
    let last = 0;
    const want = xs.map((x, t) => {
      last = w * last + (1 - w) * x;
      return last / (1 - w ** (t + 1));
    });
    expect(emaDebiased(xs, w)).toEqual(want);
    expect(emaDebiased(xs, w)[1]).toBeCloseTo((0.4 * 0.6 * 1 + 0.4 * 0) / (1 - 0.36), 12);
  });

  it('passes non-finite values through without breaking the average', () => {
    const s = emaDebiased([1, Number.NaN, 1], 0.5);
    expect(Number.isNaN(s[1])).toBe(true);
    expect(s[2]).toBeCloseTo(1, 12);
  });
});

describe('paretoFront', () => {
  it('keeps the runs no other run beats on both cost (lower) and score (higher), sorted by cost', () => {
    const pts = [
      { id: 'a', x: 1000, y: 0.5 },
      { id: 'b', x: 2000, y: 0.45 }, // dominated by a
      { id: 'c', x: 5000, y: 0.7 },
      { id: 'd', x: 5000, y: 0.6 }, // same cost, lower score
      { id: 'e', x: 9000, y: 0.72 },
      { id: 'f', x: Number.NaN, y: 0.9 }, // not plottable
    ];
    expect(paretoFront(pts).map((p) => p.id)).toEqual(['a', 'c', 'e']);
    expect(paretoFront([])).toEqual([]);
  });
});

describe('format', () => {
  it('writes sizes, counts and durations for people', () => {
    expect(bytes(430832)).toBe('420.7 KiB');
    expect(bytes(2.5 * 2 ** 30)).toBe('2.50 GiB');
    expect(compact(7_512_474)).toBe('7.51 M');
    expect(seconds(75)).toBe('1 min 15 s');
    expect(bytes(undefined)).toBe('–');
  });
});
