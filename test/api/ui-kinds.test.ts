// The workbench UI's job kinds through ApiService (validation in the main thread, work in the
// job worker) on the tiny fixture model: train (+ live metrics rows, per-class evaluation),
// train.resume, train.estimate, predict, attention, export and runs.evaluation.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, AttentionResult, ExportResult, JobProgress, PredictResult, RunsEvaluationResult, TrainEstimate, TrainResult } from '../../src-main/api/contract.js';
import type { ApiError } from '../../src-main/api/errors.js';
import { ApiService } from '../../src-main/api/service.js';
import { SS8_STATES } from '../../src-main/engine/data/labels-ss.js';
import { readSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { parseCsv } from '../../src-main/engine/export/csv.js';
import { JobQueue } from '../../src-main/engine/jobs/queue.js';
import { fixtureModel, shared } from '../helpers/paths.js';

let home: string;
let jobs: JobQueue;
let api: ApiService;
const events: ApiEvent[] = [];
const MODEL = fixtureModel('tiny');

/** LIFT_SS records (3 lines each) of at most maxLen residues, as text. */
function liftSs(file: string, n: number, maxLen: number): string {
  const text = readFileSync(shared('data', 'secondary-structure', 'lift_ss', file), 'utf8');
  const recs = text.split('>').slice(1).map((r) => `>${r}`).filter((r) => r.split('\n')[1].trim().length <= maxLen);
  return recs.slice(0, n).join('');
}

async function run<T>(method: string, request: unknown): Promise<T> {
  const { jobId } = (await api.dispatch(method, request)) as { jobId: string };
  const j = await jobs.wait(jobId);
  if (j.state !== 'done') throw new Error(`${method}: ${j.state}: ${j.error}`);
  return j.result as T;
}

const failure = async (method: string, request: unknown): Promise<string> => {
  const { jobId } = (await api.dispatch(method, request)) as { jobId: string };
  const j = await jobs.wait(jobId);
  expect(j.state).toBe('failed');
  return j.error!;
};

const badRequest = async (method: string, request: unknown) => {
  try {
    await api.dispatch(method, request);
  } catch (e) {
    return e as ApiError;
  }
  throw new Error('expected a bad request');
};

const TRAIN = liftSs('CB433.txt', 12, 70);
const VAL = liftSs('CASP12.txt', 3, 140);
const SEQS = [
  { id: 'q1', sequence: 'MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQFEVV' },
  { id: 'q2', sequence: 'GSHMSLFDFFKNKGSAATATDRLKLLL' },
];
let trained: TrainResult;

beforeAll(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'plmw-ui-kinds-'));
  jobs = new JobQueue({ progressIntervalMs: 0 });
  api = new ApiService({ front: 'cli', jobs, home });
  api.onEvent((e) => events.push(e));
  trained = await run<TrainResult>('train', {
    model: MODEL, task: 'ss', method: 'lora', options: { r: 4, alpha: 8, topK: 1, targets: ['query', 'value'] },
    train: { text: TRAIN, name: 'cb433-subset' }, val: { path: writeVal() }, epochs: 2, batchSize: 4, lr: 5e-3, seed: 3, id: 'lora-a', name: 'LoRA A',
  });
});
afterAll(async () => {
  await jobs.close();
  rmSync(home, { recursive: true, force: true });
});

function writeVal(): string {
  const f = path.join(home, 'val.txt');
  writeFileSync(f, VAL);
  return f;
}

