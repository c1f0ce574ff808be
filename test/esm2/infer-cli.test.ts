// `plmw infer` on a model shape and sequences that have no fixture, against a float64
// re-implementation of ESM-2; and the long-sequence window rule.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PAIR_BUDGET, Esm2Runner, pairBudgetRows, WINDOW_RULE, defaultTokenBudget, inferSequences, planBatches, windowRanges } from '../../src-main/engine/esm2/infer.js';
import { loadModel } from '../../src-main/engine/esm2/model.js';
import { readSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { EsmTokenizer } from '../../src-main/engine/esm2/tokenizer.js';
import { esm2Forward64 } from '../helpers/esm2-reference64.js';
import { rng } from '../helpers/gradcheck.js';
import { REPO } from '../helpers/paths.js';
import { writeRandomModel } from '../helpers/random-model.js';

const AA = 'LAGVSERTIDPKQNFYMHWCXBUZO';
const randomSeq = (r: () => number, n: number) => Array.from({ length: n }, () => AA[Math.floor(r() * 20)]).join('');

describe('plmw infer on an unseen model shape', () => {
  it('matches a float64 reference implementation to 1e-4', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'plmw-shape-'));
    const shape = { d: 48, layers: 3, heads: 6, ffn: 80, prefixed: false, seed: 3 };
    const weights = await writeRandomModel(path.join(dir, 'model'), shape);
    const r = rng(99);
    const seqs = [randomSeq(r, 17), `${randomSeq(r, 9)}X${randomSeq(r, 5)}`, randomSeq(r, 31), 'MK'];
    writeFileSync(path.join(dir, 'in.fasta'), seqs.map((s, i) => `>s${i} random\n${s}\n`).join(''));
    const out = path.join(dir, 'out.safetensors');
    const res = spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', 'infer', '--model', path.join(dir, 'model'),
      '--fasta', path.join(dir, 'in.fasta'), '--out', out, '--emit', 'logits,representations,attentions,contacts', '--repr-layers', 'all', '--provider', 'cpu'],
      { cwd: REPO, encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    const file = readSafetensors(out);
    const tok = EsmTokenizer.default();
    const cfg = { d: shape.d, layers: shape.layers, heads: shape.heads, ffn: shape.ffn, vocab: 33, eps: 1e-5, maskId: 32 };
    let worst = 0;
    seqs.forEach((s, i) => {
      const ref = esm2Forward64(cfg, { get: (n) => weights.get(n)! }, Array.from(tok.encode(s)));
      const check = (name: string, shape: number[], want: ArrayLike<number>) => {
        const t = file.tensors.get(`s${i}/${name}`);
        expect(t, name).toBeDefined();
        expect(t!.shape).toEqual(shape);
        const got = t!.toFloat32();
        for (let k = 0; k < got.length; k++) worst = Math.max(worst, Math.abs(got[k] - want[k]));
      };
      const T = s.length + 2;
      check('logits', [T, 33], ref.logits.flatMap((x) => [...x]));
      for (let k = 0; k <= shape.layers; k++) check(`representations.${k}`, [T, shape.d], ref.reprs[k].flatMap((x) => [...x]));
      check('attentions', [shape.layers, shape.heads, T, T], ref.attn.flat(3));
      check('contacts', [s.length, s.length], ref.contacts.flatMap((x) => [...x]));
    });
    expect(worst).toBeLessThanOrEqual(1e-4);
    expect(file.metadata.model_sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('representation layers (fair-esm repr_layers)', () => {
  it('emits the last layer by default, the layers asked for otherwise (negative from the end), and refuses layers outside 0..L', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'plmw-repr-'));
    await writeRandomModel(dir, { d: 32, layers: 3, heads: 4, ffn: 64, seed: 4 });
    const model = await loadModel(dir);
    const names = async (layers?: number[]) => {
      const runner = await Esm2Runner.create(model, ['representations'], { providers: ['cpu'] }, undefined, { reprLayers: layers });
      const out = await runner.runBatch(['MKTAYIAK']);
      await runner.release();
      return Object.keys(out.out).sort();
    };
    expect(await names()).toEqual(['representations.3']);
    expect(await names([0, -2, 3])).toEqual(['representations.0', 'representations.2', 'representations.3']);
    await expect(names([4])).rejects.toThrow(/layer 4 is outside 0..3/);
    await expect(names([-5])).rejects.toThrow(/layer -5 is outside/);
  });
});

