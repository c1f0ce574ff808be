// What the importer refuses, and how it says so: every refusal names the file and the key (or
// tensor) and the value, and reading adapter_config.json only ever fails with an InputError.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src-main/engine/data/errors.js';
import { type LoadedModel, loadModel } from '../../src-main/engine/esm2/model.js';
import { PEFT_FIELDS, parsePeftConfig } from '../../src-main/engine/export/peft-config.js';
import { importPeftAdapter } from '../../src-main/engine/export/peft-import.js';
import { importPeftRun } from '../../src-main/engine/runs/import-peft.js';
import { writeSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { rng } from '../helpers/gradcheck.js';
import { REPO, fixtureModel } from '../helpers/paths.js';
import { type PeftFixture, peftFixture, variantOf } from './helpers.js';

let tmp: string;
let tiny: LoadedModel;
let n = 0;
beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'plmw-peft-refusals-'));
  tiny = await loadModel(fixtureModel('tiny'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The InputError importing a changed copy of a fixture onto a model gives. */
async function refusal(base: PeftFixture, change: (c: Record<string, unknown>) => void, o: { tensors?: Parameters<typeof variantOf>[3]; model?: LoadedModel } = {}): Promise<InputError> {
  const dir = await variantOf(base, path.join(tmp, `v${n++}`), change, o.tensors);
  try {
    importPeftAdapter(dir, o.model ?? tiny);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).loc.file.startsWith(dir)).toBe(true);
    return e as InputError;
  }
  throw new Error('expected the import to be refused');
}