describe('train', () => {
  it('writes a run under the runs root with per-step metrics rows, progress with loss and metric, and per-class scores', async () => {
    expect(trained).toMatchObject({ id: 'lora-a', status: 'completed', dir: path.join(home, 'runs', 'lora-a') });
    expect(trained.params.trainable).toBeGreaterThan(0);
    expect(trained.best?.metric).toBe('q8');
    const detail = await api.call('runs.get', { id: 'lora-a' });
    expect(detail.name).toBe('LoRA A');
    const steps = detail.metrics.filter((m) => m.split === 'train' && m.lr !== undefined);
    // 12 sequences / batch 4 = 3 steps per epoch, logged every step
    expect(steps.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(detail.metrics.filter((m) => m.split === 'val')).toHaveLength(2);
    const progress = events.filter((e): e is { type: 'job.progress' } & JobProgress => e.type === 'job.progress' && e.kind === 'train');
    expect(progress.some((p) => typeof p.loss === 'number' && p.phase.startsWith('train'))).toBe(true);
    expect(progress.some((p) => p.metric?.name === 'q8' && p.metric.value >= 0 && p.metric.value <= 1)).toBe(true);
    // a validation's message repeats the training ETA of the step before it (no flash of "ETA 0")
    progress.forEach((p, i) => {
      if (!p.phase.startsWith('validated')) return;
      const before = progress.slice(0, i).filter((q) => q.phase.startsWith('train')).at(-1)!;
      expect(p.etaSeconds).toBe(before.etaSeconds);
    });
    expect(trained.evaluation?.classes.map((c) => c.label).join('')).toBe(SS8_STATES);
    expect(trained.evaluation?.classes3?.map((c) => c.label).join('')).toBe('HEC');
    expect(trained.evaluation?.summary.q8).toBeCloseTo(trained.best!.value, 6);
    expect(existsSync(path.join(trained.dir, 'data', 'train.txt'))).toBe(true);
  });

  it('refuses bad requests before queueing, and bad data with the located reason', async () => {
    expect(await badRequest('train', { model: MODEL, task: 'ss', method: 'nope', train: { text: 'x' }, val: { text: 'x' }, epochs: 1 })).toMatchObject({ code: 'bad_request', field: 'method' });
    expect(await badRequest('train', { model: MODEL, task: 'sp', labels: 'ss8', method: 'lora', train: { text: 'x' }, val: { text: 'x' }, epochs: 1 })).toMatchObject({ field: 'labels' });
    expect(await badRequest('train', { model: MODEL, task: 'ss', method: 'lora', train: { text: 'x', path: '/x' }, val: { text: 'x' }, epochs: 1 })).toMatchObject({ field: 'train.path' });
    expect(await badRequest('train', { model: MODEL, task: 'ss', method: 'lora', options: { rank: 2 }, train: { text: 'x' }, val: { text: 'x' }, epochs: 1 })).toMatchObject({ field: 'options.rank' });
    const plain = await failure('train', { model: MODEL, task: 'ss', method: 'lora', train: { text: '>a\nMKV\n' }, val: { text: VAL }, epochs: 1 });
    expect(plain).toMatch(/train data \(<train>\): fasta data has no secondary-structure labels/);
    expect(await failure('train', { model: MODEL, task: 'ss', method: 'lora', train: { text: TRAIN }, val: { text: VAL }, epochs: 1, id: 'lora-a' })).toMatch(/already exists/);
  });

  it('resumes a cancelled run from its saved request and data', async () => {
    const { jobId } = await api.call('train', { model: MODEL, task: 'ss', method: 'ia3', train: { text: TRAIN }, val: { text: VAL }, epochs: 3, batchSize: 2, id: 'ia3-r' });
    // cancel once the first step has been reported
    await new Promise<void>((resolve) => {
      const off = api.onEvent((e) => {
        if (e.type === 'job.progress' && e.jobId === jobId && e.phase.startsWith('train') && e.done >= 2) {
          off();
          void api.call('jobs.cancel', { jobId });
          resolve();
        }
      });
    });
    expect((await jobs.wait(jobId)).state).toBe('cancelled');
    expect((await api.call('runs.get', { id: 'ia3-r' })).status).toBe('cancelled');
    const r = await run<TrainResult>('train.resume', { id: 'ia3-r' });
    expect(r.status).toBe('completed');
    const metrics = (await api.call('runs.get', { id: 'ia3-r' })).metrics;
    expect(metrics.filter((m) => m.split === 'val').map((m) => m.epoch)).toEqual([0, 1, 2]);
    expect(await failure('train.resume', { id: 'ia3-r' })).toMatch(/already completed/);
  });
});

describe('train.estimate', () => {
  it('counts trainable parameters as the trainer does and estimates memory', async () => {
    const e = await run<TrainEstimate>('train.estimate', { model: MODEL, task: 'ss', method: 'lora', options: { r: 4, alpha: 8, topK: 1, targets: ['query', 'value'] }, train: { text: TRAIN }, batchSize: 4 });
    expect(e.trainable).toBe(trained.params.trainable);
    expect(e.total).toBe(trained.params.total);
    // LoRA r=4 on query and value of 1 block of d=64: 2 x (64x4 + 4x64); linear head 64x8 + 8
    expect(e.methodParams).toBe(2 * (64 * 4 + 4 * 64));
    expect(e.headParams).toBe(64 * 8 + 8);
    expect(e.lowestBlock).toBe(1);
    expect(e.sequences).toBe(12);
    expect(e.memory.optimizerBytes).toBe(e.trainable * 32);
    // with the top block trained and reuse on, one of the two phases maps only part of the weights
    expect(e.memory.weightsBytes).toBeGreaterThan(0);
    expect(e.memory.weightsBytes).toBeLessThan(430832);
    expect(e.memory.featureCacheBytes).toBeGreaterThan(0);
    expect(e.memory.totalBytes).toBe(e.memory.runtimeBytes + e.memory.weightsBytes + e.memory.optimizerBytes + e.memory.activationBytes + e.memory.featureCacheBytes);
    const full = await run<TrainEstimate>('train.estimate', { model: MODEL, task: 'ss', method: 'full', maxLength: 100 });
    expect(full.trainable).toBeGreaterThan(e.trainable * 50);
    expect(full.memory.activationBytes).toBeGreaterThan(e.memory.activationBytes);
  });
});

let predicted: PredictResult;
describe('predict', () => {
  it('returns per-residue SS8/SS3 probabilities and classes, and keeps the files', async () => {
    predicted = await run<PredictResult>('predict', { run: 'lora-a', sequences: SEQS });
    expect(predicted.task).toBe('secondary-structure');
    expect(predicted.sequences.map((s) => s.id)).toEqual(['q1', 'q2']);
    for (const [i, s] of predicted.sequences.entries()) {
      const n = SEQS[i].sequence.length;
      expect(s.sequence).toBe(SEQS[i].sequence);
      expect(s.ss!.states).toBe(SS8_STATES);
      expect(s.ss!.ss8).toHaveLength(n);
      expect(s.ss!.ss3).toMatch(new RegExp(`^[HEC]{${n}}$`));
      expect(s.ss!.p8).toHaveLength(n * 8);
      expect(s.ss!.p3).toHaveLength(n * 3);
      for (let k = 0; k < n; k++) {
        const row = s.ss!.p8!.slice(k * 8, k * 8 + 8);
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
        expect(s.ss!.ss8![k]).toBe(SS8_STATES[row.indexOf(Math.max(...row))]);
      }
    }
    expect(existsSync(predicted.json)).toBe(true);
    const csv = parseCsv(readFileSync(predicted.files.find((f) => f.endsWith('.residues.csv'))!, 'utf8'));
    expect(csv).toHaveLength(1 + SEQS[0].sequence.length + SEQS[1].sequence.length);
    expect(csv[1].slice(0, 4)).toEqual(['q1', '1', 'M', predicted.sequences[0].ss!.ss8![0]]);
    // progress while predicting: sequences done, with no ETA outside the prediction itself
    const phases = events.filter((e): e is { type: 'job.progress' } & JobProgress => e.type === 'job.progress' && e.kind === 'predict').map((e) => [e.phase, e.done, e.total]);
    expect(phases).toContainEqual(['predicting', 2, 2]);
    expect(phases.map((p) => p[0])).toEqual(expect.arrayContaining(['reading the input', 'loading the model', 'writing files']));
  });

  it('lists the kept predictions from disk (as after a reload) and reopens one as the job returned it', async () => {
    const { predictions, problems } = await api.call('predictions.list', {});
    expect(problems).toEqual([]);
    const entry = predictions.find((p) => p.json === predicted.json)!;
    expect(entry).toMatchObject({ run: 'lora-a', runName: 'LoRA A', task: 'secondary-structure', sequences: 2, ids: ['q1', 'q2'], inputName: 'the selected sequences' });
    expect(Date.parse(entry.createdAt)).toBeGreaterThan(Date.now() - 600_000);
    const again = await api.call('predictions.get', { json: predicted.json });
    expect(again.sequences).toEqual(predicted.sequences);
    expect(again.runName).toBe('LoRA A');
    expect(await badRequest('predictions.get', { json: '/etc/passwd' })).toMatchObject({ field: 'json' });
  });

  it('writes the files at a prefix on request; unknown runs fail', async () => {
    const out = path.join(home, 'mine', 'p');
    const r = await run<PredictResult>('predict', { run: 'lora-a', sequences: [SEQS[1]], out });
    expect(r.json).toBe(`${out}.json`);
    expect(existsSync(`${out}.residues.csv`)).toBe(true);
    expect(await failure('predict', { run: 'no-such-run', sequences: [SEQS[1]] })).toMatch(/no-such-run/);
    expect(await badRequest('predict', { run: 'lora-a', sequences: [{ id: 'a b', sequence: 'MK' }] })).toMatchObject({ field: 'sequences[0].id' });
  });
});

describe('attention', () => {
  const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));
  const mapOf = (r: AttentionResult) => Float32Array.from(bytes(r.map.base64), (b) => (b / 255) * r.map.scale);
  /** The reference: every map of `plmw infer --emit attentions,contacts` for the same sequence. */
  async function reference(seq: { id: string; sequence: string }) {
    const out = path.join(home, `ref-${seq.id}.safetensors`);
    await run('infer', { model: MODEL, sequences: [seq], emit: ['attentions', 'contacts'], out });
    const ref = readSafetensors(out);
    return { attn: ref.tensors.get(`${seq.id}/attentions`)!.toFloat32(), contacts: ref.tensors.get(`${seq.id}/contacts`)!.toFloat32() };
  }

  it("returns the chosen head's map, every head's maximum and thumbnail, and the contacts, matching plmw infer's", async () => {
    const seq = SEQS[1];
    const T = seq.sequence.length + 2;
    const ref = await reference(seq);
    const head = (l: number, h: number) => ref.attn.subarray((l * 4 + h) * T * T, (l * 4 + h + 1) * T * T);
    for (const [layer, hd] of [[0, 0], [1, 3]] as const) {
      const a = await run<AttentionResult>('attention', { model: MODEL, sequence: seq, ...(layer || hd ? { layer, head: hd } : {}) });
      expect(a).toMatchObject({ layers: 2, heads: 4, map: { layer, head: hd, shape: [T, T] } });
      expect(a.tokens).toHaveLength(T);
      const got = mapOf(a);
      const want = head(layer, hd);
      let maxErr = 0;
      for (let i = 0; i < got.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - want[i]));
      expect(maxErr).toBeLessThanOrEqual(a.map.scale / 255 / 2 + 1e-6);
      expect(got.slice(0, T).reduce((x, y) => x + y, 0)).toBeCloseTo(1, 1); // a query row sums to 1
      // every head: its maximum, and its thumbnail = block means over an S x S grid (float64 here)
      const S = a.thumbnails.size;
      expect(S).toBe(Math.min(T, 64));
      const tb = bytes(a.thumbnails.base64);
      expect(tb.length).toBe(2 * 4 * S * S);
      for (let lh = 0; lh < 8; lh++) {
        const m = ref.attn.subarray(lh * T * T, (lh + 1) * T * T);
        expect(a.headMax[lh]).toBeCloseTo(m.reduce((x, y) => Math.max(x, y), 0), 6);
        for (let si = 0; si < S; si++)
          for (let sj = 0; sj < S; sj++) {
            const [i0, i1, j0, j1] = [Math.floor((si * T) / S), Math.floor(((si + 1) * T) / S), Math.floor((sj * T) / S), Math.floor(((sj + 1) * T) / S)];
            let sum = 0;
            for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) sum += m[i * T + j];
            const mean = sum / ((i1 - i0) * (j1 - j0));
            expect(Math.abs((tb[(lh * S + si) * S + sj] / 255) * a.thumbnails.scale[lh] - mean)).toBeLessThanOrEqual(a.thumbnails.scale[lh] / 255 / 2 + 1e-6);
          }
      }
      const contacts = new Float32Array(bytes(a.contacts.base64).buffer);
      expect(a.contacts.shape).toEqual([T - 2, T - 2]);
      let cErr = 0;
      for (let i = 0; i < contacts.length; i++) cErr = Math.max(cErr, Math.abs(contacts[i] - ref.contacts[i]));
      expect(cErr).toBeLessThan(1e-5); // the same contact head, summed layer by layer
    }
    expect(await failure('attention', { model: MODEL, sequence: seq, layer: 2 })).toMatch(/layer 2: the model has 2 layers/);
  });

  it("returns a fine-tuned run's attention (its LoRA applied): different from the base model's", async () => {
    const seq = SEQS[1];
    const pair = async (layer: number) => [
      mapOf(await run<AttentionResult>('attention', { model: MODEL, sequence: seq, layer, head: 1 })),
      await run<AttentionResult>('attention', { run: 'lora-a', sequence: seq, layer, head: 1 }),
    ] as const;
    const [b0, t0] = await pair(0);
    const [b1, t1] = await pair(1);
    expect(t1.source).toMatchObject({ kind: 'run', run: 'lora-a', method: 'lora' });
    const diff = (x: Float32Array, y: Float32Array) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
    // layer 0 has no LoRA (top-k 1): the same; layer 1 is tuned: different
    const d0 = diff(b0, mapOf(t0));
    const d1 = diff(b1, mapOf(t1));
    expect(d0).toBeLessThan(0.01);
    expect(d1).toBeGreaterThan(d0);
    expect(await badRequest('attention', { sequence: seq })).toMatchObject({ field: 'model' });
  });
});

