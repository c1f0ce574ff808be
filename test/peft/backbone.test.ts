// Imported adapters without a head, and heads trained over them: a backbone run runs in
// `infer --run` and the attention view, refuses predict/evaluate with a message that says what to
// do, and takes a new head (`train --backbone`, method probe) whose predictions are the head
// applied to the adapted model's representations, computed here from the adapted inference
// graph. A prompt-tuning adapter as the backbone checks the prompt rows in the reused features.
// `infer --run` of a trained run gives its classifier's logits, whose softmax is what predict reads.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Esm2Runner } from '../../src-main/engine/esm2/infer.js';
import { loadModel } from '../../src-main/engine/esm2/model.js';
import { runAttentionJob } from '../../src-main/engine/jobs/kinds/attention.js';
import { importPeftRun } from '../../src-main/engine/runs/import-peft.js';
import { PredictInputError, predictRun } from '../../src-main/engine/tasks/predict.js';
import { EvaluationInputError, evaluateRun } from '../../src-main/engine/tasks/evaluate.js';
import { ssTask } from '../../src-main/engine/tasks/secondary-structure/task.js';
import { adaptation } from '../../src-main/engine/train/adapted.js';
import { Predictor, openRun } from '../../src-main/engine/train/predictor.js';
import { type LabelledSequence, TRAINER_DEFAULTS, train } from '../../src-main/engine/train/trainer.js';
import { REPO, fixtureModel, shared } from '../helpers/paths.js';
import { ssSubset } from '../helpers/ss-data.js';
import { SEQUENCES_FASTA, fixtureSequences, peftFixture } from './helpers.js';

const MODEL = fixtureModel('tiny');
let tmp: string;
let root: string;
let data: { train: LabelledSequence[]; val: LabelledSequence[] };
let headless: string;
let prompt: string;
const ctx = () => ({ signal: new AbortController().signal, progress: () => undefined, home: tmp, jobId: 't' });

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'plmw-peft-backbone-'));
  root = path.join(tmp, 'runs');
  data = { train: await ssSubset('CB433.txt', 8), val: await ssSubset('CASP12.txt', 3, 100) };
  headless = (await importPeftRun(peftFixture('lora-all-linear-esmmodel'), { root, home: tmp, model: MODEL })).dir;
  prompt = (await importPeftRun(peftFixture('prompt-tokencls'), { root, home: tmp, model: MODEL })).dir;
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** softmax(x W^T + b) per row, in float64. */
function headProbs(x: Float32Array, rows: number, W: Float32Array, b: Float32Array, C: number): Float64Array {
  const D = x.length / rows;
  const out = new Float64Array(rows * C);
  for (let t = 0; t < rows; t++) {
    const z = Array.from({ length: C }, (_, c) => {
      let s = b[c];
      for (let i = 0; i < D; i++) s += x[t * D + i] * W[c * D + i];
      return s;
    });
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const sum = e.reduce((a, v) => a + v, 0);
    e.forEach((v, c) => (out[t * C + c] = v / sum));
  }
  return out;
}

/** The adapted model's final representations of the validation sequences. */
async function adaptedFeatures(runDir: string): Promise<Float32Array[]> {
  const r = await openRun(runDir);
  const runner = await Esm2Runner.create(r.model, ['representations'], { providers: ['cpu'], threads: 1 }, adaptation(r.model.config, r.method, null, r.params));
  try {
    const out: Float32Array[] = [];
    for (const s of data.val) out.push(runner.unpad(await runner.runBatch([s.sequence]), 0, s.sequence.length).find((t) => t.name === 'representations.2')!.data);
    return out;
  } finally {
    await runner.release();
  }
}

