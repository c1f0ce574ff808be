// ESM-2 weights: Hugging Face tensor names -> a typed weight set, every shape checked.
//
// Names follow transformers' EsmForMaskedLM: the backbone under `esm.` (embeddings, encoder,
// contact_head) and the MLM head under `lm_head.`. A checkpoint saved from the bare EsmModel has
// no `esm.` prefix; both are accepted (the canonical names used here carry no prefix).
// Nothing is read at load time beyond the safetensors header: each tensor is a TensorRef that
// records where its bytes are (path, offset, length, dtype), so the graph builder can point ONNX
// external data at float32 tensors in place, and `readTensorF32` converts the others (F16/BF16
// checkpoints) when asked.
//
// Deliberate choices:
//  - Rotary `inv_freq` is taken from the checkpoint, never recomputed: published checkpoints
//    store it rounded through float16, and recomputing it in float32 changes the outputs.
//  - The MLM decoder is tied to the word embeddings; `lm_head.decoder.weight` is usually absent
//    (safetensors drops shared tensors) and, when present, only its shape is checked.
//  - `embeddings.position_ids` is a non-learned index buffer some exports carry; it is ignored
//    (listed in `ignored`). Any other unknown tensor is an error, as are missing tensors, wrong
//    shapes and non-float dtypes: all problems are collected and reported together.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../data/errors.js';
import { readEsm2Config, type Esm2Config } from './config.js';
import { type Dtype, type Safetensor, readSafetensors, readTensorData, toFloat32 } from './safetensors.js';

export interface TensorRef {
  /** canonical name, without the `esm.` prefix, e.g. `encoder.layer.0.attention.self.query.weight` */
  name: string;
  /** the name exactly as stored in the file */
  fileName: string;
  /** absolute path of the safetensors file */
  path: string;
  dtype: Dtype;
  shape: number[];
  /** absolute byte offset of the data in the file */
  byteOffset: number;
  byteLength: number;
  /** little-endian float32 at a 4-byte aligned offset: usable in place as ONNX external data */
  inPlaceF32: boolean;
}

export interface LinearWeights {
  /** [out, in], as torch.nn.Linear stores it */
  weight: TensorRef;
  bias: TensorRef;
}

export interface LayerNormWeights {
  weight: TensorRef;
  bias: TensorRef;
}

export interface Esm2LayerWeights {
  query: LinearWeights;
  key: LinearWeights;
  value: LinearWeights;
  /** [headDim/2], the checkpoint's stored rotary frequencies */
  rotaryInvFreq: TensorRef;
  attentionOutput: LinearWeights;
  /** pre-attention LayerNorm */
  attentionLayerNorm: LayerNormWeights;
  intermediate: LinearWeights;
  output: LinearWeights;
  /** pre-FFN LayerNorm */
  finalLayerNorm: LayerNormWeights;
}

export interface Esm2Weights {
  config: Esm2Config;
  /** the safetensors file (for a sharded checkpoint: its model.safetensors.index.json) */
  path: string;
  /** every safetensors file holding weights (one, or the shards), sorted */
  files: string[];
  /** prefix the backbone tensors carry in the file */
  prefix: 'esm.' | '';
  /** [vocab, d]; also the tied MLM decoder weight */
  wordEmbeddings: TensorRef;
  layers: Esm2LayerWeights[];
  embLayerNormAfter: LayerNormWeights;
  lmHead: {
    dense: LinearWeights;
    layerNorm: LayerNormWeights;
    /** [vocab], the decoder bias */
    bias: TensorRef;
    /** present only when the file stores the tied decoder weight explicitly */
    decoderWeight?: TensorRef;
  };
  /** regression over all layers' x heads' APC attention maps: weight [1, L*H], bias [1] */
  contactHead: LinearWeights;
  /** tensors in the file that were recognised as non-weights and skipped */
  ignored: string[];
  /** every weight by canonical name */
  tensors: Map<string, TensorRef>;
}

export interface WeightProblem {
  /** name as it is (or would be) in the file */
  tensor: string;
  problem: string;
}

export class Esm2WeightsError extends InputError {
  override name = 'Esm2WeightsError';
  constructor(
    readonly problems: WeightProblem[],
    file: string,
    summary: string,
  ) {
    const shown = problems.slice(0, 12).map((p) => `${p.tensor}: ${p.problem}`);
    if (problems.length > shown.length) shown.push(`... and ${problems.length - shown.length} more`);
    super(`${summary}; ${problems.length} problem(s): ${shown.join('; ')}`, { file, record: problems[0]?.tensor });
  }
}

const FLOAT_DTYPES: readonly Dtype[] = ['F32', 'F16', 'BF16', 'F64'];
const IGNORED = new Set(['embeddings.position_ids']);
const OPTIONAL = new Set(['lm_head.decoder.weight']);