describe('export', () => {
  it('writes CSV, GFF3, FASTA, JSON and an annotated PDB from a prediction', async () => {
    const outDir = path.join(home, 'exports');
    const ubq = shared('fixtures', 'pdb', '1ubq.pdb');
    const seq = 'MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG';
    const p = await run<PredictResult>('predict', { run: 'lora-a', sequences: [{ id: 'ubq', sequence: seq }] });
    const r = await run<ExportResult>('export', { prediction: p.json, formats: ['csv', 'gff3', 'fasta', 'json', 'pdb'], outDir, name: 'ubq', structure: ubq });
    expect(r.files.map((f) => path.basename(f.path))).toEqual(['ubq.residues.csv', 'ubq.gff3', 'ubq.fasta', 'ubq.json', 'ubq.ubq.annotated.pdb']);
    for (const f of r.files) expect(readFileSync(f.path, 'utf8')).toBe(f.text);
    const csv = parseCsv(r.files[0].text!);
    expect(csv[0].slice(0, 6)).toEqual(['id', 'position', 'residue', 'ss8', 'ss3_from_ss8', 'ss3_argmax_p3']);
    // the view gets both SS3 rules; they agree where the argmax of p3 is the SS8 call's class
    const ss = p.sequences[0].ss!;
    expect(ss.ss3Argmax).toBe(csv.slice(1).map((row) => row[5]).join(''));
    for (let k = 0; k < seq.length; k++) expect(ss.ss3Argmax![k]).toBe('HEC'[[0, 1, 2].reduce((a, c) => (ss.p3[3 * k + c] > ss.p3[3 * k + a] ? c : a), 0)]);
    expect(csv).toHaveLength(seq.length + 1);
    const ss3 = p.sequences[0].ss!.ss3;
    const gff = r.files[1].text!.trim().split('\n');
    expect(gff[0]).toBe('## gff-version 3');
    const segments = ss3.match(/H+|E+/g) ?? [];
    expect(gff.length - 1).toBe(segments.length);
    expect(r.files[2].text).toContain(`>ubq.ss3 predicted 3-state`);
    expect(r.files[2].text).toContain(ss3.slice(0, 60));
    expect(JSON.parse(r.files[3].text!).sequences[0].id).toBe('ubq');
    expect(r.structureSummary).toMatch(/atoms of chain A updated/);
    expect(r.files[4].text).toMatch(/^ATOM/m);
    // the annotation names the run and the model it was trained on
    expect(r.files[4].text).toMatch(/^REMARK 950 {2}RUN: LoRA A +$/m);
    expect(r.files[4].text).toMatch(/^REMARK 950 {2}MODEL: esm2-tiny-random +$/m);
    expect(r.files[4].text).not.toMatch(/MODEL: \?/);
    expect(await badRequest('export', { prediction: p.json, formats: ['pdb'], outDir })).toMatchObject({ field: 'structure' });
  });
});

