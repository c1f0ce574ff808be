// The proteome workflow when things go wrong, with the local profile on the tiny fixture model:
// a workflow killed mid-way (SIGKILL to Snakemake and every job) and run again re-runs only the
// shards that had not finished and ends with the bytes of one unsharded `plmw predict`; a
// malformed record fails the shard that holds it, located in the original file, the summary
// names that shard and its error, and every other shard's results are intact.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readLiftSsFile } from '../../src-main/engine/data/lift-ss.js';
import { type PredictionTask, predictRun, predictionFiles } from '../../src-main/engine/tasks/predict.js';
import { ssLabelled, ssTask } from '../../src-main/engine/tasks/secondary-structure/task.js';
import { spLabelled } from '../../src-main/engine/tasks/signal-peptide/labels.js';
import { spTask } from '../../src-main/engine/tasks/signal-peptide/task.js';
import { TRAINER_DEFAULTS, type TrainerConfig, train } from '../../src-main/engine/train/trainer.js';
import { randomFasta } from '../jobs/helpers.js';
import { MODEL_TINY, signalpSplit, syntheticSs, writeLiftSs, writeSignalP } from '../tasks/helpers/task-files.js';
import { jobStats, readTsv, requireSnakemake, snakemake, startSnakemake, workdir } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'plmw-resume-'));
const f = (n: string) => path.join(dir, n);
const cfg = (task: string): TrainerConfig => ({
  ...TRAINER_DEFAULTS, model: MODEL_TINY, task, method: 'lora', methodOptions: { r: 2, targets: ['query', 'value'] }, epochs: 1, batchSize: 8, lr: 0.02, threads: 1, providers: ['cpu'],
});
const runtime = { providers: ['cpu' as const], threads: 1 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  requireSnakemake();
  const ss = syntheticSs(24, 8);
  writeLiftSs(f('ss.txt'), ss);
  const recs = (await readLiftSsFile(f('ss.txt'), { strict: true })).records;
  await train(f('ss8-run'), cfg('ss-ss8'), ssTask('ss8'), { train: ssLabelled(recs, 'ss8'), val: ssLabelled(recs.slice(0, 4), 'ss8') });
  const split = await signalpSplit();
  await train(f('sp-run'), cfg('sp'), spTask(), { train: spLabelled(split.train.slice(0, 24)).items, val: spLabelled(split.test.slice(0, 6)).items });
}, 300_000);

/** Shards of `sample` whose files are all there. */
function completeShards(results: string, sample: string, n: number, task: PredictionTask): number[] {
  return Array.from({ length: n }, (_, k) => k + 1).filter((i) => Object.values(predictionFiles(path.join(results, sample, 'shards', `${i}-of-${n}`), task)).every((p) => existsSync(p!)));
}

describe('a killed workflow, run again', () => {
  it('re-runs only the missing shards and ends with the bytes of one unsharded run', async () => {
    const N = 5;
    randomFasta(f('proteome.fasta'), 160, 20, 60, 21); // batch 2: groups of 32 records, one per shard
    mkdirSync(f('unsharded'));
    await predictRun(f('ss8-run'), f('proteome.fasta'), f('unsharded/p'), { batchSize: 2, runtime });
    const w = workdir(f('killed'), { run: f('ss8-run'), inputs: { p: { fasta: f('proteome.fasta') } }, shards: N, batch: 2, resources: { predict: { threads: 1 } } });
    const results = path.join(w, 'results');
    const logOf = (i: number) => path.join(results, 'logs', 'p', `shard-${i}-of-${N}.log`);
    // one job at a time; kill everything while a third shard is running (its log begun, not ended)
    const child = startSnakemake(w, 'local', ['--cores', '1']);
    const t0 = Date.now();
    let running: number | undefined;
    while (Date.now() - t0 < 300_000) {
      const done = completeShards(results, 'p', N, 'secondary-structure');
      running = Array.from({ length: N }, (_, k) => k + 1).find((i) => !done.includes(i) && existsSync(logOf(i)) && !readFileSync(logOf(i), 'utf8').includes('# end '));
      if (done.length >= 2 && running !== undefined) break;
      await sleep(100);
    }
    expect(running, 'no shard was running after two had finished').toBeDefined();
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
    const doneBefore = completeShards(results, 'p', N, 'secondary-structure');
    expect(doneBefore.length).toBeGreaterThanOrEqual(2);
    expect(doneBefore).not.toContain(running);
    expect(existsSync(path.join(results, 'p', 'p.json'))).toBe(false);
    const stamp = (i: number) => Object.values(predictionFiles(path.join(results, 'p', 'shards', `${i}-of-${N}`), 'secondary-structure')).map((p) => statSync(p!).mtimeMs);
    const before = new Map(doneBefore.map((i) => [i, { mtimes: stamp(i), log: readFileSync(logOf(i), 'utf8') }]));

    // the documented way back after a kill: unlock, then the same command again
    expect(snakemake(w, 'local', ['--unlock']).status).toBe(0);
    const again = snakemake(w, 'local', ['--cores', '1']);
    expect(again.status, again.output.slice(-3000)).toBe(0);
    expect(jobStats(again.output)).toMatchObject({ predict_shard: N - doneBefore.length, merge: 1, summary: 1 });
    for (const [i, b] of before) {
      expect(stamp(i), `shard ${i} was run again`).toEqual(b.mtimes);
      expect(readFileSync(logOf(i), 'utf8')).toBe(b.log);
    }
    const want = predictionFiles(f('unsharded/p'), 'secondary-structure');
    const got = predictionFiles(path.join(results, 'p', 'p'), 'secondary-structure');
    for (const k of Object.keys(want) as (keyof typeof want)[]) expect(readFileSync(got[k]!).equals(readFileSync(want[k]!)), k).toBe(true);
    // the killed shard's temporaries were swept by its re-run
    expect(readdirSync(path.join(results, 'p', 'shards')).filter((n) => n.includes('~plmw-'))).toEqual([]);
    // SS composition in the summary: the unsharded run's counts
    const counts = JSON.parse(readFileSync(want.counts, 'utf8'));
    const [row] = readTsv(path.join(results, 'summary.tsv'));
    expect([row.input, Number(row.sequences), Number(row.residues), row.shards]).toEqual(['p', 160, counts.residues, `${N}/${N}`]);
    for (const s of 'GHIBESTC') expect(Number(row[`ss8_${s}`])).toBeCloseTo(counts.ss8[s] / counts.residues, 4);
    for (const s of 'HEC') expect(Number(row[`ss3_${s}`])).toBeCloseTo(counts.ss3[s] / counts.residues, 4);
  });
});

