// Every option Hugging Face PEFT writes for LoRA, DoRA and IA3 that the fixtures do not cover,
// on adapters written here in save_pretrained's layout and checked against an independent
// float64 ESM-2 (test/helpers/esm2-reference64.ts) with the adapter folded into the weights by
// PEFT's documented semantics: LoRA W + s B A (s = alpha / r, or alpha / sqrt(r) with
// use_rslora; rank_pattern / alpha_pattern per module), lora_B's bias, DoRA's renormalised rows,
// IA3's row (output) or column (feed-forward input) scaling, and biases or whole modules the
// file replaces (bias="all"/"lora_only", modules_to_save).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HF_LINEAR_NAME, type LinearSite } from '../../src-main/engine/esm2/forward.js';
import { Esm2Runner } from '../../src-main/engine/esm2/infer.js';
import { type LoadedModel, loadModel } from '../../src-main/engine/esm2/model.js';
import { importPeftAdapter } from '../../src-main/engine/export/peft-import.js';
import { createMethod } from '../../src-main/engine/peft/index.js';
import { adaptation } from '../../src-main/engine/train/adapted.js';
import { esm2Forward64 } from '../helpers/esm2-reference64.js';
import { rng } from '../helpers/gradcheck.js';
import { fixtureModel } from '../helpers/paths.js';
import { fixtureSequences, writeAdapter } from './helpers.js';

let model: LoadedModel;
let tmp: string;
const D = 64;
const FFN = 256;
beforeAll(async () => {
  model = await loadModel(fixtureModel('tiny'));
  tmp = mkdtempSync(path.join(os.tmpdir(), 'plmw-peft-options-'));
});
const measured: Record<string, { hidden: number; logits: number }> = {};
afterAll(() => {
  console.log(`max abs differences to the float64 reference:\n${JSON.stringify(measured, null, 1)}`);
  rmSync(tmp, { recursive: true, force: true });
});

type T = { shape: number[]; data: Float32Array };
const rand = (r: () => number, shape: number[], scale: number, center = 0): T => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => center + scale * (2 * r() - 1)) });
const dims = (site: LinearSite) => ({ in: site === 'ffn_out' ? FFN : D, out: site === 'ffn_in' ? FFN : D });
const key = (layer: number, site: LinearSite, prefix = 'esm.') => `${prefix}encoder.layer.${layer}.${HF_LINEAR_NAME[site]}`;

/** A change to the base weights, as PEFT's semantics make it (the reference folds these in). */
type Fold =
  | { lora: { layer: number; site: LinearSite; A: T; B: T; s: number; bias?: T; magnitude?: T } }
  | { ia3: { layer: number; site: LinearSite; l: T; input: boolean } }
  | { set: { name: string; value: T } };

function foldedWeights(folds: Fold[]): Map<string, Float64Array> {
  const w = new Map<string, Float64Array>();
  for (const n of model.weights.tensors.keys()) w.set(n, Float64Array.from(model.source.read(n)));
  for (const f of folds) {
    if ('set' in f) w.set(f.set.name, Float64Array.from(f.set.value.data));
    else if ('lora' in f) {
      const { layer, site, A, B, s, bias, magnitude } = f.lora;
      const { in: I, out: O } = dims(site);
      const r = A.shape[0];
      const W = w.get(`encoder.layer.${layer}.${HF_LINEAR_NAME[site]}.weight`)!;
      for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) {
        let d = 0;
        for (let k = 0; k < r; k++) d += B.data[o * r + k] * A.data[k * I + i];
        W[o * I + i] += s * d;
      }
      if (magnitude) for (let o = 0; o < O; o++) {
        let n = 0;
        for (let i = 0; i < I; i++) n += W[o * I + i] ** 2;
        for (let i = 0; i < I; i++) W[o * I + i] *= magnitude.data[o] / Math.sqrt(n);
      }
      if (bias) {
        const b = w.get(`encoder.layer.${layer}.${HF_LINEAR_NAME[site]}.bias`)!;
        for (let o = 0; o < O; o++) b[o] += s * bias.data[o];
      }
    } else {
      const { layer, site, l, input } = f.ia3;
      const { in: I, out: O } = dims(site);
      const W = w.get(`encoder.layer.${layer}.${HF_LINEAR_NAME[site]}.weight`)!;
      const b = w.get(`encoder.layer.${layer}.${HF_LINEAR_NAME[site]}.bias`)!;
      for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) W[o * I + i] *= input ? l.data[i] : l.data[o];
      if (!input) for (let o = 0; o < O; o++) b[o] *= l.data[o];
    }
  }
  return w;
}

