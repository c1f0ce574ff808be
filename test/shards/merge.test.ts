// `plmw predict --shard` / `plmw infer --shard` and `plmw merge`: the parts of a sharded run,
// joined, are byte for byte the files of one unsharded run (signal peptides, secondary structure,
// safetensors with long-sequence windows), whatever the number of parts (also more parts than
// groups of records); a merge refuses incomplete, foreign or cut-short parts and writes nothing.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readLiftSsFile } from '../../src-main/engine/data/lift-ss.js';
import { readSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { releaseWarmRunner, runInferJob } from '../../src-main/engine/jobs/infer-job.js';
import { mergePredictions, mergeSafetensors } from '../../src-main/engine/shards/merge.js';
import { predictRun, predictionFiles } from '../../src-main/engine/tasks/predict.js';
import { ssLabelled, ssTask } from '../../src-main/engine/tasks/secondary-structure/task.js';
import { spLabelled } from '../../src-main/engine/tasks/signal-peptide/labels.js';
import { spTask } from '../../src-main/engine/tasks/signal-peptide/task.js';
import { TRAINER_DEFAULTS, type TrainerConfig, train } from '../../src-main/engine/train/trainer.js';
import { randomFasta } from '../jobs/helpers.js';
import { MODEL_TINY, plmw, signalpSplit, syntheticSs, writeLiftSs, writeSignalP } from '../tasks/helpers/task-files.js';

const dir = mkdtempSync(path.join(tmpdir(), 'plmw-merge-'));
const f = (n: string) => path.join(dir, n);
const cfg = (task: string, over: Partial<TrainerConfig> = {}): TrainerConfig => ({
  ...TRAINER_DEFAULTS, model: MODEL_TINY, task, method: 'lora', methodOptions: { r: 2, targets: ['query', 'value'] }, epochs: 1, batchSize: 8, lr: 0.02,
  threads: 1, providers: ['cpu'], ...over,
});
const runtime = { providers: ['cpu' as const], threads: 1 };

beforeAll(async () => {
  const split = await signalpSplit();
  await train(f('sp-run'), cfg('sp'), spTask(), { train: spLabelled(split.train.slice(0, 24)).items, val: spLabelled(split.test.slice(0, 6)).items });
  writeSignalP(f('sp.fasta'), split.test.slice(0, 37), false);
  const ss = syntheticSs(30, 4);
  writeLiftSs(f('ss.txt'), ss);
  const recs = (await readLiftSsFile(f('ss.txt'), { strict: true })).records;
  await train(f('ss8-run'), cfg('ss-ss8'), ssTask('ss8'), { train: ssLabelled(recs, 'ss8'), val: ssLabelled(recs.slice(0, 4), 'ss8') });
}, 120_000);

const bytes = (file: string) => readFileSync(file);

/** Predicts `input` unsharded and in `n` parts, merges the parts; returns both sets of files. */
async function shardedAndWhole(run: string, input: string, n: number, name: string, batchSize: number) {
  mkdirSync(f(name), { recursive: true });
  const whole = f(`${name}/whole`);
  await predictRun(f(run), input, whole, { batchSize, runtime });
  const parts = [];
  for (let i = 1; i <= n; i++) {
    const p = f(`${name}/part${i}`);
    const r = await predictRun(f(run), input, p, { batchSize, runtime, shard: { index: i, count: n } });
    parts.push({ prefix: p, r });
  }
  // given in another order than their numbers: the merge sorts them
  const merged = f(`${name}/merged`);
  mergePredictions([...parts].reverse().map((p) => p.prefix), merged);
  return { whole, merged, parts };
}

describe('merged shards are the bytes of one run', () => {
  it('signal peptides: residues, summary, GFF3, mature FASTA, JSON and counts', async () => {
    // batch 2 -> groups of 32 records: 37 records are 2 groups; 3 parts: one of them empty
    for (const n of [2, 3]) {
      const { whole, merged, parts } = await shardedAndWhole('sp-run', f('sp.fasta'), n, `sp${n}`, 2);
      expect(parts.map((p) => p.r.sequences)).toEqual(n === 2 ? [32, 5] : [0, 32, 5]);
      for (const [kind, file] of Object.entries(predictionFiles(whole, 'signal-peptide'))) {
        const m = predictionFiles(merged, 'signal-peptide')[kind as 'json'];
        expect(bytes(m).equals(bytes(file)), `${kind} of ${n} parts`).toBe(true);
      }
      const json = JSON.parse(readFileSync(`${merged}.json`, 'utf8'));
      expect(json.sequences).toHaveLength(37);
      expect(json.shard).toBeUndefined();
      expect(json.provider).toBe('cpu');
      expect(json.input.records).toBe(37);
      const part = JSON.parse(readFileSync(`${parts[n - 1].prefix}.json`, 'utf8'));
      expect(part.shard).toEqual({ index: n, count: n, group: 32, total: 37, records: [32, 37] });
      expect(part.sequences.map((s: { id: string }) => s.id)).toEqual(json.sequences.slice(32).map((s: { id: string }) => s.id));
    }
  });

  it('notes (parser changes, long-sequence warnings) in several parts are joined in file order', async () => {
    const split = await signalpSplit();
    const LONG = 'MKKTAIAIAVALAGFATVAQAADNQKPETSQAAAEQWKKLDTASNLSPEEKRVRCQASDLAALLEHGAYGLWGDVQAAQKLAPAS';
    const recs = split.test.slice(0, 40).map((r, i) => `>${r.id}\n${i % 7 === 3 ? LONG : i % 5 === 0 ? `${r.sequence.toLowerCase()}*` : r.sequence}\n`);
    writeFileSync(f('notes.fasta'), recs.join(''));
    mkdirSync(f('notes'), { recursive: true });
    const whole = f('notes/whole');
    await predictRun(f('sp-run'), f('notes.fasta'), whole, { batchSize: 1, runtime, kingdom: 'NEGATIVE' });
    const parts: string[] = [];
    for (let i = 1; i <= 3; i++) {
      parts.push(f(`notes/part${i}`));
      await predictRun(f('sp-run'), f('notes.fasta'), parts[i - 1], { batchSize: 1, runtime, kingdom: 'NEGATIVE', shard: { index: i, count: 3 } });
    }
    const perPart = parts.map((p) => JSON.parse(readFileSync(`${p}.json`, 'utf8')).notes.length);
    expect(perPart.filter((n) => n > 0).length).toBeGreaterThan(1);
    mergePredictions(parts, f('notes/merged'));
    const json = JSON.parse(readFileSync(`${whole}.json`, 'utf8'));
    expect(json.notes.length).toBe(perPart.reduce((a, b) => a + b, 0));
    expect(json.notes.some((n: { kind: string }) => n.kind === 'warning')).toBe(true);
    expect(json.notes.some((n: { message: string }) => /terminal '\*' stripped/.test(n.message))).toBe(true);
    for (const [kind, file] of Object.entries(predictionFiles(whole, 'signal-peptide'))) {
      expect(bytes(predictionFiles(f('notes/merged'), 'signal-peptide')[kind as 'json']).equals(bytes(file)), kind).toBe(true);
    }
  });

  it('secondary structure, 3 parts of 30 records in groups of 16', async () => {
    const { whole, merged } = await shardedAndWhole('ss8-run', f('ss.txt'), 3, 'ss3parts', 1);
    const files = predictionFiles(whole, 'secondary-structure');
    expect(Object.keys(files)).toEqual(['residues', 'counts', 'json']);
    for (const [kind, file] of Object.entries(files)) expect(bytes(predictionFiles(merged, 'secondary-structure')[kind as 'json']).equals(bytes(file)), kind).toBe(true);
    const counts = JSON.parse(readFileSync(`${merged}.counts.json`, 'utf8'));
    expect(counts.sequences).toBe(30);
    expect(Object.values(counts.ss3 as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(counts.residues);
  });

  it('safetensors of plmw infer, with long sequences run as windows', async () => {
    const input = randomFasta(f('infer.fasta'), 15, 5, 40, 3);
    const ctx = { signal: new AbortController().signal, home: dir, jobId: 't', progress: () => {} };
    const req = (out: string) => ({ model: MODEL_TINY, fasta: input, out, emit: ['logits' as const, 'representations' as const, 'contacts' as const], providers: ['cpu' as const], threads: 1, window: 24, overlap: 8, reprLayers: [0, 1, 2] });
    try {
      await runInferJob(req(f('inf-whole.safetensors')), ctx, { groupSize: 4 });
      const parts = [];
      for (let i = 1; i <= 3; i++) {
        parts.push(f(`inf-${i}.safetensors`));
        await runInferJob(req(parts[i - 1]), ctx, { groupSize: 4, shard: { index: i, count: 3 } });
      }
      const meta = readSafetensors(parts[1]).metadata;
      expect(JSON.parse(meta.shard)).toEqual({ index: 2, count: 3, group: 4, total: 15, records: [4, 8] });
      mergeSafetensors([parts[2], parts[0], parts[1]], f('inf-merged.safetensors'));
    } finally {
      await releaseWarmRunner();
    }
    const whole = readSafetensors(f('inf-whole.safetensors'));
    expect(Object.keys(whole.metadata).some((k) => k.endsWith('/long_sequence'))).toBe(true);
    expect(whole.tensors.size).toBe(15 * (1 + 3 + 1));
    expect(bytes(f('inf-merged.safetensors')).equals(bytes(f('inf-whole.safetensors')))).toBe(true);
  }, 60_000);
});

describe('merge refuses what is not one complete run', () => {
  it('a missing part, a foreign part, a cut-short part; nothing is written', async () => {
    mkdirSync(f('bad'));
    const a = f('sp2/part1');
    const b = f('sp2/part2');
    expect(() => mergePredictions([a], f('bad/m1'))).toThrow(/shard\(s\) 2\/2 missing/);
    // another run's part 2 (other batch size -> other groups)
    await predictRun(f('sp-run'), f('sp.fasta'), f('sp2/other2'), { batchSize: 1, runtime, shard: { index: 2, count: 2 } });
    expect(() => mergePredictions([a, f('sp2/other2')], f('bad/m2'))).toThrow(/not pieces of one run/);
    // same grouping, another run of a different model file: the head differs
    writeFileSync(f('sp2/forged2.json'), readFileSync(`${b}.json`, 'utf8').replace('"provider": "cpu"', '"provider": "cuda"'));
    for (const ext of ['residues.csv', 'summary.csv', 'gff3', 'mature.fasta', 'counts.json']) writeFileSync(f(`sp2/forged2.${ext}`), readFileSync(`${b}.${ext}`));
    expect(() => mergePredictions([a, f('sp2/forged2')], f('bad/m3'))).toThrow(/differ in 'provider': "cpu" vs "cuda"/);
    // cut short
    writeFileSync(f('sp2/cut2.json'), readFileSync(`${b}.json`));
    for (const ext of ['residues.csv', 'summary.csv', 'gff3', 'mature.fasta', 'counts.json']) writeFileSync(f(`sp2/cut2.${ext}`), readFileSync(`${b}.${ext}`));
    truncateSync(f('sp2/cut2.json'), Math.floor(readFileSync(`${b}.json`).length / 2));
    expect(() => mergePredictions([a, f('sp2/cut2')], f('bad/m4'))).toThrow(/cut short/);
    expect(readdirSync(f('bad')).length === 0 || readdirSync(f('bad')).every((n) => !n.startsWith('m'))).toBe(true);
    expect(readdirSync(f('bad')).filter((n) => n.includes('~plmw-'))).toEqual([]);
  });

  it('through the CLI: plmw predict --shard, plmw merge, and a usage error for a bad --shard', () => {
    expect(plmw('predict', '--run', f('sp-run'), '--fasta', f('sp.fasta'), '--out', f('cli/x'), '--shard', '4/3').status).toBe(2);
    for (const i of [1, 2]) {
      const r = plmw('predict', '--run', f('sp-run'), '--fasta', f('sp.fasta'), '--out', f(`cli/p${i}`), '--shard', `${i}/2`, '--batch', '2', '--provider', 'cpu', '--threads', '1');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`shard ${i}/2: records ${i === 1 ? '1-32' : '33-37'} of 37`));
    }
    const m = plmw('merge', '--out', f('cli/all'), f('cli/p2'), f('cli/p1.json'));
    expect(m.status, m.stderr).toBe(0);
    expect(bytes(f('cli/all.json')).equals(bytes(f('sp2/merged.json')))).toBe(true);
    // plmw infer --shard: 15 records are one group of the CLI's size, so part 1 of 2 is empty
    for (const i of [1, 2]) {
      const r = plmw('infer', '--model', MODEL_TINY, '--fasta', f('infer.fasta'), '--out', f(`cli/i${i}.safetensors`), '--shard', `${i}/2`, '--provider', 'cpu', '--threads', '1');
      expect(r.status, r.stderr).toBe(0);
    }
    expect(readSafetensors(f('cli/i1.safetensors')).tensors.size).toBe(0);
    expect(plmw('infer', '--model', MODEL_TINY, '--fasta', f('infer.fasta'), '--out', f('cli/iall.safetensors'), '--provider', 'cpu', '--threads', '1').status).toBe(0);
    expect(plmw('merge', '--out', f('cli/imerged.safetensors'), f('cli/i2.safetensors'), f('cli/i1.safetensors')).status).toBe(0);
    expect(bytes(f('cli/imerged.safetensors')).equals(bytes(f('cli/iall.safetensors')))).toBe(true);
    expect(plmw('merge', '--out', f('cli/mixed'), f('cli/i1.safetensors'), f('cli/p1')).status).toBe(2);
    const bad = plmw('merge', '--out', f('cli/none'), f('cli/p2'));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/plmw merge: merge: shard\(s\) 1\/2 missing/);
    expect(readdirSync(f('cli')).some((n) => n.startsWith('none'))).toBe(false);
  });
});
