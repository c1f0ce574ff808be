import { describe, expect, it } from 'vitest';
import { bernoulliMask } from '../../src-main/engine/train/rng.js';

describe('dropout masks', () => {
  it('are a function of (seed, key parts) only, hold 0 or 1/(1-p), and drop a fraction p', () => {
    const p = 0.1;
    const n = 400_000;
    const a = bernoulliMask(n, p, 7, 'mask', 3, 0, 'lora.1.query');
    expect(bernoulliMask(n, p, 7, 'mask', 3, 0, 'lora.1.query')).toEqual(a);
    expect(bernoulliMask(n, p, 7, 'mask', 4, 0, 'lora.1.query')).not.toEqual(a);
    expect(bernoulliMask(n, p, 8, 'mask', 3, 0, 'lora.1.query')).not.toEqual(a);
    const keep = Math.fround(1 / (1 - p));
    expect(a.every((v) => v === 0 || v === keep)).toBe(true);
    const dropped = a.filter((v) => v === 0).length / n;
    // 5 standard deviations of a Bernoulli(0.1) mean over n draws
    expect(Math.abs(dropped - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
    // a shorter mask is the start of the longer one (one keystream per key)
    expect(bernoulliMask(5, p, 7, 'mask', 3, 0, 'lora.1.query')).toEqual(a.subarray(0, 5));
    // neighbouring elements are independent: no correlation between a[i] and a[i+1]
    let both = 0;
    for (let i = 0; i + 1 < n; i++) if (a[i] === 0 && a[i + 1] === 0) both++;
    expect(Math.abs(both / (n - 1) - p * p)).toBeLessThan(5 * Math.sqrt((p * p * (1 - p * p)) / n));
  });
});