describe('a malformed record', () => {
  it('fails its shard with the located error; the summary names it; other shards and inputs are intact', async () => {
    const N = 3;
    const split = await signalpSplit();
    const clean = [...split.train, ...split.test].slice(0, 96); // batch 2: groups of 32, shard 2 = records 33-64
    writeSignalP(f('clean.fasta'), clean, false);
    const bad = clean.map((r, i) => (i === 40 ? { ...r, sequence: `${r.sequence.slice(0, 5)}J${r.sequence.slice(6)}` } : r));
    writeSignalP(f('bad.fasta'), bad, false);
    writeFileSync(f('plain.fasta'), clean.slice(0, 40).map((r) => `>${r.id}\n${r.sequence}\n`).join(''));
    const w = workdir(f('malformed'), {
      run: f('sp-run'), inputs: { bad: { fasta: f('bad.fasta') }, plain: { fasta: f('plain.fasta'), kingdom: 'NEGATIVE' } }, shards: N, batch: 2, resources: { predict: { threads: 1 } },
    });
    const results = path.join(w, 'results');
    const r = snakemake(w, 'local', ['--cores', '2']);
    expect(r.status).not.toBe(0);
    expect(completeShards(results, 'bad', N, 'signal-peptide')).toEqual([1, 3]);
    expect(completeShards(results, 'plain', N, 'signal-peptide')).toEqual([1, 2, 3]);
    expect(existsSync(path.join(results, 'plain', 'plain.json'))).toBe(true);
    expect(existsSync(path.join(results, 'bad', 'bad.json'))).toBe(false);

    // the error: the original file, the line and column of the 'J', the record
    // (prediction keeps a SignalP-style header's whole first word as the id)
    const b = bad[40];
    const located = `${f('bad.fasta')}:${2 * 40 + 2}:6 (record '${b.id}|${b.kingdom}|${b.type}|${b.partition}')`;
    const log = readTsv(path.join(results, 'runlog.tsv'));
    const failed = log.find((x) => x.input === 'bad' && x.job === `shard 2/${N}`)!;
    expect([failed.status, failed.exit]).toEqual(['failed', '1']);
    expect(failed.message).toContain(`1 record(s) rejected among records 33-64 (shard 2/${N})`);
    expect(failed.message).toContain(located);
    const rows = readTsv(path.join(results, 'summary.tsv'));
    const badRows = rows.filter((x) => x.input === 'bad');
    expect(badRows.length).toBeGreaterThan(0);
    for (const x of badRows) {
      expect(x.shards).toBe(`2/${N}`);
      expect(x.missing).toContain(`shard 2/${N} failed: plmw predict:`);
      expect(x.missing).toContain(located);
    }
    expect(badRows.reduce((a, x) => a + Number(x.sequences), 0)).toBe(64);
    expect(rows.filter((x) => x.input === 'plain').map((x) => [x.kingdom, x.sequences, x.shards, x.missing])).toEqual([['NEGATIVE', '40', `${N}/${N}`, '']]);

    // the other shards are what the same shards of the clean file give
    mkdirSync(f('clean'));
    for (const i of [1, 3]) {
      await predictRun(f('sp-run'), f('clean.fasta'), f(`clean/${i}`), { batchSize: 2, runtime, shard: { index: i, count: N } });
      const want = predictionFiles(f(`clean/${i}`), 'signal-peptide');
      const got = predictionFiles(path.join(results, 'bad', 'shards', `${i}-of-${N}`), 'signal-peptide');
      for (const k of ['residues', 'summary', 'gff3', 'mature', 'counts'] as const) expect(readFileSync(got[k]!).equals(readFileSync(want[k]!)), `shard ${i} ${k}`).toBe(true);
      expect(JSON.parse(readFileSync(got.json, 'utf8')).sequences).toEqual(JSON.parse(readFileSync(want.json, 'utf8')).sequences);
    }
  });
});
