// Acceptance: on the tiny fixture model (random weights: the biology is meaningless, this only
// shows that the heads, losses and gradients train), a LoRA run for secondary structure and one
// for signal peptides each bring the training loss to at most half of the loss of the untrained
// model (the first optimizer step) within a few epochs on ~200 short records from ../shared/data.
// SS uses the CNN head: with a random backbone a linear head cannot get there (it plateaus near
// the SS8 class-frequency entropy), the CNN head memorises the training set.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLiftSsFile } from '../../src-main/engine/data/lift-ss.js';
import { readSignalPFile } from '../../src-main/engine/data/signalp.js';
import { ssLabelled, ssTask } from '../../src-main/engine/tasks/secondary-structure/task.js';
import { spLabelled } from '../../src-main/engine/tasks/signal-peptide/labels.js';
import { spTask } from '../../src-main/engine/tasks/signal-peptide/task.js';
import { RunDir } from '../../src-main/engine/train/run-dir.js';
import { TRAINER_DEFAULTS, type TrainerConfig, train } from '../../src-main/engine/train/trainer.js';
import { fixtureModel, shared } from '../helpers/paths.js';

const MODEL = fixtureModel('tiny');
const tmp = (p: string) => mkdtempSync(path.join(tmpdir(), `plmw-${p}-`));

function lossCurve(dir: string): { first: number; epochMeans: number[] } {
  const rows = new RunDir(dir).readMetrics().filter((r) => r.split === 'train');
  const first = rows.find((r) => r.step === 1)!;
  const byEpoch = new Map<number, number>();
  // the epoch-end train line is the last train line of each epoch (logEvery lines come before it)
  for (const r of rows) byEpoch.set(Number(r.epoch), Number(r.loss));
  return { first: Number(first.loss), epochMeans: [...byEpoch.values()] };
}

const base = (over: Partial<TrainerConfig>): TrainerConfig => ({
  ...TRAINER_DEFAULTS, model: MODEL, task: '', method: 'lora', methodOptions: {}, batchSize: 8, threads: 2, providers: ['cpu'],
  patience: 0, schedule: 'constant', weightDecay: 0, logEvery: 1, ...over,
});

describe('training on the tiny model lowers the loss by at least half', () => {
  it('secondary structure (SS8), LoRA + CNN head, 200 records, 10 epochs', async () => {
    const recs = (await readLiftSsFile(shared('data', 'secondary-structure', 'lift_ss', 'Test2016.txt'), { strict: true })).records.filter((r) => r.sequence.length <= 100);
    const casp = (await readLiftSsFile(shared('data', 'secondary-structure', 'lift_ss', 'CASP12.txt'), { strict: true })).records.slice(0, 10);
    expect(recs.length).toBeGreaterThanOrEqual(200);
    const task = ssTask('ss8', { head: 'cnn', channels: 128 });
    const dir = tmp('accept-ss');
    const t0 = performance.now();
    const rec = await train(dir, base({
      task: task.name, methodOptions: { r: 8, alpha: 16, dropout: 0, targets: ['query', 'key', 'value', 'attn_out', 'ffn_in', 'ffn_out'], topK: 1 }, epochs: 10, lr: 5e-3,
    }), task, { train: ssLabelled(recs.slice(0, 200), 'ss8'), val: ssLabelled(casp, 'ss8') });
    const c = lossCurve(dir);
    console.log(`SS8 LoRA+CNN: first step ${c.first.toFixed(3)}, epoch means ${c.epochMeans.map((x) => x.toFixed(3)).join(' ')} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    expect(rec.status).toBe('completed');
    expect(Math.abs(c.first - Math.log(8))).toBeLessThan(0.25); // the untrained head is near uniform
    expect(c.epochMeans.at(-1)!).toBeLessThanOrEqual(0.5 * c.first);
  });

  it('signal peptides, LoRA + CRF head, 200 records, 5 epochs', async () => {
    const file = await readSignalPFile(shared('data', 'signalp6', 'small_dataset_10.partitions-0-1.fasta'), { strict: true });
    const items = spLabelled(file.records).items;
    expect(items.length).toBeGreaterThanOrEqual(230);
    const task = spTask();
    const dir = tmp('accept-sp');
    const t0 = performance.now();
    const rec = await train(dir, base({
      task: task.name, methodOptions: { r: 8, alpha: 16, dropout: 0, targets: ['query', 'key', 'value', 'attn_out'] }, epochs: 5, lr: 1e-2, batchSize: 16,
    }), task, { train: items.slice(0, 200), val: items.slice(200, 230) });
    const c = lossCurve(dir);
    console.log(`SP LoRA+CRF: first step ${c.first.toFixed(2)}, epoch means ${c.epochMeans.map((x) => x.toFixed(2)).join(' ')} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    expect(rec.status).toBe('completed');
    expect(c.epochMeans.at(-1)!).toBeLessThanOrEqual(0.5 * c.first);
    // the validation metrics the trainer logged are SignalP's
    const val = new RunDir(dir).readMetrics().filter((r) => r.split === 'val');
    expect(val).toHaveLength(5);
    for (const k of ['mcc2', 'mcc1', 'cs_recall', 'cs_precision', 'type_accuracy']) expect(val[0]).toHaveProperty(k);
  });
});
