// The protocol runner: the cross-validation folds it derives from SignalP partitions (simple and
// nested), the method spec syntax, and a small secondary-structure comparison run in-process
// (tables, per-method parameter counts, metrics equal to the fold evaluations, resume).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src-main/engine/export/csv.js';
import { parseMethodSpec, runProtocol, signalpFolds } from '../../src-main/engine/protocol/protocol.js';
import { MODEL_TINY, syntheticSs, writeLiftSs } from '../tasks/helpers/task-files.js';

describe('cross-validation folds from SignalP partitions', () => {
  it('simple CV with two partitions: train on one, validate and test on the other, both ways', () => {
    expect(signalpFolds([1, 0, 0, 1, 1], 'auto')).toEqual({
      scheme: 'simple',
      folds: [{ test: 0, val: 0, train: [1] }, { test: 1, val: 1, train: [0] }],
    });
  });

  it('nested CV with three partitions: every (test, validation) pair, training on the third', () => {
    const r = signalpFolds([0, 1, 2], 'auto');
    expect(r.scheme).toBe('nested');
    expect(r.folds).toEqual([
      { test: 0, val: 1, train: [2] }, { test: 0, val: 2, train: [1] },
      { test: 1, val: 0, train: [2] }, { test: 1, val: 2, train: [0] },
      { test: 2, val: 0, train: [1] }, { test: 2, val: 1, train: [0] },
    ]);
    expect(signalpFolds([0, 1, 2], 'simple').folds).toEqual([
      { test: 0, val: 0, train: [1, 2] }, { test: 1, val: 1, train: [0, 2] }, { test: 2, val: 2, train: [0, 1] },
    ]);
  });

  it('refuses what cannot be cross-validated', () => {
    expect(() => signalpFolds([0, 0], 'auto')).toThrow(/at least 2 partitions/);
    expect(() => signalpFolds([0, 1], 'nested')).toThrow(/at least 3 partitions/);
  });
});

describe('method specs', () => {
  it('parse names, numbers, booleans, lists and target aliases', () => {
    expect(parseMethodSpec('probe')).toEqual({ name: 'probe', options: {}, label: undefined });
    expect(parseMethodSpec('lora:r=8,alpha=8,dropout=0.1,targets=q+k+v+o,top-k=2,label=lora8')).toEqual({
      name: 'lora', options: { r: 8, alpha: 8, dropout: 0.1, targets: ['query', 'key', 'value', 'attn_out'], topK: 2 }, label: 'lora8',
    });
    expect(parseMethodSpec('prompt:tokens=4,deep=true').options).toEqual({ tokens: 4, deep: true });
    expect(parseMethodSpec('adapter:variant=houlsby').options).toEqual({ variant: 'houlsby' });
    expect(() => parseMethodSpec('lora:r')).toThrow(/KEY=VALUE/);
    expect(() => parseMethodSpec('lo ra')).toThrow(/bad method name/);
  });
});

describe('secondary-structure protocol', () => {
  it('trains each method on train, selects on val, scores test, and writes the comparison', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'plmw-protocol-ss-'));
    const f = (n: string) => path.join(dir, n);
    writeLiftSs(f('train.txt'), syntheticSs(16, 21, 'a'));
    writeLiftSs(f('val.txt'), syntheticSs(4, 22, 'b'));
    writeLiftSs(f('test.txt'), syntheticSs(6, 23, 'c'));
    const config = {
      task: 'ss' as const, model: MODEL_TINY, out: f('out'), train: f('train.txt'), val: f('val.txt'), test: f('test.txt'),
      methods: [parseMethodSpec('probe'), parseMethodSpec('lora:r=2,targets=q+v')],
      trainer: { epochs: 1, batchSize: 8, lr: 0.01, threads: 2, providers: ['cpu' as const] },
    };
    const logs: string[] = [];
    const r = await runProtocol({ ...config, onLog: (l) => logs.push(l) });
    expect(r.scheme).toBe('train / validation / test files');
    expect(r.methods.map((m) => [m.label, m.folds.length])).toEqual([['probe', 1], ['lora', 1]]);
    // head: 8 x 64 + 8; LoRA r=2 on query and value of 2 layers: 2 * 2 * (2*64 + 64*2)
    expect(r.methods[0].trainableParams).toBe(8 * 64 + 8);
    expect(r.methods[1].trainableParams).toBe(8 * 64 + 8 + 2 * 2 * (2 * 64 + 64 * 2));
    for (const m of r.methods) {
      const e = m.folds[0].evaluation;
      expect(e.kind).toBe('ss');
      if (e.kind === 'ss') expect(m.metrics).toMatchObject({ q3: e.q3, q8: e.q8, q3_per_protein: e.q3PerProtein, sov3: e.ss3.sov?.pooled });
      expect(m.wallSeconds).toBeGreaterThan(0);
      expect(m.peakRssBytes).toBeGreaterThan(10 * 2 ** 20);
    }
    const table = parseCsv(readFileSync(r.files.csv, 'utf8'));
    expect(table[0]).toEqual(['method', 'options', 'trainable_params', 'folds', 'q3', 'q3_per_protein', 'q8', 'q8_per_protein', 'sov3', 'wall_s', 'peak_rss_mb']);
    expect(table.slice(1).map((x) => [x[0], Number(x[2]), Number(x[4])])).toEqual(r.methods.map((m) => [m.label, m.trainableParams, m.metrics.q3]));
    const md = readFileSync(r.files.markdown, 'utf8');
    expect(md).toMatch(/^# PEFT method comparison: secondary structure/);
    expect(md).toMatch(/\n\| method \| options \| trainable_params \|/);
    expect(md).toMatch(/\n\| lora \| `\{"r":2,"targets":\["query","value"\]\}` \| 1,544 \| 1 \|/);
    expect(JSON.parse(readFileSync(r.files.json, 'utf8')).methods).toHaveLength(2);
    // a second run finds the completed runs and scores them again without training
    const again: string[] = [];
    const r2 = await runProtocol({ ...config, onLog: (l) => again.push(l) });
    expect(again.filter((l) => /completed run found/.test(l))).toHaveLength(2);
    expect(r2.methods.map((m) => m.metrics)).toEqual(r.methods.map((m) => m.metrics));
  });
});
