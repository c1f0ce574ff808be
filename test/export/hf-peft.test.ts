// Export to the Hugging Face PEFT layout for every method that has one (LoRA, DoRA, IA3, prompt
// tuning) with every head (linear SS, CNN SS, signal-peptide CRF): each exported
// adapter_config.json passes the field check of PEFT 0.7.1, 0.10.0 and 0.14.0 (DoRA: 0.10.0
// on), the files hold PEFT's names (the head as PEFT's classifier), and importing the export as a
// run gives bit-identical predictions. The PEFT fixtures, imported and exported again, read back
// bit for bit too and give configs that pass the same check.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SS8_TO_SS3 } from '../../src-main/engine/data/labels-ss.js';
import { loadModel } from '../../src-main/engine/esm2/model.js';
import { readSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { PEFT_FIELDS } from '../../src-main/engine/export/peft-config.js';
import { exportPeft } from '../../src-main/engine/export/hf-peft.js';
import { importPeftAdapter } from '../../src-main/engine/export/peft-import.js';
import { importPeftRun } from '../../src-main/engine/runs/import-peft.js';
import { spLabelled } from '../../src-main/engine/tasks/signal-peptide/labels.js';
import { spTask } from '../../src-main/engine/tasks/signal-peptide/task.js';
import { ssTask } from '../../src-main/engine/tasks/secondary-structure/task.js';
import { Predictor, openRun } from '../../src-main/engine/train/predictor.js';
import { type LabelledSequence, TRAINER_DEFAULTS, train } from '../../src-main/engine/train/trainer.js';
import type { TaskSpec } from '../../src-main/engine/train/task.js';
import { fixtureModel } from '../helpers/paths.js';
import { ssSubset } from '../helpers/ss-data.js';
import { PEFT_FIXTURES, peftFixture } from '../peft/helpers.js';
import { signalpSplit } from '../tasks/helpers/task-files.js';
import { CLASS_OF, FIELDS, RELEASES, type Release, configProblems } from './peft-config-check.js';

const MODEL = fixtureModel('tiny');
let tmp: string;
let ss: { train: LabelledSequence[]; val: LabelledSequence[] };
let ss3: typeof ss;
let sp: { train: LabelledSequence[]; val: LabelledSequence[] };
const exported: { name: string; config: Record<string, unknown> }[] = [];

interface Case {
  name: string;
  method: string;
  options: Record<string, unknown>;
  task: () => TaskSpec;
  data: () => typeof ss;
}
const CASES: Case[] = [
  { name: 'lora-qv-ss8', method: 'lora', options: { r: 4, alpha: 8, dropout: 0.1, targets: ['query', 'value'] }, task: () => ssTask('ss8'), data: () => ss },
  { name: 'lora-out-top1-ss3', method: 'lora', options: { r: 2, alpha: 4, targets: ['attn_out', 'ffn_out'], topK: 1 }, task: () => ssTask('ss3'), data: () => ss3 },
  { name: 'lora-ffnout-top1', method: 'lora', options: { r: 2, alpha: 2, targets: ['ffn_out'], topK: 1 }, task: () => ssTask('ss8'), data: () => ss },
  { name: 'dora-qv', method: 'dora', options: { r: 2, alpha: 4, targets: ['query', 'value'] }, task: () => ssTask('ss8'), data: () => ss },
  { name: 'ia3-all', method: 'ia3', options: {}, task: () => ssTask('ss8'), data: () => ss },
  { name: 'ia3-top1', method: 'ia3', options: { topK: 1, targets: ['key', 'ffn'] }, task: () => ssTask('ss8'), data: () => ss },
  { name: 'prompt', method: 'prompt', options: { tokens: 3 }, task: () => ssTask('ss8'), data: () => ss },
  { name: 'lora-cnn', method: 'lora', options: { r: 2, targets: ['query'] }, task: () => ssTask('ss8', { head: 'cnn', channels: 8, kernel: 3 }), data: () => ss },
  { name: 'lora-sp', method: 'lora', options: { r: 2, targets: ['query', 'value'] }, task: () => spTask(), data: () => sp },
  { name: 'prompt-sp', method: 'prompt', options: { tokens: 2 }, task: () => spTask({ kingdom: false }), data: () => sp },
];

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'plmw-hf-peft-'));
  ss = { train: await ssSubset('CB433.txt', 8), val: await ssSubset('CASP12.txt', 3, 120) };
  const to3 = (x: LabelledSequence[]) => x.map((s) => ({ ...s, labels: s.labels.map((c) => (c < 0 ? -1 : SS8_TO_SS3[c])) }));
  ss3 = { train: to3(ss.train), val: to3(ss.val) };
  const split = await signalpSplit();
  sp = { train: spLabelled(split.train.slice(0, 8)).items, val: spLabelled(split.test.slice(0, 3)).items };
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The same predictions, bit for bit, from two runs. */
async function samePredictions(a: string, b: string, seqs: readonly LabelledSequence[]) {
  const ra = await openRun(a);
  const rb = await openRun(b);
  const pa = await Predictor.create(ra.model, ra.method, ra.head, ra.params, { providers: ['cpu'], threads: 1 });
  const pb = await Predictor.create(rb.model, rb.method, rb.head, rb.params, { providers: ['cpu'], threads: 1 });
  try {
    const xa = await pa.predict(seqs.map((s) => s.sequence));
    const xb = await pb.predict(seqs.map((s) => s.sequence));
    xa.forEach((x, i) => expect(Buffer.from(xb[i].buffer).equals(Buffer.from(x.buffer)), `sequence ${i}`).toBe(true));
    if (ra.head.name === 'crf') {
      const k = seqs.map(() => 'EUKARYA' as const);
      expect(await pb.predictSp(seqs.map((s) => s.sequence), k)).toEqual(await pa.predictSp(seqs.map((s) => s.sequence), k));
    }
  } finally {
    await Promise.all([pa.release(), pb.release()]);
  }
}

