// A loaded ESM-2 checkpoint: config, weight references, tokenizer, and the checkpoint bytes
// handed to onnxruntime as in-memory external data. Float32 tensors are used in place (the
// compiled graph points at their offsets inside model.safetensors); F16/BF16 tensors are
// converted once and inlined.

import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Esm2Config } from './config.js';
import type { WeightRef, WeightSource } from './forward.js';
import { EsmTokenizer } from './tokenizer.js';
import { type Esm2Weights, loadEsm2Weights, readTensorF32 } from './weights.js';

export interface LoadedModel {
  dir: string;
  config: Esm2Config;
  weights: Esm2Weights;
  tokenizer: EsmTokenizer;
  source: WeightSource;
  /** the checkpoint file as onnxruntime external data */
  externalData: { path: string; data: Uint8Array }[];
  /** sha256 of model.safetensors (identifies the model in run records) */
  sha256: string;
}

export function loadModel(dir: string): LoadedModel {
  const weights = loadEsm2Weights(dir);
  const tokenizer = EsmTokenizer.fromModelDir(dir);
  const bytes = readFileSync(weights.path);
  const fileName = path.basename(weights.path);
  const source: WeightSource = {
    get(name: string): WeightRef {
      const ref = weights.tensors.get(name);
      if (!ref) throw new Error(`${weights.path}: no tensor '${name}'`);
      // inv_freq is read as data: layers sharing the same table share one rotary computation.
      if (ref.inPlaceF32 && !name.endsWith('inv_freq')) {
        return { shape: ref.shape, external: { path: fileName, offset: ref.byteOffset, length: ref.byteLength } };
      }
      return { shape: ref.shape, data: readTensorF32(ref) };
    },
    read(name: string): Float32Array {
      const ref = weights.tensors.get(name);
      if (!ref) throw new Error(`${weights.path}: no tensor '${name}'`);
      return readTensorF32(ref);
    },
  };
  return {
    dir,
    config: weights.config,
    weights,
    tokenizer,
    source,
    externalData: [{ path: fileName, data: bytes }],
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}