describe('runs.evaluation', () => {
  it('returns the per-class scores train kept, and says which runs have none', async () => {
    const r = await run<RunsEvaluationResult>('runs.evaluation', { ids: ['lora-a', 'ia3-r'] });
    expect(r.runs[0].evaluation?.classes).toEqual(trained.evaluation?.classes);
    expect(r.runs[1].evaluation?.task).toBe('ss');
    const none = await run<RunsEvaluationResult>('runs.evaluation', { ids: ['missing'] });
    expect(none.runs[0].missing).toMatch(/no eval/);
  });
});

describe('signal peptides', () => {
  it('trains an SP run, predicts regions, type probabilities and cleavage sites, and exports SignalP-style files', async () => {
    const text = readFileSync(shared('data', 'signalp6', 'small_dataset_10.partitions-0-1.fasta'), 'utf8');
    const recs = text.split('>').slice(1).map((r) => `>${r}`);
    const pick = (from: number, n: number) => recs.filter((_, i) => i % 7 === from % 7).slice(0, n).join('');
    const r = await run<TrainResult>('train', { model: MODEL, task: 'sp', method: 'probe', train: { text: pick(0, 10) }, val: { text: pick(3, 4) }, epochs: 1, batchSize: 5, id: 'sp-probe' });
    expect(r.best?.metric).toBe('mcc2');
    expect(r.evaluation?.task).toBe('sp');
    expect(await failure('predict', { run: 'sp-probe', sequences: SEQS })).toMatch(/kingdom/);
    const p = await run<PredictResult>('predict', { run: 'sp-probe', sequences: SEQS, kingdom: 'EUKARYA' });
    expect(p.task).toBe('signal-peptide');
    // the decoding has its own phase in the progress, counted per sequence
    const decoding = events.filter((e): e is { type: 'job.progress' } & JobProgress => e.type === 'job.progress' && e.kind === 'predict' && e.phase.startsWith('decoding'));
    expect(decoding.at(-1)).toMatchObject({ done: SEQS.length, total: SEQS.length });
    const sp = p.sequences[0].sp!;
    expect(sp.predictedResidues).toBe(70);
    expect(sp.regions).toHaveLength(70);
    expect(sp.regionProbs).toHaveLength(70 * sp.regionLetters.length);
    const sum = Object.values(sp.typeProbabilities).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 5);
    for (let k = 0; k < 70; k++) expect(sp.regionProbs.slice(k * sp.regionLetters.length, (k + 1) * sp.regionLetters.length).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    expect(p.sequences[1].sp!.predictedResidues).toBe(SEQS[1].sequence.length);
    const e = await run<ExportResult>('export', { prediction: p.json, formats: ['csv', 'gff3', 'fasta'], outDir: path.join(home, 'sp-out') });
    expect(e.files.map((f) => path.basename(f.path))).toEqual(['sp-probe.residues.csv', 'sp-probe.summary.csv', 'sp-probe.gff3', 'sp-probe.mature.fasta']);
    expect(e.files[1].text!.split('\n')[0]).toBe('id,kingdom,kingdom_source,prediction,p_NO_SP,p_SP,p_LIPO,p_TAT,p_TATLIPO,p_PILIN,cs_position,cs_probability,flags');
    // SignalP 6.0's plot: per-state curves that sum with the rest to 1, and the cleavage-site curve
    expect(sp.kingdomSource).toBe('chosen');
    expect(sp.csProbs).toHaveLength(70);
    expect(sp.regionCurves.length).toBeGreaterThan(0);
    for (const c of sp.regionCurves) expect(c.probs).toHaveLength(70);
    const s0 = sp.regionCurves.reduce((a, c) => a + c.probs[0], 0);
    expect(s0).toBeLessThanOrEqual(1 + 1e-3);
    if (sp.cleavageSite !== null) expect(sp.cleavageSiteProbability).toBeCloseTo(sp.csProbs[sp.cleavageSite - 1], 3);
  });
});