/** Max |engine - float64 reference| of the last hidden state (and the MLM logits), over two fixture proteins. */
async function compare(dir: string, folds: Fold[]): Promise<{ hidden: number; logits: number; imported: ReturnType<typeof importPeftAdapter> }> {
  const a = importPeftAdapter(dir, model);
  const { name, ...opts } = a.method;
  const method = createMethod(name, model.config, opts, model.source, []);
  const runner = await Esm2Runner.create(model, ['logits', 'representations'], { providers: ['cpu'], threads: 1 }, adaptation(model.config, method, null, a.params));
  const W = foldedWeights(folds);
  const c = model.config;
  let hidden = 0;
  let logits = 0;
  try {
    for (const s of fixtureSequences().slice(0, 2)) {
      const out = runner.unpad(await runner.runBatch([s.sequence]), 0, s.sequence.length);
      const ref = esm2Forward64({ d: c.hiddenSize, layers: c.numLayers, heads: c.numHeads, ffn: c.intermediateSize, vocab: c.vocabSize, eps: c.layerNormEps, maskId: c.maskTokenId }, { get: (n) => W.get(n)! }, Array.from(model.tokenizer.encode(s.sequence)));
      const h = out.find((t) => t.name === `representations.${c.numLayers}`)!.data;
      const lg = out.find((t) => t.name === 'logits')!.data;
      ref.reprs[c.numLayers].forEach((row, t) => row.forEach((v, i) => (hidden = Math.max(hidden, Math.abs(v - h[t * D + i])))));
      ref.logits.forEach((row, t) => row.forEach((v, i) => (logits = Math.max(logits, Math.abs(v - lg[t * c.vocabSize + i])))));
    }
  } finally {
    await runner.release();
  }
  // the adapter must matter at all for the comparison to mean something
  const plain = esm2Forward64({ d: c.hiddenSize, layers: c.numLayers, heads: c.numHeads, ffn: c.intermediateSize, vocab: c.vocabSize, eps: c.layerNormEps, maskId: c.maskTokenId }, { get: (n) => Float64Array.from(model.source.read(n)) }, Array.from(model.tokenizer.encode(fixtureSequences()[0].sequence)));
  const folded = esm2Forward64({ d: c.hiddenSize, layers: c.numLayers, heads: c.numHeads, ffn: c.intermediateSize, vocab: c.vocabSize, eps: c.layerNormEps, maskId: c.maskTokenId }, { get: (n) => W.get(n)! }, Array.from(model.tokenizer.encode(fixtureSequences()[0].sequence)));
  let effect = 0;
  plain.reprs[c.numLayers].forEach((row, t) => row.forEach((v, i) => (effect = Math.max(effect, Math.abs(v - folded.reprs[c.numLayers][t][i])))));
  expect(effect).toBeGreaterThan(1e-3);
  measured[path.basename(dir)] = { hidden, logits };
  return { hidden, logits, imported: a };
}

const LORA = { peft_type: 'LORA', task_type: null, base_model_name_or_path: 'esm2-tiny-random', inference_mode: true, lora_dropout: 0, bias: 'none', fan_in_fan_out: false, modules_to_save: null };
const TOL = 1e-4;

