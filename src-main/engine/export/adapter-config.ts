// adapter_config.json of a Hugging Face PEFT adapter folder, read as a stranger's file: strict
// UTF-8, valid JSON, an object, and bounds on every field an importer acts on. Fields are
// checked only when present (PEFT releases differ in which they write) and unknown fields are
// left alone, as PEFT's own loader does; what comes back is the parsed object itself, so an
// importer reads the fields it needs knowing that their types and sizes hold. Every failure is
// an InputError naming the file and the field.
import { InputError } from '../data/errors.js';
import { decodeUtf8 } from '../data/utf8.js';
import { readFileSync } from 'node:fs';

/** PEFT types an importer may meet; only some are importable (the importer says which). */
export const PEFT_TYPES = ['LORA', 'IA3', 'PROMPT_TUNING', 'PREFIX_TUNING', 'P_TUNING', 'ADALORA', 'LOHA', 'LOKR', 'OFT', 'BOFT', 'VERA', 'FOURIERFT', 'LN_TUNING', 'POLY', 'XLORA', 'HRA', 'VBLORA', 'CPT', 'BONE', 'MULTITASK_PROMPT_TUNING', 'ADAPTION_PROMPT'] as const;

/** Upper bounds: far above any real adapter of any ESM-2, far below what would exhaust memory. */
export const ADAPTER_BOUNDS = { rank: 65_536, layers: 4096, virtualTokens: 100_000, modules: 10_000, nameLength: 1000 } as const;

export type AdapterConfig = Record<string, unknown> & { peft_type: (typeof PEFT_TYPES)[number] };

/** Check parsed adapter_config.json contents; `file` names it in errors. */
export function checkAdapterConfig(json: unknown, file: string): AdapterConfig {
  const fail = (reason: string): never => {
    throw new InputError(reason, { file });
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('adapter config is not a JSON object');
  const c = json as Record<string, unknown>;
  const has = (k: string) => Object.prototype.hasOwnProperty.call(c, k) && c[k] !== null && c[k] !== undefined;
  const show = (v: unknown) => {
    const s = JSON.stringify(v) ?? String(v);
    return s.length > 60 ? `${s.slice(0, 60)}...` : s;
  };

  const type = c.peft_type;
  if (!Object.prototype.hasOwnProperty.call(c, 'peft_type')) fail('missing "peft_type"');
  if (typeof type !== 'string' || !(PEFT_TYPES as readonly string[]).includes(type)) fail(`"peft_type" ${show(type)} is not a PEFT type`);

  const int = (k: string, min: number, max: number) => {
    if (!has(k)) return;
    const v = c[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) fail(`"${k}" must be an integer from ${min} to ${max}, got ${show(v)}`);
  };
  const num = (k: string, min: number, maxExclusive: number) => {
    if (!has(k)) return;
    const v = c[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v >= maxExclusive) fail(`"${k}" must be a number in [${min}, ${maxExclusive}), got ${show(v)}`);
  };
  const bool = (k: string) => {
    if (has(k) && typeof c[k] !== 'boolean') fail(`"${k}" must be true or false, got ${show(c[k])}`);
  };
  const str = (k: string) => {
    if (has(k) && (typeof c[k] !== 'string' || (c[k] as string).length > ADAPTER_BOUNDS.nameLength)) fail(`"${k}" must be a string of at most ${ADAPTER_BOUNDS.nameLength} characters, got ${show(c[k])}`);
  };
  /** a module name or pattern, or a list of them */
  const modules = (k: string) => {
    if (!has(k)) return;
    const v = c[k];
    const ok = (s: unknown) => typeof s === 'string' && s.length > 0 && s.length <= ADAPTER_BOUNDS.nameLength;
    if (typeof v === 'string' ? !ok(v) : !Array.isArray(v) || v.length > ADAPTER_BOUNDS.modules || !v.every(ok)) {
      fail(`"${k}" must be a module name, a pattern, or a list of up to ${ADAPTER_BOUNDS.modules} names, got ${show(v)}`);
    }
  };

  str('base_model_name_or_path');
  str('task_type');
  str('revision');
  bool('inference_mode');
  modules('target_modules');
  modules('modules_to_save');
  modules('feedforward_modules');
  modules('exclude_modules');
  if (has('layers_to_transform')) {
    const v = c.layers_to_transform;
    const layer = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 && x < ADAPTER_BOUNDS.layers;
    if (Array.isArray(v) ? v.length > ADAPTER_BOUNDS.layers || !v.every(layer) || new Set(v).size !== v.length : !layer(v)) {
      fail(`"layers_to_transform" must be a layer index or a list of distinct layer indices below ${ADAPTER_BOUNDS.layers}, got ${show(v)}`);
    }
  }
  if (has('layers_pattern') && typeof c.layers_pattern !== 'string' && !(Array.isArray(c.layers_pattern) && c.layers_pattern.every((s) => typeof s === 'string'))) {
    fail(`"layers_pattern" must be a string or a list of strings, got ${show(c.layers_pattern)}`);
  }
  int('r', 1, ADAPTER_BOUNDS.rank);
  num('lora_alpha', 0, Number.MAX_VALUE);
  num('lora_dropout', 0, 1);
  bool('use_dora');
  bool('use_rslora');
  bool('fan_in_fan_out');
  if (has('bias') && !['none', 'all', 'lora_only'].includes(c.bias as string)) fail(`"bias" must be "none", "all" or "lora_only", got ${show(c.bias)}`);
  int('num_virtual_tokens', 1, ADAPTER_BOUNDS.virtualTokens);
  int('token_dim', 1, 1 << 20);
  int('num_attention_heads', 1, 1 << 16);
  int('num_layers', 1, ADAPTER_BOUNDS.layers);
  int('num_transformer_submodules', 1, 2);
  if (type === 'LORA' && !has('r')) fail('a LORA adapter needs "r"');
  if ((type === 'PROMPT_TUNING' || type === 'PREFIX_TUNING' || type === 'P_TUNING') && !has('num_virtual_tokens')) fail(`a ${type} adapter needs "num_virtual_tokens"`);
  return c as AdapterConfig;
}

/** Read and check an adapter_config.json file. */
export function readAdapterConfig(file: string): AdapterConfig {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new InputError(`cannot read the adapter config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file });
  }
  let json: unknown;
  try {
    json = JSON.parse(decodeUtf8(bytes, file));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`not valid JSON: ${(e as Error).message}`, { file });
  }
  return checkAdapterConfig(json, file);
}
