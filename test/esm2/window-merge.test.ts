// Merging the windows of a long sequence: the same choices as the rule's direct reading (every
// pair looks at every window), at a cost linear in the number of windows.
import { describe, expect, it } from 'vitest';
import { mergeWindows, pairRuns, pairWindow, windowRanges, type OutputTensor } from '../../src-main/engine/esm2/infer.js';
import { rng } from '../helpers/gradcheck.js';

/** The rule read literally: for each pair, every window is looked at (first best on ties). */
const referenceWindow = pairWindow;

function referenceMerge(n: number, ranges: [number, number][], parts: OutputTensor[][]): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const local = (k: number, p: number) => (p === 0 ? 0 : p === n + 1 ? ranges[k][1] - ranges[k][0] + 1 : p - ranges[k][0]);
  for (let o = 0; o < parts[0].length; o++) {
    const name = parts[0][o].name;
    const per = parts.map((p) => p[o]);
    if (name === 'attentions') {
      const [L, H, m0] = per[0].shape;
      const m = n + 2;
      const data = new Float32Array(L * H * m * m);
      for (let p = 0; p < m; p++)
        for (let q = 0; q < m; q++) {
          const k = referenceWindow(ranges, n, p, q);
          if (k < 0) continue;
          for (let lh = 0; lh < L * H; lh++) data[(lh * m + p) * m + q] = per[k].data[(lh * m0 + local(k, p)) * m0 + local(k, q)];
        }
      out.set(name, data);
    } else if (name === 'contacts') {
      const W = per[0].shape[0];
      const data = new Float32Array(n * n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          const k = referenceWindow(ranges, n, i + 1, j + 1);
          if (k >= 0) data[i * n + j] = per[k].data[(i - ranges[k][0]) * W + (j - ranges[k][0])];
        }
      out.set(name, data);
    }
  }
  return out;
}

/** Window outputs whose every value says which window and position it came from. */
function fakeParts(ranges: [number, number][], L: number, H: number, random: () => number): OutputTensor[][] {
  return ranges.map(([s, e]) => {
    const W = e - s;
    const m0 = W + 2;
    const attn = Float32Array.from({ length: L * H * m0 * m0 }, () => random());
    const contacts = Float32Array.from({ length: W * W }, () => random());
    return [
      { name: 'attentions', shape: [L, H, m0, m0], data: attn },
      { name: 'contacts', shape: [W, W], data: contacts },
    ];
  });
}

describe('window merging', () => {
  it('chooses exactly the windows of the rule read literally, for every pair, window size and overlap', () => {
    const random = rng(12);
    let cases = 0;
    for (const W of [1, 2, 3, 5, 8, 13]) {
      for (let overlap = 0; overlap < W; overlap++) {
        for (const n of [W + 1, W + 2, 2 * W + 1, 3 * W + 2, 5 * W + 3]) {
          const ranges = windowRanges(n, W, overlap);
          for (let i = 0; i < n; i++) {
            const got = new Int32Array(n).fill(-9);
            pairRuns(ranges, n, i, (j0, j1, k) => got.fill(k, j0, j1));
            for (let j = 0; j < n; j++) expect(got[j], `W ${W} overlap ${overlap} n ${n} pair ${i},${j}`).toBe(referenceWindow(ranges, n, i + 1, j + 1));
          }
          cases++;
        }
      }
    }
    expect(cases).toBe(5 * (1 + 2 + 3 + 5 + 8 + 13));
  });

  it('merges attentions and contacts exactly as the literal rule does', () => {
    const random = rng(3);
    for (const [n, W, overlap] of [[30, 8, 3], [41, 10, 0], [25, 7, 6], [60, 16, 5]] as const) {
      const ranges = windowRanges(n, W, overlap);
      const parts = fakeParts(ranges, 2, 3, random);
      const want = referenceMerge(n, ranges, parts);
      const got = mergeWindows(n, ranges, parts);
      for (const t of got) expect(Array.from(t.data), `${t.name} n ${n} W ${W} overlap ${overlap}`).toEqual(Array.from(want.get(t.name)!));
    }
  });

  it('costs time linear in the number of windows: 12,000 residues in windows of 1022 merge in seconds', () => {
    const n = 12_000;
    const ranges = windowRanges(n, 1022, 256);
    expect(ranges.length).toBe(16);
    const parts = ranges.map(([s, e]) => [{ name: 'contacts', shape: [e - s, e - s], data: new Float32Array((e - s) * (e - s)).fill(s) }]);
    const t0 = performance.now();
    const [merged] = mergeWindows(n, ranges, parts);
    const seconds = (performance.now() - t0) / 1000;
    console.log(`merging the contacts of ${n} residues from ${ranges.length} windows: ${seconds.toFixed(2)} s`);
    // Pairs farther apart than a window share none: 0; the diagonal comes from the window where it is most central.
    expect(merged.data[0 * n + n - 1]).toBe(0);
    expect(merged.data[6000 * n + 6000]).toBe(ranges[referenceWindow(ranges, n, 6001, 6001)][0]);
    expect(seconds).toBeLessThan(30);
  });
});
