import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEsm2Config, readEsm2Config, type Esm2Config } from '../../src-main/engine/esm2/config.js';
import { readSafetensors, writeSafetensors, type TensorToWrite } from '../../src-main/engine/esm2/safetensors.js';
import {
  esm2ParameterCount,
  Esm2WeightsError,
  expectedEsm2Shapes,
  loadEsm2Weights,
  readTensorF32,
} from '../../src-main/engine/esm2/weights.js';
import { InputError } from '../../src-main/engine/data/errors.js';
import { fixtureModel, shared } from '../helpers/paths.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'plmw-w-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const hfConfig = (name: string) => shared('fixtures/esm2/hf-configs', name, 'config.json');
const tiny = fixtureModel('tiny');

/**
 * A copy of the tiny fixture with its tensors passed through `edit` (rename, drop, add, change
 * dtype...). Returns the new model directory.
 */
async function variant(name: string, edit: (t: Record<string, TensorToWrite>) => void): Promise<string> {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(path.join(tiny, 'config.json'), path.join(dir, 'config.json'));
  const st = readSafetensors(path.join(tiny, 'model.safetensors'));
  const tensors: Record<string, TensorToWrite> = {};
  for (const t of st.tensors.values()) tensors[t.name] = { dtype: t.dtype, shape: t.shape, data: t.read() };
  edit(tensors);
  await writeSafetensors(path.join(dir, 'model.safetensors'), tensors, st.metadata);
  return dir;
}

function errorOf(f: () => unknown): Esm2WeightsError {
  try {
    f();
  } catch (e) {
    if (e instanceof Esm2WeightsError) return e;
    throw e;
  }
  throw new Error('expected an Esm2WeightsError');
}

describe('config.json', () => {
  it('reads the real Hugging Face configs of the first three ESM-2 models', () => {
    const got = ['esm2_t6_8M_UR50D', 'esm2_t12_35M_UR50D', 'esm2_t30_150M_UR50D'].map((n) => {
      const c = readEsm2Config(hfConfig(n));
      return [c.numLayers, c.hiddenSize, c.numHeads, c.headDim, c.intermediateSize, c.vocabSize, c.layerNormEps, c.tokenDropout, c.maskTokenId, c.padTokenId];
    });
    expect(got).toEqual([
      [6, 320, 20, 16, 1280, 33, 1e-5, true, 32, 1],
      [12, 480, 20, 24, 1920, 33, 1e-5, true, 32, 1],
      [30, 640, 20, 32, 2560, 33, 1e-5, true, 32, 1],
    ]);
    expect(readEsm2Config(tiny)).toMatchObject({ numLayers: 2, hiddenSize: 64, numHeads: 4, maxPositionEmbeddings: 1026, source: path.join(tiny, 'config.json') });
  });

  const base = JSON.parse(readFileSync(hfConfig('esm2_t6_8M_UR50D'), 'utf8')) as Record<string, unknown>;
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ position_embedding_type: 'absolute' }, /"position_embedding_type" is "absolute"; ESM-2 uses "rotary"/],
    [{ position_embedding_type: undefined }, /absent \(Hugging Face default "absolute"\)/],
    [{ emb_layer_norm_before: true }, /"emb_layer_norm_before" is true/],
    [{ layer_norm_eps: undefined }, /missing "layer_norm_eps"/],
    [{ hidden_size: 330 }, /"hidden_size" 330 is not divisible by "num_attention_heads" 20/],
    [{ hidden_size: 300 }, /head size 15 is odd/],
    [{ num_hidden_layers: '6' }, /"num_hidden_layers" must be an integer/],
    [{ intermediate_size: undefined }, /missing "intermediate_size"/],
    [{ token_dropout: undefined }, /"token_dropout" must be true or false/],
    [{ mask_token_id: 40 }, /"mask_token_id" 40 is outside the vocabulary of 33/],
    [{ model_type: 'bert' }, /"model_type" is "bert"/],
    [{ is_folding_model: true }, /ESMFold/],
    [{ hidden_act: 'relu' }, /"hidden_act"/],
  ];
  for (const [patch, re] of bad) {
    it(`rejects ${JSON.stringify(patch)}`, () => {
      const c = { ...base, ...patch };
      for (const k of Object.keys(patch)) if (patch[k] === undefined) delete c[k];
      expect(() => parseEsm2Config(c, 'x/config.json')).toThrow(InputError);
      expect(() => parseEsm2Config(c, 'x/config.json')).toThrow(re);
      expect(() => parseEsm2Config(c, 'x/config.json')).toThrow(/^x\/config\.json: /);
    });
  }

  it('accepts an absent emb_layer_norm_before', () => {
    const c = { ...base };
    delete c.emb_layer_norm_before;
    expect(parseEsm2Config(c).numLayers).toBe(6);
  });

  it('reports unreadable or invalid files with their path', () => {
    expect(() => readEsm2Config(tmp)).toThrow(/config\.json: cannot read config\.json/);
    const f = path.join(tmp, 'broken.json');
    writeFileSync(f, '{"hidden_size": 3');
    expect(() => readEsm2Config(f)).toThrow(/broken\.json: not valid JSON/);
  });
});