/** Canonical name -> shape of every tensor an ESM-2 checkpoint of this config holds. */
export function expectedEsm2Shapes(c: Esm2Config, opts: { includeOptional?: boolean } = {}): Map<string, number[]> {
  const d = c.hiddenSize;
  const m = new Map<string, number[]>();
  const lin = (n: string, out: number, inp: number) => {
    m.set(`${n}.weight`, [out, inp]);
    m.set(`${n}.bias`, [out]);
  };
  const ln = (n: string) => {
    m.set(`${n}.weight`, [d]);
    m.set(`${n}.bias`, [d]);
  };
  m.set('embeddings.word_embeddings.weight', [c.vocabSize, d]);
  for (let i = 0; i < c.numLayers; i++) {
    const p = `encoder.layer.${i}`;
    for (const q of ['query', 'key', 'value']) lin(`${p}.attention.self.${q}`, d, d);
    m.set(`${p}.attention.self.rotary_embeddings.inv_freq`, [c.headDim / 2]);
    lin(`${p}.attention.output.dense`, d, d);
    ln(`${p}.attention.LayerNorm`);
    lin(`${p}.intermediate.dense`, c.intermediateSize, d);
    lin(`${p}.output.dense`, d, c.intermediateSize);
    ln(`${p}.LayerNorm`);
  }
  ln('encoder.emb_layer_norm_after');
  m.set('contact_head.regression.weight', [1, c.numLayers * c.numHeads]);
  m.set('contact_head.regression.bias', [1]);
  lin('lm_head.dense', d, d);
  ln('lm_head.layer_norm');
  m.set('lm_head.bias', [c.vocabSize]);
  if (opts.includeOptional) m.set('lm_head.decoder.weight', [c.vocabSize, d]);
  return m;
}

/** Learned parameters of an ESM-2 of this config (rotary inv_freq is a buffer; decoder is tied). */
export function esm2ParameterCount(c: Esm2Config): number {
  let n = 0;
  for (const [name, shape] of expectedEsm2Shapes(c)) {
    if (!name.endsWith('.inv_freq')) n += shape.reduce((a, b) => a * b, 1);
  }
  return n;
}

function looksLikeFairEsm(names: string[]): boolean {
  return names.some((n) => /^(encoder\.sentence_encoder\.|embed_tokens\.|layers\.\d+\.self_attn\.)/.test(n));
}

export const SHARD_INDEX = 'model.safetensors.index.json';

/**
 * The safetensors files of a model directory: model.safetensors, or the shards a Hub
 * `model.safetensors.index.json` names (its `weight_map`: tensor name -> shard file in the same
 * directory). Directories holding only PyTorch pickles are refused with what to do about it.
 */
export function checkpointFiles(modelDir: string): { files: string[]; index?: string; shardOf?: Map<string, string> } {
  const single = path.join(modelDir, 'model.safetensors');
  if (existsSync(single) && statSync(single).isFile()) return { files: [single] };
  const index = path.join(modelDir, SHARD_INDEX);
  if (existsSync(index)) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(index, 'utf8'));
    } catch (e) {
      throw new InputError(`not valid JSON (${(e as Error).message})`, { file: index });
    }
    const map = (json as { weight_map?: unknown } | null)?.weight_map;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new InputError('no "weight_map" object', { file: index });
    const shardOf = new Map<string, string>();
    const files = new Set<string>();
    for (const [name, shard] of Object.entries(map as Record<string, unknown>)) {
      // a shard is a file beside the index: no directories, so an index cannot point elsewhere
      if (typeof shard !== 'string' || !/^[^/\\]+\.safetensors$/.test(shard) || shard.startsWith('.')) {
        throw new InputError(`weight_map entry for '${name}' is ${JSON.stringify(shard)}, not a .safetensors file name in this folder`, { file: index, record: name });
      }
      const f = path.join(modelDir, shard);
      if (!files.has(f) && !(existsSync(f) && statSync(f).isFile())) throw new InputError(`shard ${shard} (holding '${name}') not found`, { file: index, record: name });
      files.add(f);
      shardOf.set(name, f);
    }
    if (files.size === 0) throw new InputError('"weight_map" names no tensors', { file: index });
    return { files: [...files].sort(), index, shardOf };
  }
  const bins = ['pytorch_model.bin', 'pytorch_model.bin.index.json'].filter((f) => existsSync(path.join(modelDir, f)));
  const hint = bins.length
    ? ` (found ${bins.join(' and ')}: this engine reads safetensors only; convert it first, e.g. with transformers: ` +
      'EsmForMaskedLM.from_pretrained(DIR).save_pretrained(DIR, safe_serialization=True))'
    : '';
  throw new InputError(`model weights not found${hint}`, { file: single });
}

/**
 * Map and check the weights of a Hugging Face ESM-2 model directory (config.json +
 * model.safetensors, or the shards of model.safetensors.index.json). `opts.config` skips
 * reading config.json; `opts.weightsFile` names a different safetensors file.
 */
