// Writes a randomly initialised ESM-2 checkpoint of any shape in the Hugging Face layout, so
// tests can use model shapes that have no fixture. Tensor names and shapes come from the
// product's own table (esm2TensorShapes); the values (returned as float64, as stored) from the
// test's seeded generator, or from `values` when given.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { esm2TensorShapes, f32ToF16 } from '../../src-main/engine/esm2/random-checkpoint.js';
import { type StreamedTensor, f16ToF32, writeSafetensorsStream } from '../../src-main/engine/esm2/safetensors.js';
import { rng } from './gradcheck.js';
import { fixtureModel } from './paths.js';

export interface RandomModelShape {
  d: number;
  layers: number;
  heads: number;
  ffn: number;
  /** store names with the `esm.` prefix (as EsmForMaskedLM does) */
  prefixed?: boolean;
  seed?: number;
  /** storage type of the weights (rotary inv_freq stays F32); values are rounded to it */
  dtype?: 'F32' | 'F16' | 'BF16';
  /** use these values (canonical names) instead of random ones */
  values?: Map<string, Float64Array>;
  /** more tensors in the same file, written in pieces (e.g. a large ignored region) */
  extra?: Record<string, StreamedTensor>;
}

const round = (dtype: 'F32' | 'F16' | 'BF16', v: number): number => {
  if (dtype === 'F16') return f16ToF32(f32ToF16(v));
  if (dtype === 'BF16') {
    const u = new Uint32Array(Float32Array.of(v).buffer)[0];
    return new Float32Array(Uint32Array.of(((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) << 16).buffer)[0];
  }
  return Math.fround(v);
};

function bytesOf(dtype: 'F32' | 'F16' | 'BF16', v: Float64Array): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(Float32Array.from(v).buffer);
  const bits = dtype === 'F16' ? Uint16Array.from(v, f32ToF16) : Uint16Array.from(v, (x) => new Uint32Array(Float32Array.of(x).buffer)[0] >>> 16);
  return new Uint8Array(bits.buffer);
}

export async function writeRandomModel(dir: string, s: RandomModelShape): Promise<Map<string, Float64Array>> {
  mkdirSync(dir, { recursive: true });
  const r = rng(s.seed ?? 5);
  const hd = s.d / s.heads;
  const dtype = s.dtype ?? 'F32';
  const values = new Map<string, Float64Array>();
  const tensors: Record<string, StreamedTensor> = { ...s.extra };
  for (const [stored, shape] of esm2TensorShapes({ ...s, hub: '' })) {
    const name = stored.startsWith('esm.') ? stored.slice(4) : stored;
    const n = shape.reduce((a, b) => a * b, 1);
    const rot = name.endsWith('inv_freq');
    const t = rot ? 'F32' : dtype;
    let v = s.values?.get(name);
    if (!v) {
      if (rot) v = Float64Array.from({ length: n }, (_, i) => 1 / 10000 ** ((2 * i) / hd));
      else if (/LayerNorm\.weight|layer_norm\.weight|emb_layer_norm_after\.weight/.test(name)) v = Float64Array.from({ length: n }, () => 1 + 0.4 * (r() - 0.5));
      else if (name.endsWith('weight')) v = Float64Array.from({ length: n }, () => (2 * r() - 1) * (1.6 / Math.sqrt(shape[shape.length - 1])));
      else v = Float64Array.from({ length: n }, () => 0.2 * (r() - 0.5));
      v = v.map((x) => round(t, x));
    }
    values.set(name, v);
    const bytes = bytesOf(t, v);
    tensors[s.prefixed && !name.startsWith('lm_head') ? stored : name] = { dtype: t, shape, fill: (dst, at) => dst.set(bytes.subarray(at, at + dst.length)) };
  }
  await writeSafetensorsStream(path.join(dir, 'model.safetensors'), tensors);
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      model_type: 'esm', hidden_size: s.d, num_hidden_layers: s.layers, num_attention_heads: s.heads, intermediate_size: s.ffn,
      vocab_size: 33, mask_token_id: 32, pad_token_id: 1, max_position_embeddings: 1026, position_embedding_type: 'rotary',
      token_dropout: true, emb_layer_norm_before: false, layer_norm_eps: 1e-5, hidden_act: 'gelu',
    }),
  );
  copyFileSync(path.join(fixtureModel('tiny'), 'vocab.txt'), path.join(dir, 'vocab.txt'));
  return values;
}
