// Random-weight ESM-2 checkpoints of the published shapes, in the Hugging Face layout
// (config.json, model.safetensors with `esm.`-prefixed names, vocab.txt), for benchmarks at
// real sizes without downloads. Values are seeded (the same seed gives the same bytes) and
// scaled like a trained model's (linear weights ~ U(+-1.6/sqrt(in)), LayerNorm scales near 1,
// small biases, rotary inv_freq rounded through float16 as the published checkpoints store it),
// so activations stay in a realistic range. The weights are generated and written in chunks:
// an 11 GB checkpoint never sits in memory.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { stream } from '../train/rng.js';
import { type StreamedTensor, f16ToF32, writeSafetensorsStream } from './safetensors.js';
import { DEFAULT_VOCAB } from './tokenizer.js';
import { writeFileAtomic, writeJsonAtomic } from '../atomic.js';

export interface Esm2Shape {
  layers: number;
  d: number;
  heads: number;
  ffn: number;
  /** the published checkpoint of this shape */
  hub: string;
}

export const ESM2_SHAPES = {
  t6: { layers: 6, d: 320, heads: 20, ffn: 1280, hub: 'facebook/esm2_t6_8M_UR50D' },
  t12: { layers: 12, d: 480, heads: 20, ffn: 1920, hub: 'facebook/esm2_t12_35M_UR50D' },
  t30: { layers: 30, d: 640, heads: 20, ffn: 2560, hub: 'facebook/esm2_t30_150M_UR50D' },
  t33: { layers: 33, d: 1280, heads: 20, ffn: 5120, hub: 'facebook/esm2_t33_650M_UR50D' },
  t36: { layers: 36, d: 2560, heads: 40, ffn: 10240, hub: 'facebook/esm2_t36_3B_UR50D' },
} as const satisfies Record<string, Esm2Shape>;
export type Esm2ShapeName = keyof typeof ESM2_SHAPES;

export type RandomDtype = 'F32' | 'F16' | 'BF16';

export interface RandomCheckpointOptions {
  seed?: number;
  dtype?: RandomDtype;
  signal?: AbortSignal;
  onProgress?: (written: number, total: number) => void;
}

const VOCAB = DEFAULT_VOCAB.length;

/** Hugging Face tensor names (as EsmForMaskedLM stores them) and shapes of an ESM-2 of this shape. */
export function esm2TensorShapes(s: Esm2Shape): Map<string, number[]> {
  const m = new Map<string, number[]>([['esm.embeddings.word_embeddings.weight', [VOCAB, s.d]]]);
  const lin = (n: string, out: number, inp: number) => {
    m.set(`${n}.weight`, [out, inp]);
    m.set(`${n}.bias`, [out]);
  };
  for (let l = 0; l < s.layers; l++) {
    const p = `esm.encoder.layer.${l}`;
    for (const q of ['query', 'key', 'value']) lin(`${p}.attention.self.${q}`, s.d, s.d);
    m.set(`${p}.attention.self.rotary_embeddings.inv_freq`, [s.d / s.heads / 2]);
    lin(`${p}.attention.output.dense`, s.d, s.d);
    m.set(`${p}.attention.LayerNorm.weight`, [s.d]);
    m.set(`${p}.attention.LayerNorm.bias`, [s.d]);
    lin(`${p}.intermediate.dense`, s.ffn, s.d);
    lin(`${p}.output.dense`, s.d, s.ffn);
    m.set(`${p}.LayerNorm.weight`, [s.d]);
    m.set(`${p}.LayerNorm.bias`, [s.d]);
  }
  m.set('esm.encoder.emb_layer_norm_after.weight', [s.d]);
  m.set('esm.encoder.emb_layer_norm_after.bias', [s.d]);
  m.set('esm.contact_head.regression.weight', [1, s.layers * s.heads]);
  m.set('esm.contact_head.regression.bias', [1]);
  lin('lm_head.dense', s.d, s.d);
  m.set('lm_head.layer_norm.weight', [s.d]);
  m.set('lm_head.layer_norm.bias', [s.d]);
  m.set('lm_head.bias', [VOCAB]);
  return m;
}