/** LoRA tensors for modules at PEFT's names; returns the tensors and the folds. */
function loraTensors(seed: number, mods: { layer: number; site: LinearSite; r: number; s: number; bias?: boolean; dora?: boolean }[], prefix = 'esm.') {
  const r = rng(seed);
  const tensors: Record<string, T> = {};
  const folds: Fold[] = [];
  for (const m of mods) {
    const { in: I, out: O } = dims(m.site);
    const A = rand(r, [m.r, I], 0.2);
    const B = rand(r, [O, m.r], 0.2);
    const at = `base_model.model.${key(m.layer, m.site, prefix)}`;
    tensors[`${at}.lora_A.weight`] = A;
    tensors[`${at}.lora_B.weight`] = B;
    const bias = m.bias ? rand(r, [O], 0.2) : undefined;
    if (bias) tensors[`${at}.lora_B.bias`] = bias;
    let magnitude: T | undefined;
    if (m.dora) {
      const W = model.source.read(`encoder.layer.${m.layer}.${HF_LINEAR_NAME[m.site]}.weight`);
      magnitude = { shape: [O], data: Float32Array.from({ length: O }, (_, o) => Math.hypot(...W.subarray(o * I, (o + 1) * I)) * (1 + 0.3 * (2 * r() - 1))) };
      tensors[`${at}.lora_magnitude_vector`] = magnitude;
    }
    folds.push({ lora: { layer: m.layer, site: m.site, A, B, s: m.s, bias, magnitude } });
  }
  return { tensors, folds };
}