export function loadEsm2Weights(modelDir: string, opts: { config?: Esm2Config; weightsFile?: string } = {}): Esm2Weights {
  const config = opts.config ?? readEsm2Config(modelDir);
  const found = opts.weightsFile ? { files: [path.resolve(opts.weightsFile)] } : checkpointFiles(path.resolve(modelDir));
  const file = found.index ?? found.files[0];
  if (!existsSync(found.files[0]) || !statSync(found.files[0]).isFile()) throw new InputError('model weights not found', { file: found.files[0] });
  const st = { tensors: new Map<string, Safetensor & { path: string }>() };
  const problems: WeightProblem[] = [];
  for (const f of found.files) {
    for (const t of readSafetensors(f).tensors.values()) {
      const listed = found.shardOf?.get(t.name);
      if (found.shardOf && listed !== f) {
        if (listed) problems.push({ tensor: t.name, problem: `found in ${path.basename(f)} but the index names ${path.basename(listed)}` });
        else problems.push({ tensor: t.name, problem: `in ${path.basename(f)} but not in the index's weight_map` });
        continue;
      }
      st.tensors.set(t.name, { ...t, path: f });
    }
  }
  for (const [name, f] of found.shardOf ?? []) {
    if (!st.tensors.has(name) && !problems.some((p) => p.tensor === name)) problems.push({ tensor: name, problem: `listed in the index but not in ${path.basename(f)}` });
  }
  const expected = expectedEsm2Shapes(config, { includeOptional: true });
  const fileNames = [...st.tensors.keys()];
  const prefix: 'esm.' | '' = fileNames.some((n) => n.startsWith('esm.')) ? 'esm.' : '';
  const shownName = (canonical: string) => (canonical.startsWith('lm_head.') ? canonical : prefix + canonical);

  const tensors = new Map<string, TensorRef>();
  const ignored: string[] = [];
  for (const t of st.tensors.values()) {
    const canonical = t.name.startsWith('esm.') ? t.name.slice(4) : t.name;
    if (IGNORED.has(canonical)) {
      ignored.push(t.name);
      continue;
    }
    const shape = expected.get(canonical);
    if (!shape) {
      problems.push({ tensor: t.name, problem: 'unexpected tensor (not part of an ESM-2 of this config)' });
      continue;
    }
    if (tensors.has(canonical)) {
      problems.push({ tensor: t.name, problem: `stored twice (also as '${tensors.get(canonical)!.fileName}')` });
      continue;
    }
    if (t.shape.length !== shape.length || t.shape.some((v, i) => v !== shape[i])) {
      problems.push({ tensor: t.name, problem: `shape [${t.shape}] but the config implies [${shape}]` });
    }
    if (!FLOAT_DTYPES.includes(t.dtype)) problems.push({ tensor: t.name, problem: `dtype ${t.dtype} is not a float type` });
    tensors.set(canonical, {
      name: canonical,
      fileName: t.name,
      path: t.path,
      dtype: t.dtype,
      shape: t.shape,
      byteOffset: t.byteOffset,
      byteLength: t.byteLength,
      inPlaceF32: t.dtype === 'F32' && t.byteOffset % 4 === 0,
    });
  }
  for (const name of expected.keys()) {
    if (!tensors.has(name) && !OPTIONAL.has(name)) problems.push({ tensor: shownName(name), problem: 'missing' });
  }
  if (problems.length > 0) {
    let summary = `weights do not match an ESM-2 with ${config.numLayers} layers, hidden size ${config.hiddenSize}, ${config.numHeads} heads, intermediate ${config.intermediateSize}, vocabulary ${config.vocabSize}`;
    if (looksLikeFairEsm(fileNames)) summary += ' (names look like a fair-esm checkpoint; convert it to the Hugging Face layout)';
    throw new Esm2WeightsError(problems, file, summary);
  }

  const g = (n: string) => tensors.get(n)!;
  const lin = (n: string): LinearWeights => ({ weight: g(`${n}.weight`), bias: g(`${n}.bias`) });
  const layers: Esm2LayerWeights[] = [];
  for (let i = 0; i < config.numLayers; i++) {
    const p = `encoder.layer.${i}`;
    layers.push({
      query: lin(`${p}.attention.self.query`),
      key: lin(`${p}.attention.self.key`),
      value: lin(`${p}.attention.self.value`),
      rotaryInvFreq: g(`${p}.attention.self.rotary_embeddings.inv_freq`),
      attentionOutput: lin(`${p}.attention.output.dense`),
      attentionLayerNorm: lin(`${p}.attention.LayerNorm`),
      intermediate: lin(`${p}.intermediate.dense`),
      output: lin(`${p}.output.dense`),
      finalLayerNorm: lin(`${p}.LayerNorm`),
    });
  }
  const w: Esm2Weights = {
    config,
    path: file,
    files: found.files,
    prefix,
    wordEmbeddings: g('embeddings.word_embeddings.weight'),
    layers,
    embLayerNormAfter: lin('encoder.emb_layer_norm_after'),
    lmHead: { dense: lin('lm_head.dense'), layerNorm: lin('lm_head.layer_norm'), bias: g('lm_head.bias') },
    contactHead: lin('contact_head.regression'),
    ignored,
    tensors,
  };
  const dec = tensors.get('lm_head.decoder.weight');
  if (dec) w.lmHead.decoderWeight = dec;
  return w;
}

/** A tensor's data as float32 (read from disk each call; F16/BF16/F64 converted). */
export function readTensorF32(ref: TensorRef): Float32Array {
  return toFloat32(ref.dtype, readTensorData(ref.path, ref));
}