describe('memory bounds of a batch', () => {
  it('caps batches by padded tokens and by attention cells (B x T^2, one full window by default)', () => {
    const batches = planBatches([1000, 1000, 1000, 200, 200, 60, 60, 60], 16384, 64, pairBudgetRows);
    expect(batches).toEqual([[0], [1], [2], [3, 4, 5, 6, 7]]);
    for (const b of batches) {
      const T = Math.max(...b.map((i) => [1000, 1000, 1000, 200, 200, 60, 60, 60][i])) + 2;
      expect(b.length * T * T).toBeLessThanOrEqual(DEFAULT_PAIR_BUDGET);
    }
    expect(planBatches(Array(100).fill(70), 16384, 64, pairBudgetRows).map((b) => b.length)).toEqual([64, 36]);
    // wide models get a smaller token budget: tokens x ffn floats stay within 256 MiB
    expect(defaultTokenBudget(1280)).toBe(16384);
    expect(defaultTokenBudget(10240)).toBe(6553);
  });

  it('runs the windows of a long sequence within the same attention bound as one window', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'plmw-bound-'));
    await writeRandomModel(dir, { d: 32, layers: 2, heads: 4, ffn: 64, seed: 8 });
    const runner = await Esm2Runner.create(await loadModel(dir), ['logits'], { providers: ['cpu'] });
    const sizes: number[] = [];
    const run = runner.runBatch.bind(runner);
    runner.runBatch = (seqs) => (sizes.push(seqs.length), run(seqs));
    const seq = randomSeq(rng(6), 130);
    for await (const _ of inferSequences(runner, [{ id: 'long', sequence: seq }], { window: 50, overlap: 16 })) void _;
    expect(sizes).toEqual([4]); // 4 windows of 52 tokens: 4 x 52^2 cells, under the default budget
    sizes.length = 0;
    for await (const _ of inferSequences(runner, [{ id: 'long', sequence: seq }], { window: 50, overlap: 16, pairBudget: 52 * 52 })) void _;
    expect(sizes).toEqual([1, 1, 1, 1]);
    await runner.release();
  });
});

describe('long sequences', () => {
  it('plans windows that cover the sequence, the last aligned to its end', () => {
    expect(windowRanges(100, 1022, 256)).toEqual([[0, 100]]);
    expect(windowRanges(130, 50, 16)).toEqual([[0, 50], [34, 84], [68, 118], [80, 130]]);
  });

  it('merges windows by the documented rule and states it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'plmw-long-'));
    await writeRandomModel(dir, { d: 32, layers: 2, heads: 4, ffn: 64, seed: 8 });
    const runner = await Esm2Runner.create(await loadModel(dir), ['representations', 'contacts'], { providers: ['cpu'] });
    const seq = randomSeq(rng(5), 130);
    const results = [];
    for await (const r of inferSequences(runner, [{ id: 'long', sequence: seq }], { window: 50, overlap: 16 })) results.push(r);
    expect(results).toHaveLength(1);
    const out = results[0];
    expect(out.windows).toEqual({ window: 50, overlap: 16, ranges: [[0, 50], [34, 84], [68, 118], [80, 130]], rule: WINDOW_RULE });
    const rep = out.tensors.find((t) => t.name === 'representations.2')!;
    expect(rep.shape).toEqual([132, 32]);
    // Independent check: run each window alone and pick rows by hand.
    const win = async (s: number) => runner.unpad(await runner.runBatch([seq.slice(s, s + 50)]), 0, 50);
    const w = [await win(0), await win(34), await win(68), await win(80)];
    const row = (k: number, local: number) => w[k].find((t) => t.name === 'representations.2')!.data.subarray(local * 32, local * 32 + 32);
    const at = (p: number) => rep.data.subarray(p * 32, p * 32 + 32);
    expect(Array.from(at(0))).toEqual(Array.from(row(0, 0))); // <cls> from the first window
    expect(Array.from(at(131))).toEqual(Array.from(row(3, 51))); // <eos> from the last window
    // residue 40 (0-based): windows 0 (edge distance 9) and 1 (6) -> window 0, local position 41
    expect(Array.from(at(41))).toEqual(Array.from(row(0, 41)));
    // residue 60: window 1 (23) beats window 2 (outside) -> local 60-34+1
    expect(Array.from(at(61))).toEqual(Array.from(row(1, 27)));
    // residue 100: windows 2 (17) and 3 (20) -> window 3
    expect(Array.from(at(101))).toEqual(Array.from(row(3, 21)));
    // contacts of residues 0 and 120 share no window: 0
    const con = out.tensors.find((t) => t.name === 'contacts')!;
    expect(con.data[0 * 130 + 120]).toBe(0);
    // residues 85 and 100: common windows 2 (min centrality 17) and 3 (min 5) -> window 2
    const c2 = w[2].find((t) => t.name === 'contacts')!.data;
    expect(con.data[85 * 130 + 100]).toBe(c2[(85 - 68) * 50 + (100 - 68)]);
    await runner.release();
  });
});
