// The signal-peptide head on the tiny fixture model (float64 verification graphs): its loss is
// the reference multi-tag NLL of the emissions and CRF parameters it packs into `probs`, a
// sequence gives the same NLL alone and inside a padded batch, every head tensor (emission
// layer, kingdom bias, transitions, start, end) gets gradients that match finite differences,
// and the label encoding carries tag sets, type, kingdom and cleavage site exactly.
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { type SignalPRecord, readSignalPFile } from '../../src-main/engine/data/signalp.js';
import { loadModel } from '../../src-main/engine/esm2/model.js';
import { createMethod } from '../../src-main/engine/peft/index.js';
import { negLogLikelihoodTagSets } from '../../src-main/engine/tasks/signal-peptide/crf-reference.js';
import { crfParamsOf, decodeSp, emissionsOf } from '../../src-main/engine/tasks/signal-peptide/decode.js';
import { spHead } from '../../src-main/engine/tasks/signal-peptide/head.js';
import {
  SP_MAX_LENGTH,
  allowedStates,
  cleavageSiteOfLabels,
  kingdomOf,
  kingdomOnlyLabels,
  spLabelled,
  typeOf,
} from '../../src-main/engine/tasks/signal-peptide/labels.js';
import { NUM_REGION_STATES, deriveRegions, trainingTagSets } from '../../src-main/engine/tasks/signal-peptide/regions.js';
import { spTask } from '../../src-main/engine/tasks/signal-peptide/task.js';
import { Predictor, taskFor } from '../../src-main/engine/train/predictor.js';
import { buildTaskGraph } from '../../src-main/engine/train/task-graph.js';
import { rng } from '../helpers/gradcheck.js';
import { fixtureModel, shared } from '../helpers/paths.js';

ort.env.logLevel = 'fatal';
const model = await loadModel(fixtureModel('tiny'));
let records: SignalPRecord[];

beforeAll(async () => {
  records = (await readSignalPFile(shared('data', 'signalp6', 'small_dataset_10.partitions-0-1.fasta'), { strict: true })).records;
});

/** One record of each type present (first of each), cut to n residues. */
function pickRecords(n: number): SignalPRecord[] {
  const out: SignalPRecord[] = [];
  for (const t of ['NO_SP', 'SP', 'LIPO', 'TAT', 'PILIN'] as const) {
    const r = records.find((x) => x.type === t);
    if (r) out.push({ ...r, sequence: r.sequence.slice(0, n), labels: r.labels!.slice(0, n) });
  }
  return out;
}

async function float64Session(kingdom: boolean, training: boolean) {
  const method = createMethod('probe', model.config, {}, model.source, []);
  const head = spHead(model.config.hiddenSize, { kingdom });
  const tg = buildTaskGraph(model, method, head, { training, precision: 'float64' });
  const s = await ort.InferenceSession.create(tg.model);
  const r = rng(3);
  const values = new Map(tg.params.map((p) => [p.name, Float64Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, () => 0.5 * (2 * r() - 1))]));
  const run = (seqs: { sequence: string; labels: Int32Array }[], vals = values) => {
    const enc = model.tokenizer.encodeBatch(seqs.map((q) => q.sequence), 'int64');
    return s.run({
      tokens: new ort.Tensor('int64', enc.ids, [seqs.length, enc.maxLen]),
      ...head.labelFeeds({ labels: seqs.map((q) => q.labels) }, enc.maxLen, 'float64'),
      ...Object.fromEntries(tg.params.map((p) => [`param.${p.name}`, new ort.Tensor('float64', vals.get(p.name)!, p.shape)])),
    });
  };
  return { tg, run, values };
}

