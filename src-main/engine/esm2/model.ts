// A loaded ESM-2 checkpoint: config, weight references, tokenizer, and the folder onnxruntime
// reads the weights from. Checkpoint bytes never pass through the JavaScript heap: the compiled
// graphs point their initializers at byte ranges of the safetensors file(s), and onnxruntime
// maps those files itself (`weightsDir`), so every session of a model shares one copy of the
// weights in the page cache and no file size limit applies. Checkpoints that cannot be used in
// place (F16/BF16/F64 weights, misaligned F32) are converted once, in pieces, into a float32
// copy in the user data folder (cache/float32/<sha256>/), which is then used the same way.

import { closeSync, existsSync, mkdirSync, openSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { plmwHome } from '../models/store.js';
import type { Esm2Config } from './config.js';
import type { WeightRef, WeightSource } from './forward.js';
import { type StreamedTensor, writeSafetensorsStream } from './safetensors.js';
import { EsmTokenizer } from './tokenizer.js';
import { type Esm2Weights, type TensorRef, loadEsm2Weights, readTensorF32 } from './weights.js';

export interface LoadedModel {
  dir: string;
  config: Esm2Config;
  weights: Esm2Weights;
  tokenizer: EsmTokenizer;
  source: WeightSource;
  /** folder the graphs' external weight locations are relative to (for onnxruntime) */
  weightsDir: string;
  /** bytes of weight data onnxruntime maps */
  weightBytes: number;
  /**
   * sha256 of model.safetensors (of the shards concatenated in file-name order for a sharded
   * checkpoint): identifies the model in run records. Computed on first use, streaming.
   */
  readonly sha256: string;
}

export interface LoadModelOptions {
  /** user data folder for the float32 cache (default: $PLMW_HOME or ~/.plm-workbench) */
  home?: string;
  signal?: AbortSignal;
  onProgress?: (p: { phase: 'converting weights'; done: number; total: number }) => void;
}

/** sha256 over files read in 16 MiB pieces (never the whole file in memory). */
export function sha256Files(files: readonly string[]): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(16 << 20);
  for (const f of files) {
    const fd = openSync(f, 'r');
    try {
      for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
    } finally {
      closeSync(fd);
    }
  }
  return h.digest('hex');
}

export async function loadModel(dir: string, o: LoadModelOptions = {}): Promise<LoadedModel> {
  const original = loadEsm2Weights(dir);
  const tokenizer = EsmTokenizer.fromModelDir(dir);
  let hash: string | undefined;
  const sha256 = () => (hash ??= sha256Files(original.files));
  let weights = original;
  if (![...original.tensors.values()].every((t) => t.inPlaceF32)) {
    const file = await float32Copy(original, sha256(), o);
    weights = loadEsm2Weights(dir, { config: original.config, weightsFile: file });
  }
  const refs = [...weights.tensors.values()];
  const weightsDir = path.dirname(weights.files[0]);
  const source: WeightSource = {
    get(name: string): WeightRef {
      const ref = weights.tensors.get(name);
      if (!ref) throw new Error(`${weights.path}: no tensor '${name}'`);
      // inv_freq is read as data: layers sharing the same table share one rotary computation.
      if (name.endsWith('inv_freq')) return { shape: ref.shape, data: readTensorF32(ref) };
      return { shape: ref.shape, external: { path: path.basename(ref.path), offset: ref.byteOffset, length: ref.byteLength } };
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
    weightsDir,
    weightBytes: refs.reduce((a, t) => a + t.byteLength, 0),
    get sha256() {
      return sha256();
    },
  };
}

/**
 * The float32 copy of a checkpoint whose weights cannot be used in place, written once (in
 * pieces, temporary name then rename) under the user data folder, keyed by the checkpoint's
 * sha256. Returns the copy's path.
 */
async function float32Copy(w: Esm2Weights, sha256: string, o: LoadModelOptions): Promise<string> {
  const dir = path.join(o.home ?? plmwHome(), 'cache', 'float32', sha256);
  const file = path.join(dir, 'model.safetensors');
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  const tensors: Record<string, StreamedTensor> = {};
  let total = 0;
  for (const ref of w.tensors.values()) {
    tensors[ref.fileName] = convertedTensor(ref);
    total += ref.byteLength;
  }
  let done = 0;
  await writeSafetensorsStream(file, tensors, {
    metadata: { format: 'pt', 'plmw.float32_of': sha256 },
    signal: o.signal,
    onProgress: (written) => {
      done = written;
      o.onProgress?.({ phase: 'converting weights', done, total });
    },
  });
  return file;
}

/** A tensor converted to float32 when the writer first asks for it (one tensor in memory at a time). */
function convertedTensor(ref: TensorRef): StreamedTensor {
  let data: Uint8Array | null = null;
  return {
    dtype: 'F32',
    shape: ref.shape,
    fill(dst, offset) {
      if (offset === 0 || !data) {
        const f = readTensorF32(ref);
        data = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
      }
      dst.set(data.subarray(offset, offset + dst.length));
      if (offset + dst.length >= data.length) data = null;
    },
  };
}
