// Checkpoints as they come: larger than 2 GiB, sharded, F16/BF16, random-weight ones of the
// published shapes. Each is loaded by the product's own loader and checked by running it.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEsm2Config } from '../../src-main/engine/esm2/config.js';
import { Esm2Runner } from '../../src-main/engine/esm2/infer.js';
import { loadModel } from '../../src-main/engine/esm2/model.js';
import { ESM2_SHAPES, writeRandomCheckpoint } from '../../src-main/engine/esm2/random-checkpoint.js';
import { readSafetensors, writeSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { EsmTokenizer } from '../../src-main/engine/esm2/tokenizer.js';
import { esm2ParameterCount, loadEsm2Weights } from '../../src-main/engine/esm2/weights.js';
import { esm2Forward64 } from '../helpers/esm2-reference64.js';
import { rng } from '../helpers/gradcheck.js';
import { fixtureModel } from '../helpers/paths.js';
import { writeRandomModel } from '../helpers/random-model.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'plmw-ckpt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const AA = 'LAGVSERTIDPKQNFYMHWC';
const randomSeq = (r: () => number, n: number) => Array.from({ length: n }, () => AA[Math.floor(r() * 20)]).join('');

async function sha256Stream(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 24 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function logitsOf(dir: string, seqs: string[], home = tmp): Promise<Float32Array> {
  const runner = await Esm2Runner.create(await loadModel(dir, { home }), ['logits'], { providers: ['cpu'] });
  const out = await runner.runBatch(seqs);
  await runner.release();
  return out.out.logits.data as Float32Array;
}

describe('a checkpoint larger than 2 GiB', () => {
  it('loads without reading it into memory, hashes it in pieces and runs a forward that matches the float64 reference', async () => {
    const dir = path.join(tmp, 'big');
    const shape = { d: 32, layers: 2, heads: 4, ffn: 64, prefixed: true, seed: 21 };
    // An int64 embeddings.position_ids buffer (which ESM-2 exports may carry and the loader ignores)
    // of 2^28 + 8 entries: 2 GiB + 64 bytes. Largest element size first, so it precedes every weight
    // and all weights lie beyond byte 2^31.
    const padBytes = (2 ** 28 + 8) * 8;
    const weights = await writeRandomModel(dir, {
      ...shape,
      extra: { 'esm.embeddings.position_ids': { dtype: 'I64', shape: [1, 2 ** 28 + 8], fill: (dst) => dst.fill(0) } },
    });
    const file = path.join(dir, 'model.safetensors');
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(2 ** 31 + 64);
    try {
      const rssBefore = process.memoryUsage().rss;
      const model = await loadModel(dir, { home: tmp });
      expect(model.weights.ignored).toEqual(['esm.embeddings.position_ids']);
      expect(model.weights.wordEmbeddings.byteOffset).toBeGreaterThan(2 ** 31);
      expect(model.weightBytes).toBeLessThan(size - padBytes);
      const runner = await Esm2Runner.create(model, ['logits', 'representations'], { providers: ['cpu'] });
      const r = rng(4);
      const seqs = [randomSeq(r, 12), randomSeq(r, 7)];
      const out = await runner.runBatch(seqs);
      await runner.release();
      // nothing close to the file's size entered this process
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(512 * 2 ** 20);

      const tok = EsmTokenizer.default();
      const cfg = { d: shape.d, layers: shape.layers, heads: shape.heads, ffn: shape.ffn, vocab: 33, eps: 1e-5, maskId: 32 };
      const T = out.T;
      const logits = out.out.logits.data as Float32Array;
      const last = out.out[`representations.${shape.layers}`].data as Float32Array;
      let worst = 0;
      seqs.forEach((s, b) => {
        const ref = esm2Forward64(cfg, { get: (n) => weights.get(n)! }, Array.from(tok.encode(s)));
        for (const p of [0, 1, Math.floor(s.length / 2), s.length + 1]) {
          for (let v = 0; v < 33; v++) worst = Math.max(worst, Math.abs(logits[(b * T + p) * 33 + v] - ref.logits[p][v]));
          for (let k = 0; k < shape.d; k++) worst = Math.max(worst, Math.abs(last[(b * T + p) * shape.d + k] - ref.reprs[shape.layers][p][k]));
        }
      });
      expect(worst).toBeLessThanOrEqual(1e-4);
      expect(model.sha256).toBe(await sha256Stream(file));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});

describe('sharded checkpoints (model.safetensors.index.json)', () => {
  const tiny = fixtureModel('tiny');
  const shard = async (name: string, edit?: (index: { weight_map: Record<string, string> }) => void) => {
    const dir = path.join(tmp, name);
    mkdirSync(dir, { recursive: true });
    for (const f of ['config.json', 'vocab.txt']) writeFileSync(path.join(dir, f), readFileSync(path.join(tiny, f)));
    const st = readSafetensors(path.join(tiny, 'model.safetensors'));
    const parts: Record<string, Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>>[] = [{}, {}];
    const index = { metadata: { total_size: 0 }, weight_map: {} as Record<string, string> };
    [...st.tensors.values()].forEach((t, i) => {
      const k = i % 2;
      const file = `model-0000${k + 1}-of-00002.safetensors`;
      (parts[k] as Record<string, unknown>)[t.name] = { dtype: t.dtype, shape: t.shape, data: t.read() };
      index.weight_map[t.name] = file;
    });
    for (let k = 0; k < 2; k++) await writeSafetensors(path.join(dir, `model-0000${k + 1}-of-00002.safetensors`), parts[k] as never);
    edit?.(index);
    writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
    return dir;
  };

  it('loads the shards the index names and computes what the single file computes', async () => {
    const dir = await shard('sharded');
    const w = loadEsm2Weights(dir);
    expect(w.files.map((f) => path.basename(f))).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    const seqs = ['MKTAYIAKQRQISFVK', 'GSHMLE'];
    expect(Array.from(await logitsOf(dir, seqs))).toEqual(Array.from(await logitsOf(tiny, seqs)));
    const model = await loadModel(dir, { home: tmp });
    const h = createHash('sha256');
    for (const f of w.files) h.update(readFileSync(f));
    expect(model.sha256).toBe(h.digest('hex'));
  });

  it('refuses an index that points outside the folder, at a missing shard, or at the wrong shard', async () => {
    const outside = await shard('outside', (ix) => (ix.weight_map['lm_head.bias'] = '../model-00001-of-00002.safetensors'));
    expect(() => loadEsm2Weights(outside)).toThrow(/weight_map entry for 'lm_head.bias' is ".*", not a .safetensors file name in this folder/);
    const missing = await shard('missing', (ix) => (ix.weight_map['lm_head.bias'] = 'model-00003-of-00002.safetensors'));
    expect(() => loadEsm2Weights(missing)).toThrow(/shard model-00003-of-00002.safetensors \(holding 'lm_head.bias'\) not found/);
    const wrong = await shard('wrong', (ix) => {
      const f = ix.weight_map['lm_head.bias'];
      ix.weight_map['lm_head.bias'] = f.includes('00001') ? 'model-00002-of-00002.safetensors' : 'model-00001-of-00002.safetensors';
    });
    expect(() => loadEsm2Weights(wrong)).toThrow(/lm_head.bias: found in model-0000\d-of-00002.safetensors but the index names model-0000\d-of-00002.safetensors/);
  });

  it('explains what to do with a folder of PyTorch pickles only', () => {
    const dir = path.join(tmp, 'bin');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'config.json'), readFileSync(path.join(tiny, 'config.json')));
    writeFileSync(path.join(dir, 'pytorch_model.bin.index.json'), '{}');
    expect(() => loadEsm2Weights(dir)).toThrow(/found pytorch_model.bin.index.json: this engine reads safetensors only; convert it first.*safe_serialization=True/);
  });
});

describe('F16 and BF16 checkpoints', () => {
  it.each(['F16', 'BF16'] as const)('%s: converted once into a float32 copy in the user data folder, computing what float32 weights of the same values compute', async (dtype) => {
    const home = path.join(tmp, `home-${dtype}`);
    const shape = { d: 32, layers: 2, heads: 4, ffn: 64, seed: 9 };
    const half = path.join(tmp, `half-${dtype}`);
    const values = await writeRandomModel(half, { ...shape, dtype });
    const full = path.join(tmp, `full-${dtype}`);
    await writeRandomModel(full, { ...shape, values });
    expect(readSafetensors(path.join(half, 'model.safetensors')).tensors.get('lm_head.dense.weight')!.dtype).toBe(dtype);
    const seqs = ['MKTAYIAKQRQISFVK', 'GSHML'];
    const a = await logitsOf(half, seqs, home);
    expect(Array.from(a)).toEqual(Array.from(await logitsOf(full, seqs, home)));
    const model = await loadModel(half, { home });
    const copy = path.join(home, 'cache', 'float32', model.sha256, 'model.safetensors');
    expect(model.weightsDir).toBe(path.dirname(copy));
    expect(readSafetensors(copy).tensors.get('lm_head.dense.weight')!.dtype).toBe('F32');
    const mtime = statSync(copy).mtimeMs;
    await logitsOf(half, seqs, home);
    expect(statSync(copy).mtimeMs).toBe(mtime); // reused, not written again
    expect(readdirSync(path.dirname(copy))).toEqual(['model.safetensors']);
  });
});

describe('plmw dev random-model', () => {
  it('writes a checkpoint of the published shape that the loader accepts; the same seed gives the same bytes', async () => {
    const a = path.join(tmp, 'rand-a');
    const b = path.join(tmp, 'rand-b');
    const c = path.join(tmp, 'rand-c');
    const n = await writeRandomCheckpoint(a, ESM2_SHAPES.t6, { seed: 3 });
    await writeRandomCheckpoint(b, ESM2_SHAPES.t6, { seed: 3 });
    await writeRandomCheckpoint(c, ESM2_SHAPES.t6, { seed: 4 });
    const cfg = readEsm2Config(a);
    expect([cfg.numLayers, cfg.hiddenSize, cfg.numHeads, cfg.intermediateSize, cfg.vocabSize]).toEqual([6, 320, 20, 1280, 33]);
    const w = loadEsm2Weights(a);
    expect(w.prefix).toBe('esm.');
    const invFreq = w.layers[0].rotaryInvFreq.shape[0];
    expect(n).toBe(esm2ParameterCount(cfg) + 6 * invFreq);
    const bytes = (d: string) => readFileSync(path.join(d, 'model.safetensors'));
    expect(bytes(a).equals(bytes(b))).toBe(true);
    expect(bytes(a).equals(bytes(c))).toBe(false);
    // the published shape's reference config (facebook/esm2_t6_8M_UR50D) parses the same way
    const logits = await logitsOf(a, ['MKTAYIAKQRQ']);
    expect(logits.every(Number.isFinite)).toBe(true);
  });

  it('writes F16 and BF16 weights, rotary frequencies stay float32 and rounded through float16', async () => {
    const d = path.join(tmp, 'rand-f16');
    await writeRandomCheckpoint(d, ESM2_SHAPES.t6, { seed: 3, dtype: 'BF16' });
    const st = readSafetensors(path.join(d, 'model.safetensors'));
    expect(st.tensors.get('esm.encoder.layer.0.attention.self.query.weight')!.dtype).toBe('BF16');
    const inv = st.tensors.get('esm.encoder.layer.0.attention.self.rotary_embeddings.inv_freq')!;
    expect(inv.dtype).toBe('F32');
    const f = inv.toFloat32();
    expect(f[0]).toBe(1);
    expect(f[1]).not.toBe(Math.fround(1 / 10000 ** (2 / 16)));
    expect(Math.abs(f[1] - 1 / 10000 ** (2 / 16))).toBeLessThan(1e-3);
    expect(JSON.parse(readFileSync(path.join(d, 'config.json'), 'utf8')).torch_dtype).toBe('bfloat16');
    expect(existsSync(path.join(d, 'vocab.txt'))).toBe(true);
  });
});
