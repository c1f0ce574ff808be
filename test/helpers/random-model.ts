// Writes a randomly initialised ESM-2 checkpoint of any shape in the Hugging Face layout, so
// tests can use model shapes that have no fixture.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeSafetensors } from '../../src-main/engine/esm2/safetensors.js';
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
}

export async function writeRandomModel(dir: string, s: RandomModelShape): Promise<Map<string, Float64Array>> {
  mkdirSync(dir, { recursive: true });
  const r = rng(s.seed ?? 5);
  const V = 33;
  const hd = s.d / s.heads;
  const shapes = new Map<string, number[]>([['embeddings.word_embeddings.weight', [V, s.d]]]);
  for (let l = 0; l < s.layers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const n of ['query', 'key', 'value']) {
      shapes.set(`${p}attention.self.${n}.weight`, [s.d, s.d]);
      shapes.set(`${p}attention.self.${n}.bias`, [s.d]);
    }
    shapes.set(`${p}attention.self.rotary_embeddings.inv_freq`, [hd / 2]);
    shapes.set(`${p}attention.output.dense.weight`, [s.d, s.d]);
    shapes.set(`${p}attention.output.dense.bias`, [s.d]);
    shapes.set(`${p}attention.LayerNorm.weight`, [s.d]);
    shapes.set(`${p}attention.LayerNorm.bias`, [s.d]);
    shapes.set(`${p}intermediate.dense.weight`, [s.ffn, s.d]);
    shapes.set(`${p}intermediate.dense.bias`, [s.ffn]);
    shapes.set(`${p}output.dense.weight`, [s.d, s.ffn]);
    shapes.set(`${p}output.dense.bias`, [s.d]);
    shapes.set(`${p}LayerNorm.weight`, [s.d]);
    shapes.set(`${p}LayerNorm.bias`, [s.d]);
  }
  shapes.set('encoder.emb_layer_norm_after.weight', [s.d]);
  shapes.set('encoder.emb_layer_norm_after.bias', [s.d]);
  shapes.set('contact_head.regression.weight', [1, s.layers * s.heads]);
  shapes.set('contact_head.regression.bias', [1]);
  shapes.set('lm_head.dense.weight', [s.d, s.d]);
  shapes.set('lm_head.dense.bias', [s.d]);
  shapes.set('lm_head.layer_norm.weight', [s.d]);
  shapes.set('lm_head.layer_norm.bias', [s.d]);
  shapes.set('lm_head.bias', [V]);

  const values = new Map<string, Float64Array>();
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [name, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    let v: Float32Array;
    if (name.endsWith('inv_freq')) v = Float32Array.from({ length: n }, (_, i) => 1 / 10000 ** ((2 * i) / hd));
    else if (/LayerNorm\.weight|layer_norm\.weight|emb_layer_norm_after\.weight/.test(name)) v = Float32Array.from({ length: n }, () => 1 + 0.4 * (r() - 0.5));
    else if (name.endsWith('weight')) v = Float32Array.from({ length: n }, () => (2 * r() - 1) * (1.6 / Math.sqrt(shape[shape.length - 1])));
    else v = Float32Array.from({ length: n }, () => 0.2 * (r() - 0.5));
    values.set(name, Float64Array.from(v));
    const stored = s.prefixed && !name.startsWith('lm_head') ? `esm.${name}` : name;
    tensors[stored] = { dtype: 'F32', shape, data: v };
  }
  await writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      model_type: 'esm', hidden_size: s.d, num_hidden_layers: s.layers, num_attention_heads: s.heads, intermediate_size: s.ffn,
      vocab_size: V, mask_token_id: 32, pad_token_id: 1, max_position_embeddings: 1026, position_embedding_type: 'rotary',
      token_dropout: true, emb_layer_norm_before: false, layer_norm_eps: 1e-5, hidden_act: 'gelu',
    }),
  );
  copyFileSync(path.join(fixtureModel('tiny'), 'vocab.txt'), path.join(dir, 'vocab.txt'));
  return values;
}
