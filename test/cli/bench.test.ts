// `plmw bench`: cases run in processes of their own and report their own throughput, load
// time and peak RSS; without the peer there is no ratio, and the report says why.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultCases, findPeer, formatReport, parseCases, runBench } from '../../src-main/engine/bench.js';
import { ESM2_SHAPES, writeRandomCheckpoint } from '../../src-main/engine/esm2/random-checkpoint.js';
import { fixtureModel } from '../helpers/paths.js';

describe('bench cases', () => {
  it('parses infer:BxL and train:BxL[:topK] and refuses anything else', () => {
    expect(parseCases('infer:8x256, train:16x70,train:4x70:top4')).toEqual([
      { kind: 'inference', batch: 8, length: 256 },
      { kind: 'training', batch: 16, length: 70 },
      { kind: 'training', batch: 4, length: 70, topK: 4 },
    ]);
    expect(() => parseCases('infer:8x256:top2')).toThrow(/expected infer:BxL or train:BxL\[:topK\]/);
    expect(() => parseCases('infer:0x10')).toThrow(/at least 1/);
    expect(() => parseCases('predict:1x1')).toThrow(/bench case 'predict:1x1'/);
  });

  it('adds 64 x 70 inference for small models only', () => {
    expect(defaultCases(fixtureModel('t6-shape')).map((c) => `${c.kind}:${c.batch}x${c.length}`)).toEqual([
      'inference:64x70', 'inference:8x256', 'inference:1x1000', 'training:16x70', 'training:16x70',
    ]);
    expect(defaultCases(fixtureModel('t6-shape'))[4]).toMatchObject({ topK: 2 });
  });
});

describe('a bench run without the peer', () => {
  it('measures each case in a fresh process and prints no ratio', async () => {
    const lines: string[] = [];
    const r = await runBench({ model: fixtureModel('tiny'), cases: parseCases('infer:2x20,train:2x20'), rounds: 1, repeats: 1, threads: 1, providers: ['cpu'], log: (l) => lines.push(l) });
    expect(r.samples).toHaveLength(2);
    const [inf, tr] = r.cases;
    expect(inf.sides.plmw!.rate.median).toBeGreaterThan(0);
    expect(inf.sides.plmw!.loadSeconds.median).toBeGreaterThan(0);
    expect(inf.sides.plmw!.peakRss.median).toBeGreaterThan(50 * 2 ** 20);
    expect(tr.sides.plmw!.rate.median).toBeGreaterThan(0);
    expect(inf.speedRatio).toBeUndefined();
    expect(r.samples.every((s) => s.side === 'plmw' && s.seconds.length === 1 && s.load.length === 2)).toBe(true);
    const text = formatReport(r);
    expect(text).toMatch(/inference 2 x 20:\n {2}plmw {5}\d+ \(\d+-\d+\) residues\/s, peak RSS \d+ MiB/);
    expect(text).toMatch(/LoRA step 2 x 20, all blocks:/);
    expect(text).toMatch(/No comparison: not requested \(--peer\)\./);
    expect(text).not.toMatch(/plmw \/ fair-esm/);
    expect(lines.some((l) => l.startsWith('round 1 inference 2 x 20 plmw:'))).toBe(true);
  }, 120_000);

  it('says it cannot compare when no python with torch and fair-esm is found', () => {
    const peer = findPeer({ PATH: path.join(path.sep, 'nonexistent'), PLMW_PYTHON: path.join(path.sep, 'nonexistent', 'python3') });
    expect(peer.available).toBe(false);
    expect(peer.reason).toMatch(/no python3 with torch and fair-esm \(set FAIR_ESM to a fair-esm checkout; tried \/nonexistent\/python3: /);
  });
});

describe('the training memory estimate against a measured run', () => {
  it('is within 20 % of the peak RSS of LoRA training at the ESM-2 35M shape (all blocks and top 2 with reuse)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'plmw-t12-'));
    try {
      await writeRandomCheckpoint(dir, ESM2_SHAPES.t12, { seed: 2 });
      const r = await runBench({ model: dir, cases: parseCases('train:16x70,train:16x70:top2'), rounds: 1, repeats: 0, threads: 2, providers: ['cpu'] });
      for (const c of r.cases) {
        const s = c.sides.plmw!;
        expect(s.estimateBytes, c.label).toBeGreaterThan(0);
        const ratio = s.peakRss.median / s.estimateBytes!;
        console.log(`${c.label}: peak RSS ${(s.peakRss.median / 2 ** 20).toFixed(0)} MiB, estimate ${(s.estimateBytes! / 2 ** 20).toFixed(0)} MiB, ratio ${ratio.toFixed(2)}`);
        expect(ratio, c.label).toBeGreaterThan(0.8);
        expect(ratio, c.label).toBeLessThan(1.2);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
