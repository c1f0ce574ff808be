// The proteome workflow at the scale it is for, on this machine's CPUs: over 2,000 SignalP 6.0
// proteins of all four kingdoms (../shared/data), a signal-peptide run trained for a few steps
// on the esm2_t6_8M-shaped fixture, 8 shards. Run with the local profile and, through Snakemake's
// SLURM executor, on a real one-node SLURM cluster (scripts/slurm-one-node.sh; .ci/run starts
// it); both runs' merged files must be byte for byte those of one unsharded `plmw predict`, and
// the summary table must add up to that run's counts.
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSignalPFile } from '../../src-main/engine/data/signalp.js';
import { predictRun, predictionFiles } from '../../src-main/engine/tasks/predict.js';
import { spLabelled } from '../../src-main/engine/tasks/signal-peptide/labels.js';
import { spTask } from '../../src-main/engine/tasks/signal-peptide/task.js';
import { TRAINER_DEFAULTS, train } from '../../src-main/engine/train/trainer.js';
import { fixtureModel, shared } from '../helpers/paths.js';
import { writeSignalP } from '../tasks/helpers/task-files.js';
import { jobStats, readTsv, requireSlurm, requireSnakemake, snakemake, workdir } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'plmw-proteome-'));
const f = (n: string) => path.join(dir, n);
const SHARDS = 8;
const TYPES = ['NO_SP', 'SP', 'LIPO', 'TAT', 'TATLIPO', 'PILIN'];
let proteins = 0;

beforeAll(async () => {
  requireSnakemake();
  const all = (await readSignalPFile(shared('data', 'signalp6', 'train_set.partitions-0-1.fasta'), { strict: true })).records;
  // every 6th record: 2,215 proteins of the four kingdoms; the proteome file has no labels
  const input = all.filter((_, i) => i % 6 === 0);
  proteins = input.length;
  writeSignalP(f('proteome.fasta'), input, false);
  const trainSet = all.filter((_, i) => i % 6 === 1).filter((_, i) => i % 50 === 0);
  await train(
    f('run'),
    { ...TRAINER_DEFAULTS, model: fixtureModel('t6-shape'), task: 'sp', method: 'probe', methodOptions: {}, epochs: 1, batchSize: 8, threads: 2, providers: ['cpu'] },
    spTask(),
    { train: spLabelled(trainSet).items, val: spLabelled(trainSet.slice(0, 8)).items },
  );
  mkdirSync(f('unsharded'));
  await predictRun(f('run'), f('proteome.fasta'), f('unsharded/proteome'), { runtime: { providers: ['cpu'], threads: 2 } });
}, 600_000);

function expectSameAsUnsharded(results: string) {
  const want = predictionFiles(f('unsharded/proteome'), 'signal-peptide');
  const got = predictionFiles(path.join(results, 'proteome', 'proteome'), 'signal-peptide');
  for (const k of Object.keys(want) as (keyof typeof want)[]) expect(readFileSync(got[k]!).equals(readFileSync(want[k]!)), `${k} differs from the unsharded run`).toBe(true);
  // the summary table: each kingdom's row is the unsharded run's counts
  const counts = JSON.parse(readFileSync(want.counts, 'utf8')) as { sequences: number; types: Record<string, Record<string, number>> };
  expect(counts.sequences).toBe(proteins);
  const rows = readTsv(path.join(results, 'summary.tsv'));
  expect(rows.map((r) => r.kingdom).sort()).toEqual(['ARCHAEA', 'EUKARYA', 'NEGATIVE', 'POSITIVE']);
  for (const r of rows) {
    expect(r.shards).toBe(`${SHARDS}/${SHARDS}`);
    expect(r.missing).toBe('');
    for (const t of TYPES) expect(Number(r[t]), `${r.kingdom} ${t}`).toBe(counts.types[r.kingdom][t]);
  }
  expect(rows.reduce((a, r) => a + Number(r.sequences), 0)).toBe(proteins);
}

describe('the proteome workflow over 2,215 proteins in 8 shards', () => {
  it('local profile: merged files are the unsharded run, byte for byte', () => {
    const w = workdir(f('local'), { run: f('run'), inputs: { proteome: { fasta: f('proteome.fasta') } }, shards: SHARDS, resources: { predict: { threads: 1, mem_mb: 2000 } } });
    const r = snakemake(w, 'local', ['--cores', '2']);
    expect(r.status, r.output.slice(-4000)).toBe(0);
    expect(jobStats(r.output)).toMatchObject({ predict_shard: SHARDS, merge: 1, summary: 1 });
    expectSameAsUnsharded(path.join(w, 'results'));
    const log = readTsv(path.join(w, 'results', 'runlog.tsv'));
    expect(log.map((x) => [x.job, x.status, x.slurm_job])).toEqual([...Array.from({ length: SHARDS }, (_, i) => [`shard ${i + 1}/${SHARDS}`, 'done', '-']), ['merge', 'done', '-']]);
    expect(log.slice(0, SHARDS).reduce((a, x) => a + Number(x.sequences), 0)).toBe(proteins);
  });

  it('slurm profile on a one-node SLURM cluster: every job a SLURM job, merged files the unsharded run', () => {
    const conf = requireSlurm();
    const w = workdir(f('slurm'), { run: f('run'), inputs: { proteome: { fasta: f('proteome.fasta') } }, shards: SHARDS, resources: { predict: { threads: 1, mem_mb: 2000, runtime: 30 }, merge: { mem_mb: 1000, runtime: 10 } } });
    const r = snakemake(w, 'slurm', [], { slurmConf: conf });
    expect(r.status, r.output.slice(-4000)).toBe(0);
    const submitted = [...r.output.matchAll(/has been submitted with SLURM jobid (\d+)/g)].map((m) => m[1]);
    expect(submitted).toHaveLength(SHARDS + 1);
    expectSameAsUnsharded(path.join(w, 'results'));
    const log = readTsv(path.join(w, 'results', 'runlog.tsv'));
    expect(log.map((x) => x.status)).toEqual(Array(SHARDS + 1).fill('done'));
    // what ran where: each shard and the merge ran inside one of the submitted SLURM jobs
    expect(log.map((x) => x.slurm_job).sort()).toEqual([...submitted].sort());
    expect(log.every((x) => x.host !== '' && (x.provider !== '') === (x.job !== 'merge'))).toBe(true);
  });
});