describe('signal-peptide labels', () => {
  it('encode the training tag sets, type, kingdom and cleavage site of every record', () => {
    const { items, inexact } = spLabelled(records);
    expect(items).toHaveLength(records.length);
    expect(inexact).toBeGreaterThan(0); // the shared file has pilins without an allowed path through their tags
    items.forEach((it, i) => {
      const rec = records[i];
      const { tags } = trainingTagSets(deriveRegions(rec));
      for (let k = 0; k < it.labels.length; k++) {
        const want = [...Array(NUM_REGION_STATES).keys()].filter((s) => tags[k * NUM_REGION_STATES + s]);
        expect(allowedStates(it.labels[k])).toEqual(want);
      }
      expect(typeOf(it.labels)).toBe(rec.type);
      expect(kingdomOf(it.labels)).toBe(rec.kingdom);
      expect(cleavageSiteOfLabels(it.labels)).toBe(rec.cleavageSite);
      expect(it.cleavageSite).toBe(rec.cleavageSite);
    });
  });

  it('cut sequences longer than 70 residues with a note, and keep unlabelled records unscored', () => {
    const long = { ...records[0], id: 'LONG', sequence: records[0].sequence + 'ACDEFGHIKL', labels: records[0].labels + records[0].labels!.slice(-10) };
    const r = spLabelled([long, { ...records[1], id: 'NOLAB', labels: null }]);
    expect(r.items[0].sequence).toHaveLength(SP_MAX_LENGTH);
    expect(r.items[0].originalLength).toBe(80);
    expect(r.notes.some((n) => n.kind === 'changed' && /cut from 80 to the first 70/.test(n.message))).toBe(true);
    expect(r.items[1].labels.every((v) => allowedStates(v) === null)).toBe(true);
    expect(kingdomOf(r.items[1].labels)).toBe(records[1].kingdom);
    expect(kingdomOf(kingdomOnlyLabels(5, null))).toBeNull();
  });
});

describe('signal-peptide head in a float64 graph', () => {
  it('has the loss of the reference multi-tag NLL of its emissions and CRF tensors (1e-9)', async () => {
    const { run, values } = await float64Session(true, false);
    const params = crfParamsOf(values);
    const seqs = spLabelled(pickRecords(24)).items;
    expect(seqs.length).toBeGreaterThanOrEqual(4);
    const out = await run(seqs);
    const [B, T, W] = out.probs.dims as number[];
    expect(W).toBe(NUM_REGION_STATES);
    const probs = out.probs.data as Float64Array;
    let total = 0;
    seqs.forEach((s, b) => {
      const n = s.sequence.length;
      const emissions = emissionsOf(probs.subarray(b * T * W, (b * T + n + 2) * W), n);
      const tags = new Uint8Array(n * NUM_REGION_STATES);
      for (let i = 0; i < n; i++) for (const st of allowedStates(s.labels[i])!) tags[i * NUM_REGION_STATES + st] = 1;
      total += negLogLikelihoodTagSets(emissions, params, tags);
    });
    expect(B).toBe(seqs.length);
    const want = total / seqs.length;
    expect(Math.abs(Number(out.loss.data[0]) - want)).toBeLessThanOrEqual(1e-9 * Math.max(1, want));
  });

  it('gives a sequence the same NLL alone as inside a padded batch', async () => {
    const { run } = await float64Session(true, false);
    const all = spLabelled(pickRecords(30)).items;
    const short = { ...all[1], sequence: all[1].sequence.slice(0, 9), labels: all[1].labels.slice(0, 9) };
    const alone = Number((await run([short])).loss.data[0]);
    const other = Number((await run([all[0]])).loss.data[0]);
    const together = Number((await run([all[0], short])).loss.data[0]);
    expect(Math.abs(together - (alone + other) / 2)).toBeLessThanOrEqual(1e-9 * Math.max(1, together));
  });

  it('trains every head tensor: gradients match central finite differences', async () => {
    const { tg, run, values } = await float64Session(true, true);
    const evalGraph = await float64Session(true, false); // same parameter values (same seed), no backward pass
    const seqs = spLabelled(pickRecords(12)).items.slice(0, 3);
    const base = await run(seqs);
    expect(Number((await evalGraph.run(seqs)).loss.data[0])).toBe(Number(base.loss.data[0]));
    const r = rng(8);
    const h = 1e-5;
    let worst = 0;
    let where = '';
    const names = tg.params.map((p) => p.name);
    expect(names).toEqual(['head.weight', 'head.bias', 'head.kingdom', 'head.crf.transitions', 'head.crf.start', 'head.crf.end']);
    for (const p of tg.params) {
      const v = values.get(p.name)!;
      const grad = base[`grad.${p.name}`].data as Float64Array;
      expect(grad.some((x) => x !== 0), `${p.name} gets a gradient`).toBe(true);
      for (let k = 0; k < 5; k++) {
        // prefer entries with a gradient, so the check is not trivially 0 = 0
        let j = Math.floor(r() * v.length);
        for (let tries = 0; tries < 50 && grad[j] === 0; tries++) j = Math.floor(r() * v.length);
        const at = async (d: number) => {
          const vals = new Map(values);
          vals.set(p.name, Float64Array.from(v, (x, i) => (i === j ? x + d : x)));
          return Number((await evalGraph.run(seqs, vals)).loss.data[0]);
        };
        const fd = ((await at(h)) - (await at(-h))) / (2 * h);
        const err = Math.abs(grad[j] - fd) / (1e-8 + 1e-5 * Math.max(Math.abs(fd), Math.abs(grad[j])));
        if (err > worst) [worst, where] = [err, `${p.name}[${j}]: analytic ${grad[j]}, finite difference ${fd}`];
      }
    }
    expect(worst, where).toBeLessThanOrEqual(1);
  });
});