/** The config.json transformers writes for an EsmForMaskedLM of this shape. */
export function esm2ConfigJson(s: Esm2Shape, dtype: RandomDtype = 'F32'): Record<string, unknown> {
  return {
    _name_or_path: `random-${s.hub.split('/')[1]}`,
    architectures: ['EsmForMaskedLM'],
    attention_probs_dropout_prob: 0.0,
    classifier_dropout: null,
    emb_layer_norm_before: false,
    esmfold_config: null,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.0,
    hidden_size: s.d,
    initializer_range: 0.02,
    intermediate_size: s.ffn,
    is_folding_model: false,
    layer_norm_eps: 1e-5,
    mask_token_id: 32,
    max_position_embeddings: 1026,
    model_type: 'esm',
    num_attention_heads: s.heads,
    num_hidden_layers: s.layers,
    pad_token_id: 1,
    position_embedding_type: 'rotary',
    token_dropout: true,
    torch_dtype: { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[dtype],
    use_cache: true,
    vocab_list: null,
    vocab_size: VOCAB,
  };
}

/** How a tensor's values are drawn: U(lo, hi), or a fixed table. */
function valueRule(name: string, shape: number[], s: Esm2Shape): { lo: number; hi: number } | Float32Array {
  if (name.endsWith('inv_freq')) {
    const hd = s.d / s.heads;
    return Float32Array.from({ length: hd / 2 }, (_, i) => roundF16(1 / 10000 ** ((2 * i) / hd)));
  }
  if (/LayerNorm\.weight$|layer_norm\.weight$|emb_layer_norm_after\.weight$/.test(name)) return { lo: 0.8, hi: 1.2 };
  if (name.endsWith('.bias')) return { lo: -0.1, hi: 0.1 };
  const bound = 1.6 / Math.sqrt(shape[shape.length - 1]);
  return { lo: -bound, hi: bound };
}

/** A tensor's values, generated in order as the writer asks for consecutive byte ranges. */
function randomTensor(name: string, shape: number[], s: Esm2Shape, seed: number, dtype: RandomDtype): StreamedTensor {
  const rule = valueRule(name, shape, s);
  const size = dtype === 'F32' ? 4 : 2;
  let next = 0;
  let state = 0;
  const f32 = new Float32Array(1 << 16);
  const draw = (n: number, base: number): Float32Array => {
    const out = f32.subarray(0, n);
    if (rule instanceof Float32Array) {
      out.set(rule.subarray(base, base + n));
      return out;
    }
    const scale = (rule.hi - rule.lo) / 4294967296;
    let st = state;
    for (let i = 0; i < n; i++) {
      // mulberry32, inlined (see train/rng.ts): billions of draws for the largest shapes
      st = (st + 0x6d2b79f5) | 0;
      let t = st;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      out[i] = rule.lo + ((t ^ (t >>> 14)) >>> 0) * scale;
    }
    state = st;
    return out;
  };
  return {
    dtype,
    shape,
    fill(dst, offset) {
      if (offset === 0) {
        next = 0;
        // the stream's first state, derived from (seed, name) like every other seeded draw
        state = Math.floor(stream(seed, 'random-model', name)() * 4294967296) | 0;
      }
      if (offset !== next * size) throw new Error(`random tensor '${name}': bytes asked out of order`);
      const elems = dst.length / size;
      const bits16 = size === 2 ? new Uint16Array(dst.buffer, dst.byteOffset, elems) : null;
      const out32 = size === 4 ? new Float32Array(dst.buffer, dst.byteOffset, elems) : null;
      for (let done = 0; done < elems; ) {
        const n = Math.min(f32.length, elems - done);
        const v = draw(n, next + done);
        if (out32) out32.set(v, done);
        else if (dtype === 'F16') for (let i = 0; i < n; i++) bits16![done + i] = f32ToF16(v[i]);
        else {
          const u = new Uint32Array(v.buffer, v.byteOffset, n);
          for (let i = 0; i < n; i++) bits16![done + i] = bf16Round(u[i]);
        }
        done += n;
      }
      next += elems;
    },
  };
}

/**
 * Writes a random-weight checkpoint of an ESM-2 shape into dir (created if needed). Returns the
 * size of model.safetensors in bytes.
 */
export async function writeRandomCheckpoint(dir: string, shape: Esm2Shape, o: RandomCheckpointOptions = {}): Promise<number> {
  const seed = o.seed ?? 1;
  const dtype = o.dtype ?? 'F32';
  mkdirSync(dir, { recursive: true });
  const tensors: Record<string, StreamedTensor> = {};
  let total = 0;
  for (const [name, sh] of esm2TensorShapes(shape)) {
    // rotary tables are float32 buffers in every published checkpoint, whatever the weights' dtype
    tensors[name] = randomTensor(name, sh, shape, seed, name.endsWith('inv_freq') ? 'F32' : dtype);
    total += sh.reduce((a, b) => a * b, 1);
  }
  const file = path.join(dir, 'model.safetensors');
  await writeSafetensorsStream(file, tensors, {
    metadata: { format: 'pt', 'plmw.random': `seed=${seed}` }, signal: o.signal, onProgress: o.onProgress,
  });
  writeJsonAtomic(path.join(dir, 'config.json'), esm2ConfigJson(shape, dtype));
  writeFileAtomic(path.join(dir, 'vocab.txt'), `${DEFAULT_VOCAB.join('\n')}\n`);
  return total;
}

const f32Bits = new Float32Array(1);
const u32Bits = new Uint32Array(f32Bits.buffer);

/** float32 -> IEEE half bits, round to nearest even (overflow to infinity, underflow to subnormals/zero). */
export function f32ToF16(v: number): number {
  f32Bits[0] = v;
  const x = u32Bits[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** float32 bits -> bfloat16 bits, round to nearest even. */
function bf16Round(u: number): number {
  if ((u & 0x7f800000) === 0x7f800000 && u & 0x7fffff) return (u >>> 16) | 0x40;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

function roundF16(v: number): number {
  return f16ToF32(f32ToF16(v));
}