async function checkNewHead(backbone: string, name: string, reuse: boolean): Promise<number> {
  const dir = path.join(tmp, name);
  const rec = await train(dir, { ...TRAINER_DEFAULTS, model: MODEL, task: 'ss-ss8', method: 'probe', methodOptions: {}, backbone, reuse, epochs: 2, batchSize: 4, lr: 5e-2, providers: ['cpu'], threads: 1 }, ssTask('ss8'), data);
  expect(rec.backbone).toMatchObject({ dir: backbone, id: path.basename(backbone) });
  expect(rec.backbone!.checkpointSha256).toMatch(/^[0-9a-f]{64}$/);
  expect(rec.params.trainable).toBe(8 * 64 + 8);
  const run = await openRun(dir);
  const p = await Predictor.create(run.model, run.method, run.head, run.params, { providers: ['cpu'], threads: 1 });
  const probs = await p.predict(data.val.map((s) => s.sequence));
  await p.release();
  const feats = await adaptedFeatures(backbone);
  let max = 0;
  data.val.forEach((s, i) => {
    const want = headProbs(feats[i], s.sequence.length + 2, run.params.get('head.weight')!.data, run.params.get('head.bias')!.data, 8);
    want.forEach((v, k) => (max = Math.max(max, Math.abs(v - probs[i][k]))));
  });
  expect(max).toBeLessThan(1e-5);
  return max;
}

