// `plmw protocol --task sp`: cross-validation over the partitions of a SignalP file written here
// (partitions 0 and 1: train on 0 -> test on 1, and vice versa) for two methods, and the
// comparison files it writes.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src-main/engine/export/csv.js';
import { SIGNALP6_CRF, crfParamSizes } from '../../src-main/engine/tasks/signal-peptide/crf-graph.js';
import { MODEL_TINY, plmw, signalpSplit, writeSignalP } from '../tasks/helpers/task-files.js';

const dir = mkdtempSync(path.join(tmpdir(), 'plmw-protocol-cli-'));
const f = (n: string) => path.join(dir, n);

beforeAll(async () => {
  const { train } = await signalpSplit();
  writeSignalP(f('sp.fasta'), train.filter((_, i) => i % 2 === 0));
});

describe('plmw protocol', () => {
  it('cross-validates each method over partitions 0 and 1 and writes Markdown, CSV and JSON', () => {
    const r = plmw('protocol', '--task', 'sp', '--model', MODEL_TINY, '--data', f('sp.fasta'), '--method', 'probe', '--method', 'lora:r=2,targets=q+v,label=lora-r2',
      '--epochs', '1', '--batch', '8', '--lr', '0.02', '--threads', '2', '--provider', 'cpu', '--out', f('out'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/simple cross-validation over partitions/);
    const json = JSON.parse(readFileSync(f('out/protocol.json'), 'utf8'));
    expect(json.scheme).toBe('simple cross-validation over partitions');
    expect(json.methods.map((m: { label: string }) => m.label)).toEqual(['probe', 'lora-r2']);
    for (const m of json.methods) {
      expect(m.folds.map((x: { fold: string; train: string; validation: string; test: string }) => [x.fold, x.train, x.validation, x.test])).toEqual([
        ['test0', 'partitions 1', 'partition 0', 'partition 0'],
        ['test1', 'partitions 0', 'partition 1', 'partition 1'],
      ]);
      for (const fold of m.folds) {
        expect(fold.evaluation.kind).toBe('sp');
        expect(fold.metrics.mcc2).toBe(fold.evaluation.summary.mcc2);
        const part = Number(fold.fold.slice(4));
        expect(fold.evaluation.data.records).toBe(fold.evaluation.perSequence.length);
        expect(fold.evaluation.perSequence.length).toBeGreaterThan(5);
        expect(fold.evaluation.rows.length).toBeGreaterThan(0);
        expect(part === 0 || part === 1).toBe(true);
      }
      const mean = (k: string) => (m.folds[0].metrics[k] + m.folds[1].metrics[k]) / 2;
      expect(m.metrics.mcc2).toBeCloseTo(mean('mcc2'), 12);
      expect(m.metrics.type_accuracy).toBeCloseTo(mean('type_accuracy'), 12);
    }
    // probe trains the head only: emissions 37 x 64 + 37, kingdom 4 x 37, CRF transitions/start/end
    expect(json.methods[0].trainableParams).toBe(37 * 64 + 37 + 4 * 37 + crfParamSizes(SIGNALP6_CRF).total);
    expect(json.methods[1].trainableParams - json.methods[0].trainableParams).toBe(2 * 2 * (2 * 64 + 64 * 2));
    const csv = parseCsv(readFileSync(f('out/comparison.csv'), 'utf8'));
    expect(csv[0]).toEqual(['method', 'options', 'trainable_params', 'folds', 'mcc2', 'mcc1', 'cs_recall', 'cs_precision', 'type_accuracy', 'wall_s', 'peak_rss_mb']);
    expect(csv.slice(1).map((x) => [x[0], Number(x[2]), x[3]])).toEqual(json.methods.map((m: { label: string; trainableParams: number }) => [m.label, m.trainableParams, '2']));
    csv.slice(1).forEach((x) => {
      expect(Number(x[9])).toBeGreaterThan(0);
      expect(Number(x[10])).toBeGreaterThan(10);
    });
    const md = readFileSync(f('out/comparison.md'), 'utf8');
    expect(md).toMatch(/^# PEFT method comparison: signal peptides/);
    expect(md).toMatch(/simple cross-validation over partitions \(2 folds\)/);
    expect(md.split('\n').filter((l) => l.startsWith('| probe |') || l.startsWith('| lora-r2 |'))).toHaveLength(2);
  });

  it('refuses a nested scheme with two partitions and bad method specs', () => {
    const r = plmw('protocol', '--task', 'sp', '--model', MODEL_TINY, '--data', f('sp.fasta'), '--method', 'probe', '--cv', 'nested', '--out', f('nested'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/nested cross-validation needs at least 3 partitions/);
    expect(plmw('protocol', '--task', 'sp', '--model', MODEL_TINY, '--data', f('sp.fasta'), '--method', 'lora:r', '--out', f('bad')).status).toBe(2);
    const unknown = plmw('protocol', '--task', 'sp', '--model', MODEL_TINY, '--data', f('sp.fasta'), '--method', 'probe', '--method', 'bogus', '--out', f('bad2'));
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/plmw protocol: method 'bogus' \{\}: /);
  });
});