describe('PEFT options on adapters made here, against a float64 reference with the adapter folded in', () => {
  it('use_rslora, rank_pattern and alpha_pattern: per-module ranks and scales', async () => {
    const mods = [0, 1].flatMap((layer) => [
      { layer, site: 'query' as const, r: layer === 1 ? 2 : 4, s: 8 / Math.sqrt(layer === 1 ? 2 : 4) },
      { layer, site: 'value' as const, r: 4, s: 3 / Math.sqrt(4) },
      { layer, site: 'ffn_in' as const, r: 4, s: 8 / Math.sqrt(4) },
    ]);
    const { tensors, folds } = loraTensors(11, mods);
    const dir = await writeAdapter(path.join(tmp, 'rslora'), {
      ...LORA, task_type: 'TOKEN_CLS', r: 4, lora_alpha: 8, use_rslora: true, target_modules: ['query', 'value', 'intermediate.dense'],
      rank_pattern: { 'layer.1.attention.self.query': 2 }, alpha_pattern: { value: 3 },
    }, tensors);
    const d = await compare(dir, folds);
    expect(d.hidden).toBeLessThan(TOL);
    expect(d.imported.method).toMatchObject({ name: 'lora', rslora: true });
    expect(d.imported.method.modules).toContainEqual({ layer: 1, site: 'query', r: 2, alpha: 8 });
    expect(d.imported.method.modules).toContainEqual({ layer: 0, site: 'value', r: 4, alpha: 3 });
  });

  it('target_modules as a regex (full match) picks modules per block', async () => {
    const mods = [{ layer: 0, site: 'ffn_out' as const, r: 2, s: 2 }, { layer: 1, site: 'key' as const, r: 2, s: 2 }, { layer: 1, site: 'value' as const, r: 2, s: 2 }];
    const { tensors, folds } = loraTensors(12, mods, '');
    const dir = await writeAdapter(path.join(tmp, 'regex'), {
      ...LORA, r: 2, lora_alpha: 4, target_modules: 'encoder\\.layer\\.(0\\.output\\.dense|1\\.attention\\.self\\.(key|value))',
      auto_mapping: { base_model_class: 'EsmModel', parent_library: 'transformers.models.esm.modeling_esm' },
    }, tensors);
    const d = await compare(dir, folds);
    expect(d.hidden).toBeLessThan(TOL);
    expect(d.imported.baseClass).toBe('EsmModel');
    expect((d.imported.method.modules as unknown[]).length).toBe(3);
  });

  it('layers_to_transform as a number, with and without layers_pattern; exclude_modules', async () => {
    const one = loraTensors(13, [{ layer: 1, site: 'query', r: 2, s: 1 }]);
    for (const [i, extra] of [{ layers_to_transform: 1 }, { layers_to_transform: [1], layers_pattern: ['layer'] }].entries()) {
      const dir = await writeAdapter(path.join(tmp, `layers-${i}`), { ...LORA, task_type: 'TOKEN_CLS', r: 2, lora_alpha: 2, target_modules: ['query'], ...extra }, one.tensors);
      const d = await compare(dir, one.folds);
      expect(d.hidden).toBeLessThan(TOL);
      expect(d.imported.method).toMatchObject({ targets: ['query'], topK: 1 });
    }
    const ex = loraTensors(14, [{ layer: 0, site: 'query', r: 2, s: 1 }, { layer: 1, site: 'query', r: 2, s: 1 }, { layer: 1, site: 'key', r: 2, s: 1 }]);
    const dir = await writeAdapter(path.join(tmp, 'exclude'), { ...LORA, task_type: 'TOKEN_CLS', r: 2, lora_alpha: 2, target_modules: ['query', 'key'], exclude_modules: ['encoder.layer.0.attention.self.key'] }, ex.tensors);
    const d = await compare(dir, ex.folds);
    expect(d.hidden).toBeLessThan(TOL);
  });

  it('bias "all" and "lora_only": the file\'s biases replace the base model\'s, as PEFT loads them', async () => {
    const { tensors, folds } = loraTensors(15, [{ layer: 0, site: 'query', r: 2, s: 2 }, { layer: 1, site: 'query', r: 2, s: 2 }]);
    const r = rng(16);
    const all = { ...tensors };
    const biasOf = (canonical: string, file: string) => {
      const v = rand(r, model.source.get(canonical).shape, 0.3);
      all[`base_model.model.${file}`] = v;
      folds.push({ set: { name: canonical, value: v } });
    };
    for (const l of [0, 1]) {
      biasOf(`encoder.layer.${l}.attention.self.query.bias`, `esm.encoder.layer.${l}.attention.self.query.base_layer.bias`);
      for (const m of ['attention.self.key', 'attention.self.value', 'attention.output.dense', 'intermediate.dense', 'output.dense', 'attention.LayerNorm', 'LayerNorm']) biasOf(`encoder.layer.${l}.${m}.bias`, `esm.encoder.layer.${l}.${m}.bias`);
    }
    biasOf('encoder.emb_layer_norm_after.bias', 'esm.encoder.emb_layer_norm_after.bias');
    biasOf('contact_head.regression.bias', 'esm.contact_head.regression.bias');
    const dir = await writeAdapter(path.join(tmp, 'bias-all'), { ...LORA, r: 2, lora_alpha: 4, target_modules: ['query'], bias: 'all' }, all);
    const d = await compare(dir, folds);
    expect(d.hidden).toBeLessThan(TOL);
    expect(d.logits).toBeLessThan(TOL);
    expect((d.imported.method.overrides as string[]).length).toBe(2 * 8 + 2);
    expect(d.imported.notes.join('\n')).toMatch(/replaces 18 backbone tensor\(s\)/);

    const only = loraTensors(17, [{ layer: 0, site: 'value', r: 2, s: 2 }]);
    const b = rand(r, [D], 0.3);
    only.tensors['base_model.model.esm.encoder.layer.0.attention.self.value.base_layer.bias'] = b;
    only.folds.push({ set: { name: 'encoder.layer.0.attention.self.value.bias', value: b } });
    const d2 = await compare(await writeAdapter(path.join(tmp, 'bias-lora-only'), { ...LORA, r: 2, lora_alpha: 4, target_modules: ['value'], layers_to_transform: [0], bias: 'lora_only' }, only.tensors), only.folds);
    expect(d2.hidden).toBeLessThan(TOL);
  });

  it('lora_bias (a bias on lora_B), DoRA over a layers_to_transform subset, and fan_in_fan_out (false for nn.Linear, with a note)', async () => {
    const lb = loraTensors(18, [0, 1].map((layer) => ({ layer, site: 'attn_out' as const, r: 3, s: 2, bias: true })));
    const d = await compare(await writeAdapter(path.join(tmp, 'lora-bias'), { ...LORA, r: 3, lora_alpha: 6, target_modules: ['attention.output.dense'], lora_bias: true, fan_in_fan_out: true }, lb.tensors), lb.folds);
    expect(d.hidden).toBeLessThan(TOL);
    expect(d.imported.method).toMatchObject({ loraBias: true, targets: ['attn_out'] });
    expect(d.imported.notes.join('\n')).toMatch(/fan_in_fan_out = true: .*PEFT sets it to false/);

    const dora = loraTensors(19, [{ layer: 1, site: 'key', r: 2, s: 3 / 2, dora: true }, { layer: 1, site: 'ffn_in', r: 2, s: 3 / 2, dora: true }]);
    const d2 = await compare(await writeAdapter(path.join(tmp, 'dora-top'), { ...LORA, r: 2, lora_alpha: 3, target_modules: ['key', 'intermediate.dense'], use_dora: true, layers_to_transform: [1], layers_pattern: 'layer' }, dora.tensors), dora.folds);
    expect(d2.hidden).toBeLessThan(TOL);
    expect(d2.imported.method).toMatchObject({ name: 'dora', targets: ['key', 'ffn_in'], topK: 1 });
  });

  it('IA3: output scaling of any Linear, feed-forward (input) scaling by regex, blocks chosen by a regex target', async () => {
    const r = rng(20);
    const tensors: Record<string, T> = {};
    const folds: Fold[] = [];
    for (const [layer, site, input] of [[1, 'query', false], [1, 'ffn_in', true], [1, 'ffn_out', false]] as const) {
      const { in: I, out: O } = dims(site);
      const l = rand(r, input ? [1, I] : [O, 1], 0.4, 1);
      tensors[`base_model.model.${key(layer, site)}.ia3_l`] = l;
      folds.push({ ia3: { layer, site, l, input } });
    }
    const dir = await writeAdapter(path.join(tmp, 'ia3'), {
      peft_type: 'IA3', task_type: null, base_model_name_or_path: 'esm2-tiny-random', inference_mode: true, fan_in_fan_out: false, modules_to_save: null, init_ia3_weights: true,
      target_modules: '.*\\.1\\.(attention\\.self\\.query|intermediate\\.dense|output\\.dense)', feedforward_modules: '.*intermediate\\.dense',
    }, tensors);
    const d = await compare(dir, folds);
    expect(d.hidden).toBeLessThan(TOL);
    expect(d.imported.method).toMatchObject({ name: 'ia3', targets: ['query', 'ffn_in.in', 'ffn_out'], topK: 1 });
  });

  it('modules_to_save: a whole backbone module (the final LayerNorm) and, on EsmForMaskedLM, the MLM head', async () => {
    const r = rng(21);
    const { tensors, folds } = loraTensors(22, [{ layer: 0, site: 'query', r: 2, s: 1 }, { layer: 1, site: 'query', r: 2, s: 1 }]);
    for (const [canonical, file] of [
      ['encoder.emb_layer_norm_after.weight', 'esm.encoder.emb_layer_norm_after.weight'], ['encoder.emb_layer_norm_after.bias', 'esm.encoder.emb_layer_norm_after.bias'],
      ['lm_head.dense.weight', 'lm_head.dense.weight'], ['lm_head.dense.bias', 'lm_head.dense.bias'], ['lm_head.layer_norm.weight', 'lm_head.layer_norm.weight'],
      ['lm_head.layer_norm.bias', 'lm_head.layer_norm.bias'], ['lm_head.bias', 'lm_head.bias'],
    ]) {
      const v = rand(r, model.source.get(canonical).shape, 0.5, canonical.endsWith('norm.weight') || canonical.endsWith('after.weight') ? 1 : 0);
      tensors[`base_model.model.${file}`] = v;
      folds.push({ set: { name: canonical, value: v } });
    }
    // the MLM decoder copy, tied to the word embeddings in ESM-2
    tensors['base_model.model.lm_head.decoder.weight'] = { shape: [33, D], data: model.source.read('embeddings.word_embeddings.weight') };
    const dir = await writeAdapter(path.join(tmp, 'mts'), {
      ...LORA, r: 2, lora_alpha: 2, target_modules: ['query'], modules_to_save: ['emb_layer_norm_after', 'lm_head'],
      auto_mapping: { base_model_class: 'EsmForMaskedLM', parent_library: 'transformers.models.esm.modeling_esm' },
    }, tensors);
    const d = await compare(dir, folds);
    expect(d.hidden).toBeLessThan(TOL);
    expect(d.logits).toBeLessThan(TOL);
    expect(d.imported.baseClass).toBe('EsmForMaskedLM');
    expect(d.imported.notes.join('\n')).toMatch(/lm_head\.decoder\.weight: equal to the word embeddings/);
  });
});