describe('ESM-2 weight mapping', () => {
  it('maps the tiny fixture to a typed weight set with file locations', () => {
    const w = loadEsm2Weights(tiny);
    const st = readSafetensors(path.join(tiny, 'model.safetensors'));
    expect(w.prefix).toBe('esm.');
    expect(w.ignored).toEqual([]);
    expect(w.layers).toHaveLength(2);
    expect(w.tensors.size).toBe(44);
    expect(w.lmHead.decoderWeight).toBeUndefined();
    const q = w.layers[1].query.weight;
    const hdr = st.tensors.get('esm.encoder.layer.1.attention.self.query.weight')!;
    expect(q).toEqual({
      name: 'encoder.layer.1.attention.self.query.weight',
      fileName: 'esm.encoder.layer.1.attention.self.query.weight',
      path: path.join(tiny, 'model.safetensors'),
      dtype: 'F32',
      shape: [64, 64],
      byteOffset: hdr.byteOffset,
      byteLength: 64 * 64 * 4,
      inPlaceF32: true,
    });
    expect(w.layers[0].intermediate.weight.shape).toEqual([256, 64]);
    expect(w.layers[0].output.weight.shape).toEqual([64, 256]);
    expect(w.lmHead.bias.fileName).toBe('lm_head.bias');
    expect(w.contactHead.weight.shape).toEqual([1, 8]);
    expect(w.embLayerNormAfter.weight.fileName).toBe('esm.encoder.emb_layer_norm_after.weight');
    expect([...w.tensors.values()].every((t) => t.inPlaceF32)).toBe(true);
    expect(Array.from(readTensorF32(w.lmHead.layerNorm.bias))).toEqual(Array.from(st.tensors.get('lm_head.layer_norm.bias')!.toFloat32()));
  });

  it('keeps the stored rotary inv_freq (float16-rounded), not a recomputed one', () => {
    for (const m of ['tiny', 't6-shape'] as const) {
      const w = loadEsm2Weights(fixtureModel(m));
      const hd = w.config.headDim;
      const stored = readTensorF32(w.layers[0].rotaryInvFreq);
      const exact = Array.from({ length: hd / 2 }, (_, i) => 1 / 10000 ** ((2 * i) / hd));
      // what torch's .half().float() gives: round to 11 significant bits
      const viaF16 = exact.map((v) => {
        const e = Math.floor(Math.log2(v));
        return Math.round(v * 2 ** (10 - e)) / 2 ** (10 - e);
      });
      expect(Array.from(stored)).toEqual(viaF16.map(Math.fround));
      expect(stored[1]).not.toBe(Math.fround(exact[1]));
    }
  });

  it('the t6-shape fixture matches the shapes implied by the real esm2_t6_8M config', () => {
    const w = loadEsm2Weights(fixtureModel('t6-shape'), { config: readEsm2Config(hfConfig('esm2_t6_8M_UR50D')) });
    expect(w.layers).toHaveLength(6);
    expect(w.contactHead.weight.shape).toEqual([1, 120]);
  });

  it('counts parameters from the shapes', () => {
    const c = readEsm2Config(tiny);
    const st = readSafetensors(path.join(tiny, 'model.safetensors'));
    let n = 0;
    for (const t of st.tensors.values()) if (!t.name.endsWith('inv_freq')) n += t.shape.reduce((a, b) => a * b, 1);
    expect(esm2ParameterCount(c)).toBe(n);
    expect(expectedEsm2Shapes(c).size).toBe(44);
  });

  it('accepts names without the esm. prefix', async () => {
    const dir = await variant('noprefix', (t) => {
      for (const k of Object.keys(t)) {
        if (k.startsWith('esm.')) {
          t[k.slice(4)] = t[k];
          delete t[k];
        }
      }
    });
    const w = loadEsm2Weights(dir);
    expect(w.prefix).toBe('');
    expect(w.wordEmbeddings.fileName).toBe('embeddings.word_embeddings.weight');
    expect(Array.from(readTensorF32(w.layers[0].key.bias))).toEqual(Array.from(readTensorF32(loadEsm2Weights(tiny).layers[0].key.bias)));
  });

  it('converts a BF16 checkpoint to float32 on demand and marks it not usable in place', async () => {
    const dir = await variant('bf16', (t) => {
      for (const v of Object.values(t)) {
        const f = v.data as Float32Array;
        const bits = new Uint32Array(f.buffer, f.byteOffset, f.length);
        v.data = Uint16Array.from(bits, (b) => b >>> 16); // truncation: exact to check
        v.dtype = 'BF16';
      }
    });
    const w = loadEsm2Weights(dir);
    const ref = readTensorF32(loadEsm2Weights(tiny).layers[0].value.weight);
    const got = readTensorF32(w.layers[0].value.weight);
    expect(w.layers[0].value.weight.inPlaceF32).toBe(false);
    expect(w.layers[0].value.weight.dtype).toBe('BF16');
    for (let i = 0; i < ref.length; i++) {
      const u = new Uint32Array(Float32Array.of(ref[i]).buffer)[0] & 0xffff0000;
      expect(got[i]).toBe(new Float32Array(Uint32Array.of(u).buffer)[0]);
    }
  });

  it('ignores position_ids and accepts an explicit tied decoder weight', async () => {
    const dir = await variant('extras', (t) => {
      t['esm.embeddings.position_ids'] = { dtype: 'I64', shape: [1, 1026], data: new BigInt64Array(1026) };
      t['lm_head.decoder.weight'] = t['esm.embeddings.word_embeddings.weight'];
    });
    const w = loadEsm2Weights(dir);
    expect(w.ignored).toEqual(['esm.embeddings.position_ids']);
    expect(w.lmHead.decoderWeight?.shape).toEqual([33, 64]);
  });

  it('names a missing tensor', async () => {
    const dir = await variant('missing', (t) => {
      delete t['esm.encoder.layer.1.attention.self.rotary_embeddings.inv_freq'];
      delete t['lm_head.dense.bias'];
    });
    const e = errorOf(() => loadEsm2Weights(dir));
    expect(e.problems).toEqual([
      { tensor: 'esm.encoder.layer.1.attention.self.rotary_embeddings.inv_freq', problem: 'missing' },
      { tensor: 'lm_head.dense.bias', problem: 'missing' },
    ]);
    expect(e).toBeInstanceOf(InputError);
    expect(e.loc).toEqual({ file: path.join(dir, 'model.safetensors'), record: 'esm.encoder.layer.1.attention.self.rotary_embeddings.inv_freq' });
    expect(e.message).toMatch(/2 layers, hidden size 64, 4 heads.*esm\.encoder\.layer\.1\.attention\.self\.rotary_embeddings\.inv_freq: missing/);
  });

  it('names an unexpected tensor (e.g. a third layer for a 2-layer config)', async () => {
    const dir = await variant('extra', (t) => {
      t['esm.encoder.layer.2.LayerNorm.bias'] = t['esm.encoder.layer.1.LayerNorm.bias'];
    });
    expect(errorOf(() => loadEsm2Weights(dir)).problems).toEqual([
      { tensor: 'esm.encoder.layer.2.LayerNorm.bias', problem: 'unexpected tensor (not part of an ESM-2 of this config)' },
    ]);
  });

  it('names a mis-shaped tensor and a non-float one', async () => {
    const dir = await variant('shape', (t) => {
      t['esm.encoder.layer.0.intermediate.dense.weight'].shape = [64, 256];
      t['esm.contact_head.regression.bias'] = { dtype: 'I32', shape: [1], data: Int32Array.of(0) };
    });
    const problems = errorOf(() => loadEsm2Weights(dir)).problems.sort((a, b) => a.tensor.localeCompare(b.tensor));
    expect(problems).toEqual([
      { tensor: 'esm.contact_head.regression.bias', problem: 'dtype I32 is not a float type' },
      { tensor: 'esm.encoder.layer.0.intermediate.dense.weight', problem: 'shape [64,256] but the config implies [256,64]' },
    ]);
  });

  it('rejects weights that do not fit the config (tiny weights, small config)', () => {
    const e = errorOf(() => loadEsm2Weights(tiny, { config: readEsm2Config(fixtureModel('small')) }));
    expect(e.problems.length).toBeGreaterThan(10);
    expect(e.message).toMatch(/\.\.\. and \d+ more/);
  });

  it('recognises a fair-esm checkpoint and says so', async () => {
    const dir = await variant('fairesm', (t) => {
      t['embed_tokens.weight'] = t['esm.embeddings.word_embeddings.weight'];
      delete t['esm.embeddings.word_embeddings.weight'];
    });
    expect(() => loadEsm2Weights(dir)).toThrow(/fair-esm checkpoint/);
  });

  it('explains a directory with only pytorch_model.bin', () => {
    const dir = path.join(tmp, 'binonly');
    mkdirSync(dir, { recursive: true });
    copyFileSync(path.join(tiny, 'config.json'), path.join(dir, 'config.json'));
    writeFileSync(path.join(dir, 'pytorch_model.bin'), 'x');
    expect(() => loadEsm2Weights(dir)).toThrow(/model weights not found \(found pytorch_model\.bin/);
  });

  it('uses the config it is given instead of reading config.json', () => {
    const c: Esm2Config = readEsm2Config(tiny);
    expect(loadEsm2Weights(path.join(tmp, 'nowhere'), { config: c, weightsFile: path.join(tiny, 'model.safetensors') }).layers).toHaveLength(2);
  });
});
