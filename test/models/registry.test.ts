import { statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEsm2Config, readEsm2Config } from '../../src-main/engine/esm2/config.js';
import { esm2ParameterCount, expectedEsm2Shapes } from '../../src-main/engine/esm2/weights.js';
import { findModelSpec, getModelSpec, listRegistryModels } from '../../src-main/engine/models/registry.js';
import { fixtureModel, shared } from '../helpers/paths.js';

describe('model registry', () => {
  const models = listRegistryModels();

  it('lists the five ESM-2 checkpoints with facebook/ repositories', () => {
    expect(models.map((m) => m.name)).toEqual([
      'esm2_t6_8M_UR50D',
      'esm2_t12_35M_UR50D',
      'esm2_t30_150M_UR50D',
      'esm2_t33_650M_UR50D',
      'esm2_t36_3B_UR50D',
    ]);
    for (const m of models) {
      expect(m.repo).toBe(`facebook/${m.name}`);
      expect(m.files).toEqual(['config.json', 'model.safetensors', 'vocab.txt']);
      expect(m.name).toContain(`_t${m.layers}_`);
    }
    expect(getModelSpec('facebook/esm2_t33_650M_UR50D')).toMatchObject({ layers: 33, hiddenSize: 1280, heads: 20 });
    expect(getModelSpec('esm2_t36_3B_UR50D')).toMatchObject({ layers: 36, hiddenSize: 2560, heads: 40 });
    expect(findModelSpec('esm2_t48_15B_UR50D')).toBeUndefined();
    expect(() => getModelSpec('nope')).toThrow(/unknown model 'nope'; known: esm2_t6_8M_UR50D/);
  });

  it('agrees with the real Hugging Face configs of the first three', () => {
    for (const m of models.slice(0, 3)) {
      const c = readEsm2Config(shared('fixtures/esm2/hf-configs', m.name, 'config.json'));
      expect([m.layers, m.hiddenSize, m.heads, m.intermediateSize, m.vocabSize]).toEqual([
        c.numLayers,
        c.hiddenSize,
        c.numHeads,
        c.intermediateSize,
        c.vocabSize,
      ]);
    }
  });

  it('parameter counts and download sizes follow from the shapes', () => {
    for (const m of models) {
      const c = parseEsm2Config({
        hidden_size: m.hiddenSize,
        num_hidden_layers: m.layers,
        num_attention_heads: m.heads,
        intermediate_size: m.intermediateSize,
        vocab_size: m.vocabSize,
        mask_token_id: 32,
        pad_token_id: 1,
        position_embedding_type: 'rotary',
        layer_norm_eps: 1e-5,
        token_dropout: true,
      });
      expect(m.parameters).toBe(esm2ParameterCount(c));
      let tensorBytes = 0;
      for (const s of expectedEsm2Shapes(c).values()) tensorBytes += 4 * s.reduce((a, b) => a * b, 1);
      expect(Math.abs(m.approxDownloadBytes - tensorBytes) / tensorBytes).toBeLessThan(1e-3);
    }
    // the t6-shape fixture has exactly the tensors of esm2_t6_8M, in float32
    expect(getModelSpec('esm2_t6_8M_UR50D').approxDownloadBytes).toBe(statSync(path.join(fixtureModel('t6-shape'), 'model.safetensors')).size);
    // the names promise sizes: 8M, 35M, 150M, 650M, 3B
    expect(models.map((m) => Math.round(m.parameters / 1e6))).toEqual([8, 34, 148, 651, 2839]);
  });
});