describe('export to Hugging Face PEFT, and back', () => {
  it.each(CASES)('$name: PEFT names, a config PEFT loads, bit-identical predictions after import', async (c) => {
    const runDir = path.join(tmp, c.name);
    const task = c.task();
    const rec = await train(runDir, { ...TRAINER_DEFAULTS, model: MODEL, task: task.name, method: c.method, methodOptions: c.options, epochs: 1, batchSize: 8, lr: 2e-2, providers: ['cpu'], threads: 1 }, task, c.data());
    expect(rec.adapter).toEqual({ exported: true, dir: 'adapter' });
    const adapter = path.join(runDir, 'adapter');
    const config = JSON.parse(readFileSync(path.join(adapter, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    exported.push({ name: c.name, config });
    const names = [...readSafetensors(path.join(adapter, 'adapter_model.safetensors')).tensors.keys()];
    const head = readSafetensors(path.join(adapter, 'head.safetensors'));
    expect(head.metadata.task).toBe(task.name);
    expect(readdirSync(adapter).sort()).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors', 'head.safetensors']);
    const readme = readFileSync(path.join(adapter, 'README.md'), 'utf8');
    expect(readme).toMatch(new RegExp(`Loads with Hugging Face PEFT ${c.method === 'dora' ? '0\\.10\\.0' : '0\\.7\\.1'} and later`));
    if (rec.head.name === 'cnn') {
      expect(config.task_type).toBe('FEATURE_EXTRACTION');
      expect(names.some((n) => n.includes('classifier'))).toBe(false);
      expect([...head.tensors.keys()].sort()).toEqual(['head.bias', 'head.conv.bias', 'head.conv.weight', 'head.weight']);
      expect(names.every((n) => n.startsWith('base_model.model.encoder.layer.'))).toBe(true);
      expect(readme).toMatch(/CNN head: zero the <cls>/);
    } else {
      expect(config).toMatchObject({ task_type: 'TOKEN_CLS' });
      if (c.method !== 'prompt') expect(config.modules_to_save).toEqual(['classifier']);
      const pre = c.method === 'prompt' ? 'base_model.' : 'base_model.model.';
      expect(names).toContain(`${pre}classifier.weight`);
      expect(names).toContain(`${pre}classifier.bias`);
      expect([...head.tensors.keys()].sort()).toEqual(rec.head.name === 'crf' ? [...(rec.head.kingdom ? ['head.kingdom'] : []), 'head.crf.end', 'head.crf.start', 'head.crf.transitions'].sort() : []);
      if (rec.head.name === 'crf') expect(readme).toMatch(/head\.kingdom \[4, 37\]|head\.crf\.transitions/);
    }
    if (c.method !== 'dora') expect(config).not.toHaveProperty('use_dora');
    expect(config).not.toHaveProperty('use_rslora');
    if (c.method === 'ia3') expect(config).not.toHaveProperty('layers_to_transform');
    if (typeof config.target_modules === 'string') expect(config).not.toHaveProperty('layers_to_transform');
    if (c.name === 'lora-out-top1-ss3') expect(config).toMatchObject({ target_modules: ['attention.output.dense', 'output.dense'], layers_to_transform: [1], layers_pattern: 'layer' });
    if (c.name === 'lora-ffnout-top1') expect(config).toMatchObject({ target_modules: ['encoder.layer.1.output.dense'] });
    if (c.name === 'ia3-all') expect(config.feedforward_modules).toEqual(['encoder.layer.0.output.dense', 'encoder.layer.1.output.dense']);

    // back as a run: the same task (recorded in head.safetensors), method and predictions
    const imported = await importPeftRun(adapter, { root: path.join(tmp, 'runs'), home: tmp, model: MODEL, name: c.name });
    expect(imported.record.task).toBe(task.name);
    expect(imported.record.method.name).toBe(c.method);
    expect(imported.record.head).toEqual(rec.head);
    await samePredictions(runDir, imported.dir, c.data().val);
  });

  it('the PEFT fixtures, imported and exported again, read back bit for bit (the exporter checks it) with a config per release', async () => {
    const model = await loadModel(MODEL);
    for (const name of PEFT_FIXTURES) {
      const a = importPeftAdapter(peftFixture(name), model);
      const r = await exportPeft(path.join(tmp, 'again', name), { method: a.method, head: a.head, task: a.head ? 'token-cls' : 'backbone', config: model.config, baseModel: 'esm2-tiny-random', params: a.params });
      expect(r.minimumPeft).toBe(name === 'lora-dora-tokencls' ? '0.10.0' : '0.7.1');
      exported.push({ name: `fixture ${name}`, config: r.adapterConfig });
      const back = importPeftAdapter(path.join(tmp, 'again', name), model);
      expect(back.method).toEqual(a.method);
      for (const [k, t] of a.params) expect(back.params.get(k)!.data, k).toEqual(t.data);
    }
  });

  it('every exported adapter_config.json passes the field check of PEFT 0.7.1, 0.10.0 and 0.14.0 (DoRA: 0.10.0 on)', () => {
    expect(exported.length).toBe(CASES.length + PEFT_FIXTURES.length);
    for (const { name, config } of exported) {
      const from: Release = config.use_dora === true || config.use_rslora === true ? '0.10.0' : '0.7.1';
      for (const release of RELEASES) {
        const problems = configProblems(config, release);
        if (RELEASES.indexOf(release) >= RELEASES.indexOf(from)) expect(problems, `${name} on PEFT ${release}`).toEqual([]);
        else expect(problems, `${name} on PEFT ${release}`).toEqual(['use_dora: not a field of 0.7.1 LoraConfig']);
      }
    }
    // and the check can fail: the old exporter's configs did
    expect(configProblems({ peft_type: 'IA3', target_modules: '.*', feedforward_modules: [], layers_to_transform: [1] }, '0.10.0')).toEqual(['layers_to_transform: not a field of 0.10.0 IA3Config', 'regex target_modules with layers_to_transform/layers_pattern']);
    expect(configProblems({ peft_type: 'LORA', r: 4, target_modules: ['query'], use_dora: false }, '0.7.1')).toEqual(['use_dora: not a field of 0.7.1 LoraConfig']);
  });

  it("the importer knows every field of every release's config classes, and no other", () => {
    for (const [type, cls] of Object.entries(CLASS_OF)) {
      const union = new Set(RELEASES.flatMap((r) => FIELDS.versions[r].classes[cls].field_names));
      expect(new Set(PEFT_FIELDS[type as keyof typeof PEFT_FIELDS]), cls).toEqual(union);
    }
  });
});