describe('signal-peptide prediction path', () => {
  it('decodes with crf-reference.ts: probabilities sum to 1, CS only with a signal peptide, eukaryotes folded', async () => {
    const method = createMethod('probe', model.config, {}, model.source, []);
    const head = spHead(model.config.hiddenSize);
    const r = rng(11);
    const params = new Map(head.params.map((p) => {
      const n = p.shape.reduce((a, b) => a * b, 1);
      return [p.name, { shape: p.shape, data: Float32Array.from({ length: n }, () => 0.5 * (2 * r() - 1)) }];
    }));
    const pr = await Predictor.create(model, method, head, params, { providers: ['cpu'] });
    try {
      const seqs = pickRecords(70).map((x) => x.sequence).concat(['MKKLLPTAAAGLLLLAAQPAMA' + 'ACDEFGHIKLMNPQRSTVWY'.repeat(3)]);
      const kingdoms = seqs.map((_, i) => (i % 2 ? 'EUKARYA' : 'NEGATIVE') as 'EUKARYA' | 'NEGATIVE');
      const dec = await pr.predictSp(seqs, kingdoms);
      dec.forEach((d, i) => {
        expect(d.length).toBe(Math.min(70, seqs[i].length));
        expect(Array.from(d.typeProbs).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
        if (kingdoms[i] === 'EUKARYA') expect(Array.from(d.typeProbs.slice(2))).toEqual([0, 0, 0, 0]);
        if (d.type === 'NO_SP') expect(d.cleavageSite).toBeNull();
        for (let k = 0; k < d.length; k++) {
          let s = 0;
          for (let j = 0; j < NUM_REGION_STATES; j++) s += d.marginals[k * NUM_REGION_STATES + j];
          expect(s).toBeCloseTo(1, 9);
        }
      });
      // the same rows decoded directly give the same answer (one code path)
      const rows = await pr.predict([seqs[0]], 16, [kingdomOnlyLabels(seqs[0].length, 'NEGATIVE')]);
      const crf = crfParamsOf(new Map([...params].map(([k, t]) => [k, t.data])));
      expect(decodeSp(rows[0], seqs[0].length, 'NEGATIVE', crf).letters).toBe(dec[0].letters);
    } finally {
      await pr.release();
    }
  });

  it('is what taskFor builds from a run record', () => {
    expect(taskFor('sp').name).toBe('sp');
    expect(taskFor('sp-nokingdom').head(model.config).params.map((p) => p.name)).not.toContain('head.kingdom');
    expect(spTask().selectMetric).toBe('mcc2');
    expect(taskFor('ss-ss8-cnn', { kernel: 5, channels: 16 }).head(model.config).options).toMatchObject({ kernel: 5, channels: 16 });
    expect(() => taskFor('sp-bogus')).toThrow(/unknown task/);
  });
});