describe('refusals, each naming the key and the value', () => {
  it('an unknown peft_type', async () => {
    const e = await refusal('lora-qv-tokencls', (c) => (c.peft_type = 'LOHA'));
    expect(e.message).toMatch(/adapter_config\.json: key 'peft_type': "LOHA" is not supported: this workbench imports LORA, IA3, PROMPT_TUNING/);
    expect((await refusal('lora-qv-tokencls', (c) => delete c.peft_type)).message).toMatch(/key 'peft_type': missing/);
  });

  it('a target module that matches nothing in ESM-2', async () => {
    const e = await refusal('lora-qv-tokencls', (c) => (c.target_modules = ['q_proj', 'v_proj']));
    expect(e.message).toMatch(/key 'target_modules': \["q_proj","v_proj"\] matches no module of EsmForTokenClassification \(its Linear layers: attention\.self\.query, /);
    const r = await refusal('lora-layers0-tokencls', (c) => (c.layers_to_transform = [7]));
    expect(r.message).toMatch(/key 'target_modules': \["key","query"\] with layers_to_transform \[7\] matches no module/);
    // a module that exists but is not a Linear layer of the blocks
    expect((await refusal('lora-qv-tokencls', (c) => (c.target_modules = ['query', 'LayerNorm']))).message).toMatch(/key 'target_modules': \["query","LayerNorm"\] selects esm\.encoder\.layer\.0\.attention\.LayerNorm, which is not a Linear layer/);
    expect((await refusal('lora-qv-tokencls', (c) => (c.target_modules = ['query', 'regression']))).message).toMatch(/selects esm\.contact_head\.regression, which is not a Linear layer of the encoder blocks/);
  });

  it('a rank that does not fit the tensors', async () => {
    const e = await refusal('lora-qv-tokencls', (c) => (c.r = 8));
    expect(e.message).toMatch(/adapter_model\.safetensors: tensor 'base_model\.model\.esm\.encoder\.layer\.0\.attention\.self\.query\.lora_A\.weight': shape \[4, 64\]: a rank that does not fit: 4 rows, but r = 8 for esm\.encoder\.layer\.0\.attention\.self\.query \(adapter_config\.json r\)/);
    const p = await refusal('lora-qv-tokencls', (c) => (c.rank_pattern = { 'layer.1.attention.self.value': 2 }));
    expect(p.message).toMatch(/tensor 'base_model\.model\.esm\.encoder\.layer\.1\.attention\.self\.value\.lora_A\.weight': shape \[4, 64\]: a rank that does not fit: 4 rows, but r = 2 for .* \(rank_pattern "layer\.1\.attention\.self\.value"\)/);
  });

  it('a base model the adapter does not fit', async () => {
    const small = await loadModel(fixtureModel('small'));
    const e = await refusal('lora-qv-tokencls', () => undefined, { model: small });
    expect(e.message).toMatch(/tensor 'base_model\.model\.esm\.encoder\.layer\.0\.attention\.self\.query\.lora_A\.weight': shape \[4, 64\]: base model mismatch: esm\.encoder\.layer\.0\.attention\.self\.query of esm2-small-random has 128 input features, the tensor 64/);
    expect((await refusal('prompt-tokencls', () => undefined, { model: small })).message).toMatch(/key 'token_dim': 64, but esm2-small-random has 128 hidden size: base model mismatch/);
    expect((await refusal('ia3-tokencls', () => undefined, { model: small })).message).toMatch(/ia3_l': shape \[64, 1\]: base model mismatch/);
    // through the run importer, with the model chosen by path
    await expect(importPeftRun(peftFixture('lora-dora-tokencls'), { root: path.join(tmp, 'runs'), home: tmp, model: fixtureModel('small') })).rejects.toThrow(/base model mismatch/);
    // and without --model when the named base is not installed
    await expect(importPeftRun(peftFixture('lora-qv-tokencls'), { root: path.join(tmp, 'runs'), home: tmp })).rejects.toThrow(/key 'base_model_name_or_path': "esm2-tiny-random" is not an installed model; choose the base model \(--model\)/);
  });

  it('combinations and settings PEFT itself refuses or this engine cannot represent', async () => {
    const cases: [PeftFixture, (c: Record<string, unknown>) => void, RegExp][] = [
      ['lora-layers0-tokencls', (c) => (c.target_modules = '.*query'), /key 'layers_to_transform': \[0\] together with a regex target_modules: PEFT refuses this combination/],
      ['lora-qv-tokencls', (c) => (c.target_modules = 'all-linear'), /key 'target_modules': "all-linear" is a shorthand PEFT expands/],
      ['lora-qv-tokencls', (c) => (c.init_lora_weights = 'pissa'), /key 'init_lora_weights': "pissa" rewrites the base model's weights/],
      ['lora-qv-tokencls', (c) => (c.layer_replication = [[0, 2]]), /key 'layer_replication': \[\[0,2\]\]: duplicated layers/],
      ['lora-qv-tokencls', (c) => (c.task_type = 'SEQ_CLS'), /key 'task_type': "SEQ_CLS" is not a per-residue task/],
      ['lora-qv-tokencls', (c) => (c.use_qalora = true), /key 'use_qalora': true is not a field of PEFT 0\.7\.1-0\.14 LoraConfig/],
      ['lora-qv-tokencls', (c) => (c.lora_alpha = '8'), /key 'lora_alpha': expected a number, got "8"/],
      ['lora-qv-tokencls', (c) => (c.bias = 'some'), /key 'bias': expected "none", "all" or "lora_only", got "some"/],
      ['lora-qv-tokencls', (c) => (c.target_modules = '(?i)QUERY'), /key 'target_modules': "\(\?i\)QUERY" uses inline flags/],
      ['lora-qv-tokencls', (c) => (c.rank_pattern = { query: 4 }) && (c.alpha_pattern = { 'layer.0.attention.self.query': 2 }), /PEFT releases disagree on its rank\/alpha \(0\.14: r=4 alpha=2; 0\.7-0\.10: r=4 alpha=8\)/],
      ['ia3-tokencls', (c) => (c.feedforward_modules = null), /key 'feedforward_modules': null: PEFT then takes them from its table of model types/],
      ['prompt-tokencls', (c) => (c.num_transformer_submodules = 2), /key 'num_transformer_submodules': 2: prompts for 2 transformer stacks/],
      ['ia3-tokencls', (c) => (c.target_modules = ['key', 'value', 'output.dense', 'word_embeddings']), /selects esm\.embeddings\.word_embeddings, which is not a Linear layer/],
    ];
    for (const [base, change, re] of cases) expect((await refusal(base, change)).message).toMatch(re);
  });

  it('tensors it cannot place, and a file that is not an adapter', async () => {
    const extra = await refusal('lora-qv-tokencls', () => undefined, { tensors: (t) => (t['base_model.model.esm.encoder.layer.0.attention.self.key.lora_A.weight'] = { shape: [4, 64], data: new Float32Array(256) }) });
    expect(extra.message).toMatch(/tensor 'base_model\.model\.esm\.encoder\.layer\.0\.attention\.self\.key\.lora_A\.weight': not a tensor of this LORA adapter/);
    const deep = await refusal('lora-qv-tokencls', () => undefined, { tensors: (t) => (t['base_model.model.esm.encoder.layer.5.attention.self.query.lora_A.weight'] = { shape: [4, 64], data: new Float32Array(256) }) });
    expect(deep.message).toMatch(/names block 5, but esm2-tiny-random has 2 blocks: base model mismatch/);
    const gone = await refusal('lora-qv-tokencls', () => undefined, { tensors: (t) => delete t['base_model.model.esm.encoder.layer.1.attention.self.value.lora_B.weight'] });
    expect(gone.message).toMatch(/layer\.1\.attention\.self\.value\.lora_B\.weight': missing \(LoRA B\); PEFT would start it from random values/);
    const nan = await refusal('lora-qv-tokencls', () => undefined, { tensors: (t) => (t['base_model.model.classifier.bias'].data[1] = Number.NaN) });
    expect(nan.message).toMatch(/tensor 'base_model\.model\.classifier\.bias': value #1 is NaN/);

    const bin = await variantOf('lora-qv-tokencls', path.join(tmp, 'bin'), () => undefined);
    renameSync(path.join(bin, 'adapter_model.safetensors'), path.join(bin, 'adapter_model.bin'));
    expect(() => importPeftAdapter(bin, tiny)).toThrow(/only adapter_model\.bin \(a PyTorch pickle, which can run code when read\) is here/);
    const bad = await variantOf('lora-qv-tokencls', path.join(tmp, 'badjson'), () => undefined);
    writeFileSync(path.join(bad, 'adapter_config.json'), '{\n  "peft_type": "LORA",\n  "r": 4,,\n}');
    expect(() => importPeftAdapter(bad, tiny)).toThrow(/adapter_config\.json:3:\d+: not valid JSON/);
    expect(() => importPeftAdapter(tmp, tiny)).toThrow(/no adapter_config\.json: not a Hugging Face PEFT adapter folder/);
  });

  it('a head.safetensors recording a task this version does not know', async () => {
    const dir = await variantOf('lora-qv-tokencls', path.join(tmp, 'head-task'), () => undefined);
    await writeSafetensors(path.join(dir, 'head.safetensors'), {}, { task: 'ss-ss5', head: JSON.stringify({ name: 'linear', classes: 3 }) });
    await expect(importPeftRun(dir, { root: path.join(tmp, 'runs'), home: tmp, model: fixtureModel('tiny') })).rejects.toThrow(/head\.safetensors: task "ss-ss5" with head \{"name":"linear","classes":3\}: unknown task 'ss-ss5'/);
  });

  it('accepts, with a note, what changes nothing: neutral keys of later releases, a TOKEN_CLS adapter saved without its classifier', async () => {
    const dir = await variantOf('lora-qv-tokencls', path.join(tmp, 'later'), (c) => Object.assign(c, { target_parameters: null, use_qalora: false, trainable_token_indices: null }));
    const a = importPeftAdapter(dir, tiny);
    expect(a.notes.join('\n')).toMatch(/target_parameters = null: not a field of PEFT 0\.7\.1-0\.14 LoraConfig; read as switched off/);
    const headless = await variantOf('lora-qv-tokencls', path.join(tmp, 'headless'), () => undefined, (t) => {
      delete t['base_model.model.classifier.weight'];
      delete t['base_model.model.classifier.bias'];
    });
    const h = importPeftAdapter(headless, tiny);
    expect(h.head).toBeNull();
    expect(h.notes.join('\n')).toMatch(/TOKEN_CLS adapter without a saved classifier: .*imported as a backbone without a head/);
  });

  it('reading adapter_config.json fails only with an InputError that names the file and the key', () => {
    const r = rng(5);
    const values: unknown[] = [null, true, false, 0, -1, 2.5, 1e309, '', 'x', '.*', '(', [], [1], ['a', 2], {}, { a: 1 }, { a: '1' }];
    const base = { peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['query'] };
    let accepted = 0;
    for (const type of ['LORA', 'IA3', 'PROMPT_TUNING'] as const) {
      for (const key of PEFT_FIELDS[type]) {
        for (let k = 0; k < 6; k++) {
          const c: Record<string, unknown> = type === 'LORA' ? { ...base } : type === 'IA3' ? { peft_type: 'IA3', target_modules: ['key'], feedforward_modules: [] } : { peft_type: 'PROMPT_TUNING', num_virtual_tokens: 2 };
          c[key] = values[Math.floor(r() * values.length)];
          try {
            parsePeftConfig(JSON.stringify(c), '/x/adapter_config.json');
            accepted++;
          } catch (e) {
            expect(e, `${type}.${key} = ${JSON.stringify(c[key])}`).toBeInstanceOf(InputError);
            expect((e as InputError).loc.file).toBe('/x/adapter_config.json');
            expect((e as InputError).reason).toMatch(/^key '|^expected a JSON object/);
          }
        }
      }
    }
    expect(accepted).toBeGreaterThan(20);
    for (const text of ['', '[]', 'null', '"LORA"', '{"peft_type": 3}', '{"peft_type": "LORA", "r": 4', '\u0000']) {
      expect(() => parsePeftConfig(text, '/x/adapter_config.json')).toThrow(InputError);
    }
  });

  it('the CLI prints the refusal and exits with status 1', async () => {
    const dir = await variantOf('lora-qv-tokencls', path.join(tmp, 'cli'), (c) => (c.peft_type = 'LOHA'));
    const p = spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', 'runs', 'import-peft', dir, '--model', fixtureModel('tiny'), '--root', path.join(tmp, 'cli-runs')], { cwd: REPO, encoding: 'utf8' });
    expect(p.status).toBe(1);
    expect(p.stderr).toMatch(/^plmw runs: .*adapter_config\.json: key 'peft_type': "LOHA" is not supported/);
    expect(p.stderr).not.toMatch(/\n\s+at /);
  });
});