describe('adapters without a head, and new heads over adapters', () => {
  it('a backbone run refuses predict and evaluate, saying what it is for', async () => {
    const task = JSON.parse(readFileSync(path.join(headless, 'run.json'), 'utf8')).task;
    expect(task).toBe('backbone');
    await expect(predictRun(headless, SEQUENCES_FASTA, path.join(tmp, 'p/x'))).rejects.toThrow(PredictInputError);
    await expect(predictRun(headless, SEQUENCES_FASTA, path.join(tmp, 'p/x'))).rejects.toThrow(/an adapter without a task head \(a backbone\): use it with plmw infer --run or the attention view, or train a new head on it with plmw train --backbone RUN/);
    await expect(evaluateRun(headless, shared('data', 'secondary-structure', 'lift_ss', 'CASP12.txt'))).rejects.toThrow(EvaluationInputError);
  });

  it('shows the adapted model\'s attention, which is not the base model\'s', async () => {
    const seq = { id: 'len30', sequence: fixtureSequences()[1].sequence };
    const fromRun = await runAttentionJob({ run: path.basename(headless), root, sequence: seq }, ctx());
    const fromModel = await runAttentionJob({ model: MODEL, sequence: seq }, ctx());
    expect(fromRun.source).toMatchObject({ kind: 'run', method: 'lora' });
    const a = Buffer.from(fromRun.contacts.base64, 'base64');
    const b = Buffer.from(fromModel.contacts.base64, 'base64');
    expect(a.equals(b)).toBe(false);
    // the same contacts as the adapted inference graph gives
    const r = await openRun(headless);
    const runner = await Esm2Runner.create(r.model, ['contacts'], { providers: ['cpu'], threads: 1 }, adaptation(r.model.config, r.method, null, r.params));
    const c = runner.unpad(await runner.runBatch([seq.sequence]), 0, seq.sequence.length)[0].data;
    await runner.release();
    const mine = new Float32Array(a.buffer, a.byteOffset, a.byteLength / 4);
    let max = 0;
    c.forEach((v, i) => (max = Math.max(max, Math.abs(v - mine[i]))));
    expect(max).toBeLessThan(1e-5);
  });

  it('trains a new head over a frozen LoRA backbone: predictions = the head on the adapted representations (reused and not)', async () => {
    await checkNewHead(headless, 'head-over-lora', true);
    await checkNewHead(headless, 'head-over-lora-noreuse', false);
    // the frozen adapter matters: a probe on the plain model is another model
    const plainModel = await loadModel(MODEL);
    const base = await Esm2Runner.create(plainModel, ['representations'], { providers: ['cpu'], threads: 1 }, undefined, { reprLayers: [1] });
    const plain = base.unpad(await base.runBatch([data.val[0].sequence]), 0, data.val[0].sequence.length)[0].data;
    await base.release();
    const adapted = (await adaptedFeatures(headless))[0];
    expect(Math.max(...plain.map((v, i) => Math.abs(v - adapted[i])))).toBeGreaterThan(0.05);
  });

  it('trains a new head over a frozen prompt-tuning backbone (the prompt rows stay out of the reused features)', async () => {
    await checkNewHead(prompt, 'head-over-prompt', true);
  });

  it('plmw train --backbone, then plmw predict on the new run', () => {
    const train = path.join(tmp, 'train.txt');
    const val = path.join(tmp, 'val.txt');
    const lift = (seqs: LabelledSequence[]) => seqs.map((s) => `>${s.id}\n${s.sequence}\n${Array.from(s.labels, (c) => (c < 0 ? 'X' : 'GHIBESTL'[c])).join('')}\n`).join('');
    writeFileSync(train, lift(data.train));
    writeFileSync(val, lift(data.val));
    const fasta = path.join(tmp, 'plain.fasta');
    writeFileSync(fasta, fixtureSequences().map((s) => `>${s.id}\n${s.sequence}\n`).join(''));
    const out = path.join(tmp, 'cli-head');
    const plmw = (...a: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', ...a], { cwd: REPO, encoding: 'utf8' });
    const t = plmw('train', '--backbone', headless, '--task', 'ss', '--train', train, '--val', val, '--epochs', '1', '--batch', '4', '--out', out, '--provider', 'cpu');
    expect(t.status, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/plmw train: probe \{\}: 520 trainable parameters/);
    expect(plmw('train', '--backbone', headless, '--method', 'lora', '--task', 'ss', '--train', train, '--val', val, '--epochs', '1', '--out', `${out}2`).stderr).toMatch(/the method is probe, not 'lora'/);
    const p = plmw('predict', '--run', out, '--fasta', fasta, '--out', path.join(tmp, 'cli-pred', 'x'));
    expect(p.status, p.stderr).toBe(0);
    expect(JSON.parse(readFileSync(path.join(tmp, 'cli-pred', 'x.json'), 'utf8')).sequences).toHaveLength(5);
  });

  it('infer --run of a trained run: the classifier\'s logits, whose softmax is what predict reads', async () => {
    const dir = path.join(tmp, 'trained-lora');
    await train(dir, { ...TRAINER_DEFAULTS, model: MODEL, task: 'ss-ss8', method: 'lora', methodOptions: { r: 2, targets: ['query', 'value'], topK: 1 }, epochs: 1, batchSize: 4, providers: ['cpu'], threads: 1 }, ssTask('ss8'), data);
    const run = await openRun(dir);
    const runner = await Esm2Runner.create(run.model, ['logits'], { providers: ['cpu'], threads: 1 }, adaptation(run.model.config, run.method, run.head, run.params));
    const p = await Predictor.create(run.model, run.method, run.head, run.params, { providers: ['cpu'], threads: 1 });
    try {
      const probs = await p.predict(data.val.map((s) => s.sequence));
      for (const [i, s] of data.val.entries()) {
        const lg = runner.unpad(await runner.runBatch([s.sequence]), 0, s.sequence.length)[0];
        expect(lg.shape).toEqual([s.sequence.length + 2, 8]);
        for (let t = 0; t < lg.shape[0]; t++) {
          const z = Array.from(lg.data.subarray(t * 8, t * 8 + 8));
          const m = Math.max(...z);
          const e = z.map((v) => Math.exp(v - m));
          const sum = e.reduce((a, v) => a + v, 0);
          e.forEach((v, c) => expect(Math.abs(v / sum - probs[i][t * 8 + c])).toBeLessThan(1e-5));
        }
      }
    } finally {
      await Promise.all([runner.release(), p.release()]);
    }
  });
});
