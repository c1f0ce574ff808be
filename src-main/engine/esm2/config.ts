// ESM-2 configuration from a Hugging Face `config.json`.
//
// Only what the forward graph needs is kept, in camelCase. The checks reject checkpoints this
// engine would run wrongly rather than merely differently: ESM-1b/ESM-1v (absolute position
// embeddings, embedding LayerNorm before the encoder) and ESMFold. Keys that Hugging Face gives
// a default different from ESM-2's value (layer_norm_eps defaults to 1e-12, token_dropout to
// false, position_embedding_type to "absolute") are required explicitly, so a hand-written
// config cannot silently change the numbers.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../data/errors.js';
import { decodeUtf8 } from '../data/utf8.js';
import { DEFAULT_VOCAB } from './tokenizer.js';

export interface Esm2Config {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  /** hiddenSize / numHeads */
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  layerNormEps: number;
  tokenDropout: boolean;
  maskTokenId: number;
  padTokenId: number;
  /** positions the checkpoint was trained with incl. `<cls>`/`<eos>` (1026 = 1024 + 2 offset in HF) */
  maxPositionEmbeddings?: number;
  /** `_name_or_path`, when present */
  name?: string;
  /** the file it came from */
  source: string;
}

/**
 * Bounds on the architecture numbers. The largest published ESM-2 (15B) has 48 layers, hidden
 * size 5120, 40 heads and an intermediate size of 20480; the bounds leave room above that and
 * stop a hand-written or corrupted config (300,000 layers) before any graph or weight table is
 * built from it. Every ESM-2 shares one 33-token alphabet.
 */
export const CONFIG_BOUNDS = {
  num_hidden_layers: { min: 1, max: 256 },
  hidden_size: { min: 2, max: 32_768 },
  num_attention_heads: { min: 1, max: 1024 },
  intermediate_size: { min: 1, max: 131_072 },
  max_position_embeddings: { min: 3, max: 1 << 20 },
} as const;
export const ESM_VOCAB_SIZE = DEFAULT_VOCAB.length;

/** Validate parsed config.json contents. `source` names the file in errors. */
export function parseEsm2Config(json: unknown, source = 'config.json'): Esm2Config {
  const fail = (reason: string): never => {
    throw new InputError(reason, { file: source });
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('config is not a JSON object');
  const c = json as Record<string, unknown>;
  const own = (key: string): unknown => (Object.prototype.hasOwnProperty.call(c, key) ? c[key] : undefined);
  const int = (key: string, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const v = own(key);
    if (v === undefined) return fail(`missing "${key}"`);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) return fail(`"${key}" must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    if (v > max) return fail(`"${key}" is ${v}; at most ${max} is accepted (the largest ESM-2 is far below that: is the file corrupt?)`);
    return v;
  };
  const bounded = (key: keyof typeof CONFIG_BOUNDS) => int(key, CONFIG_BOUNDS[key].min, CONFIG_BOUNDS[key].max);

  if (c.model_type !== undefined && c.model_type !== 'esm') fail(`"model_type" is ${JSON.stringify(c.model_type)}, expected "esm"`);
  if (c.is_folding_model === true) fail('this is an ESMFold checkpoint ("is_folding_model": true), not an ESM-2 language model');
  if (c.position_embedding_type !== 'rotary') {
    fail(
      `"position_embedding_type" is ${c.position_embedding_type === undefined ? 'absent (Hugging Face default "absolute")' : JSON.stringify(c.position_embedding_type)}; ` +
        'ESM-2 uses "rotary" (absolute positions are ESM-1b/ESM-1v, which this engine does not run)',
    );
  }
  if (c.emb_layer_norm_before !== undefined && c.emb_layer_norm_before !== false && c.emb_layer_norm_before !== null) {
    fail(`"emb_layer_norm_before" is ${JSON.stringify(c.emb_layer_norm_before)}; ESM-2 has no LayerNorm before the encoder (ESM-1b does)`);
  }
  if (c.hidden_act !== undefined && c.hidden_act !== 'gelu') fail(`"hidden_act" is ${JSON.stringify(c.hidden_act)}; ESM-2 uses exact (erf) "gelu"`);

  const hiddenSize = bounded('hidden_size');
  const numLayers = bounded('num_hidden_layers');
  const numHeads = bounded('num_attention_heads');
  const intermediateSize = bounded('intermediate_size');
  const vocabSize = int('vocab_size', 1);
  if (vocabSize !== ESM_VOCAB_SIZE) fail(`"vocab_size" is ${vocabSize}; every ESM-2 has the ${ESM_VOCAB_SIZE}-token ESM alphabet`);
  const maskTokenId = int('mask_token_id', 0);
  const padTokenId = int('pad_token_id', 0);
  if (maskTokenId >= vocabSize) fail(`"mask_token_id" ${maskTokenId} is outside the vocabulary of ${vocabSize}`);
  if (padTokenId >= vocabSize) fail(`"pad_token_id" ${padTokenId} is outside the vocabulary of ${vocabSize}`);
  if (hiddenSize % numHeads !== 0) fail(`"hidden_size" ${hiddenSize} is not divisible by "num_attention_heads" ${numHeads}`);
  const headDim = hiddenSize / numHeads;
  if (headDim % 2 !== 0) fail(`head size ${headDim} is odd; rotary embeddings need an even head size`);

  const eps = c.layer_norm_eps;
  if (eps === undefined) fail('missing "layer_norm_eps" (ESM-2 uses 1e-5; the Hugging Face default 1e-12 would change outputs)');
  if (typeof eps !== 'number' || !(eps > 0) || eps >= 1) fail(`"layer_norm_eps" must be a small positive number, got ${JSON.stringify(eps)}`);
  const td = c.token_dropout;
  if (typeof td !== 'boolean') fail(`"token_dropout" must be true or false, got ${td === undefined ? 'nothing' : JSON.stringify(td)}`);

  let maxPositionEmbeddings: number | undefined;
  if (own('max_position_embeddings') !== undefined && c.max_position_embeddings !== null) maxPositionEmbeddings = bounded('max_position_embeddings');

  const cfg: Esm2Config = {
    hiddenSize,
    numLayers,
    numHeads,
    headDim,
    intermediateSize,
    vocabSize,
    layerNormEps: eps as number,
    tokenDropout: td as boolean,
    maskTokenId,
    padTokenId,
    source,
  };
  if (maxPositionEmbeddings !== undefined) cfg.maxPositionEmbeddings = maxPositionEmbeddings;
  if (typeof c._name_or_path === 'string') cfg.name = c._name_or_path;
  return cfg;
}

/** Read `config.json` from a model directory or from the file's own path. */
export function readEsm2Config(dirOrFile: string): Esm2Config {
  let file = dirOrFile;
  try {
    if (statSync(dirOrFile).isDirectory()) file = path.join(dirOrFile, 'config.json');
  } catch {
    throw new InputError('no such file or directory', { file: dirOrFile });
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    throw new InputError('cannot read config.json (a model directory needs config.json and model.safetensors)', { file });
  }
  const text = decodeUtf8(bytes, file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(`not valid JSON: ${(e as Error).message}`, { file });
  }
  return parseEsm2Config(json, file);
}
