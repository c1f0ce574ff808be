// adapter_config.json as Hugging Face PEFT writes it (releases 0.7.1 to 0.14), read for import.
//
// Every key is checked against the fields of PEFT's config class for the file's peft_type; a
// wrong type or a value this engine cannot represent is refused with an InputError naming the
// file, the key and the value, and nothing is ignored silently: keys that only steer how PEFT
// initialises a new adapter (init_lora_weights, prompt_tuning_init, ...) are accepted, and keys
// of later PEFT releases or unknown keys are accepted only with a neutral value (null, false,
// empty) and reported in `notes`. Any other problem is an InputError too, never another error.
import { readFileSync } from 'node:fs';
import { InputError } from '../data/errors.js';
import { decodeUtf8 } from '../data/utf8.js';
import { pyRegex } from './peft-modules.js';

export const PEFT_TYPES = ['LORA', 'IA3', 'PROMPT_TUNING'] as const;
export type PeftType = (typeof PEFT_TYPES)[number];
/** Task types of per-residue models (the others are sequence-level or generative). */
export const PEFT_TASK_TYPES = ['TOKEN_CLS', 'FEATURE_EXTRACTION'] as const;

/** A target/feedforward/exclude list as PEFT takes it: a list of suffixes, or a full-match regex. */
export type ModuleSelector = string[] | string;

export interface LoraFields {
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: ModuleSelector;
  exclude_modules: ModuleSelector | null;
  fan_in_fan_out: boolean;
  bias: 'none' | 'all' | 'lora_only';
  use_rslora: boolean;
  use_dora: boolean;
  lora_bias: boolean;
  modules_to_save: string[] | null;
  layers_to_transform: number[] | number | null;
  layers_pattern: string[] | string | null;
  rank_pattern: Record<string, number>;
  alpha_pattern: Record<string, number>;
}

export interface Ia3Fields {
  target_modules: ModuleSelector;
  exclude_modules: ModuleSelector | null;
  feedforward_modules: ModuleSelector | null;
  fan_in_fan_out: boolean;
  modules_to_save: string[] | null;
}

export interface PromptFields {
  num_virtual_tokens: number;
  token_dim: number | null;
  num_transformer_submodules: number | null;
  num_attention_heads: number | null;
  num_layers: number | null;
}

interface Common {
  file: string;
  /** the file's JSON, unchanged */
  raw: Record<string, unknown>;
  task_type: (typeof PEFT_TASK_TYPES)[number] | null;
  base_model_name_or_path: string | null;
  revision: string | null;
  /** auto_mapping.base_model_class, when given */
  baseModelClass: string | null;
  /** what was accepted that a reader might not expect (later-release keys, init-only settings) */
  notes: string[];
}

export type PeftConfig =
  | (Common & { peft_type: 'LORA' } & LoraFields)
  | (Common & { peft_type: 'IA3' } & Ia3Fields)
  | (Common & { peft_type: 'PROMPT_TUNING' } & PromptFields);

const COMMON_KEYS = ['peft_type', 'auto_mapping', 'base_model_name_or_path', 'revision', 'task_type', 'inference_mode'];
/** Fields of each config class over PEFT 0.7.1, 0.10.0 and 0.14.0 (test/export checks this against PEFT's own lists). */
export const PEFT_FIELDS: Record<PeftType, readonly string[]> = {
  LORA: [
    ...COMMON_KEYS, 'r', 'target_modules', 'exclude_modules', 'lora_alpha', 'lora_dropout', 'fan_in_fan_out', 'bias', 'use_rslora', 'modules_to_save',
    'init_lora_weights', 'layers_to_transform', 'layers_pattern', 'rank_pattern', 'alpha_pattern', 'megatron_config', 'megatron_core', 'loftq_config',
    'eva_config', 'use_dora', 'layer_replication', 'runtime_config', 'lora_bias',
  ],
  IA3: [...COMMON_KEYS, 'target_modules', 'exclude_modules', 'feedforward_modules', 'fan_in_fan_out', 'modules_to_save', 'init_ia3_weights'],
  PROMPT_TUNING: [
    ...COMMON_KEYS, 'num_virtual_tokens', 'token_dim', 'num_transformer_submodules', 'num_attention_heads', 'num_layers',
    'prompt_tuning_init', 'prompt_tuning_init_text', 'tokenizer_name_or_path', 'tokenizer_kwargs',
  ],
};

/** Initialisations that rewrite the base weights (the saved adapter then needs that rewritten base). */
const BASE_REWRITING_INIT = /^(loftq|pissa.*|olora|corda)$/;

const show = (v: unknown) => JSON.stringify(v);

export function readPeftConfig(file: string): PeftConfig {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new InputError(`cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file });
  }
  return parsePeftConfig(decodeUtf8(bytes, file), file);
}

export function parsePeftConfig(text: string, file: string): PeftConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const pos = /position (\d+)/.exec((e as Error).message);
    const loc = pos ? lineColumn(text, Number(pos[1])) : {};
    throw new InputError(`not valid JSON (${(e as Error).message})`, { file, ...loc });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InputError('expected a JSON object of PEFT config fields', { file });
  const raw = json as Record<string, unknown>;
  const fail = (key: string, why: string): never => {
    throw new InputError(`key '${key}': ${why}`, { file });
  };
  const notes: string[] = [];
  const has = (k: string) => Object.prototype.hasOwnProperty.call(raw, k);
  const get = (k: string) => raw[k];

  if (!has('peft_type')) fail('peft_type', 'missing (PEFT refuses a config without it)');
  const peftType = get('peft_type');
  if (typeof peftType !== 'string') return fail('peft_type', `expected a string, got ${show(peftType)}`);
  if (!(PEFT_TYPES as readonly string[]).includes(peftType)) {
    return fail('peft_type', `${show(peftType)} is not supported: this workbench imports ${PEFT_TYPES.join(', ')} (DoRA is LORA with use_dora)`);
  }
  const type = peftType as PeftType;

  // -- typed readers (each names the key and the value it refuses)
  const bool = (k: string, dflt: boolean): boolean => {
    const v = has(k) ? get(k) : dflt;
    return typeof v === 'boolean' ? v : fail(k, `expected true or false, got ${show(v)}`);
  };
  /** dflt: the value when the key is absent; null = the field may be null; undefined = required */
  const int = (k: string, min: number, dflt?: number | null): number | null => {
    if (!has(k) && dflt === undefined) return fail(k, 'missing');
    const v = has(k) ? get(k) : dflt;
    if (v === null && dflt === null) return null;
    return Number.isInteger(v) && (v as number) >= min ? (v as number) : fail(k, `expected a whole number >= ${min}, got ${show(v)}`);
  };
  const num = (k: string, dflt: number, o: { min?: number; max?: number } = {}): number => {
    const v = has(k) ? get(k) : dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || (o.min !== undefined && v < o.min) || (o.max !== undefined && v > o.max)) {
      return fail(k, `expected a number${o.min !== undefined ? ` >= ${o.min}` : ''}${o.max !== undefined ? ` and <= ${o.max}` : ''}, got ${show(v)}`);
    }
    return v;
  };
  const str = (k: string): string | null => {
    const v = has(k) ? get(k) : null;
    return v === null || typeof v === 'string' ? (v as string | null) : fail(k, `expected a string or null, got ${show(v)}`);
  };
  const strList = (k: string): string[] | null => {
    const v = has(k) ? get(k) : null;
    if (v === null) return null;
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : fail(k, `expected a list of strings or null, got ${show(v)}`);
  };
  const selector = (k: string, required: boolean): ModuleSelector | null => {
    const v = has(k) ? get(k) : null;
    if (v === null) return required ? fail(k, 'null: PEFT fills it from the model type when an adapter is made, so a saved adapter names its modules; this one does not') : null;
    if (typeof v === 'string') {
      if (v.toLowerCase() === 'all-linear') return fail(k, `${show(v)} is a shorthand PEFT expands when the adapter is made (and which PEFT 0.7 reads as a regex): give the module names`);
      pyRegex(v, 'full', { file, key: k });
      return v;
    }
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
      if (required && v.length === 0) return fail(k, 'an empty list selects no module');
      return v as string[];
    }
    return fail(k, `expected a list of module names or a regex string, got ${show(v)}`);
  };
  const patternMap = (k: string, isInt: boolean): Record<string, number> => {
    const v = has(k) ? get(k) : {};
    if (v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) return fail(k, `expected an object of module pattern -> ${isInt ? 'rank' : 'alpha'}, got ${show(v)}`);
    for (const [p, x] of Object.entries(v as Record<string, unknown>)) {
      pyRegex(`.*\\.${p}$`, 'start', { file, key: k });
      const ok = isInt ? Number.isInteger(x) && (x as number) >= 1 : typeof x === 'number' && Number.isFinite(x);
      if (!ok) fail(k, `pattern ${show(p)} has ${show(x)}, expected ${isInt ? 'a whole number >= 1' : 'a number'}`);
    }
    return v as Record<string, number>;
  };
  const neutral = (v: unknown) => v === null || v === false || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && Object.keys(v).length === 0);

  // -- keys outside the class's fields: PEFT 0.7.1/0.10 refuse them, 0.14 drops them with a warning
  const fields = new Set(PEFT_FIELDS[type]);
  for (const k of Object.keys(raw)) {
    if (fields.has(k)) continue;
    if (neutral(raw[k])) notes.push(`${k} = ${show(raw[k])}: not a field of PEFT 0.7.1-0.14 ${className(type)}; read as switched off`);
    else fail(k, `${show(raw[k])} is not a field of PEFT 0.7.1-0.14 ${className(type)}, and this importer does not know what it changes`);
  }

  // -- common fields
  const taskType = has('task_type') ? get('task_type') : null;
  if (taskType !== null && !(PEFT_TASK_TYPES as readonly unknown[]).includes(taskType)) {
    fail('task_type', `${show(taskType)} is not a per-residue task: this workbench imports ${PEFT_TASK_TYPES.join(', ')} adapters and adapters without a task type`);
  }
  bool('inference_mode', false);
  const auto = has('auto_mapping') ? get('auto_mapping') : null;
  let baseModelClass: string | null = null;
  if (auto !== null) {
    if (typeof auto !== 'object' || Array.isArray(auto)) fail('auto_mapping', `expected an object or null, got ${show(auto)}`);
    const bc = (auto as Record<string, unknown>).base_model_class;
    if (bc !== undefined && typeof bc !== 'string') fail('auto_mapping', `base_model_class must be a string, got ${show(bc)}`);
    baseModelClass = (bc as string | undefined) ?? null;
  }
  const common: Common = {
    file, raw, task_type: taskType as Common['task_type'], base_model_name_or_path: str('base_model_name_or_path'), revision: str('revision'), baseModelClass, notes,
  };

  if (type === 'LORA') {
    const r = int('r', 1, 8)!;
    const init = has('init_lora_weights') ? get('init_lora_weights') : true;
    if (typeof init !== 'boolean' && typeof init !== 'string') fail('init_lora_weights', `expected true, false or an initialisation name, got ${show(init)}`);
    if (typeof init === 'string' && BASE_REWRITING_INIT.test(init)) {
      fail('init_lora_weights', `${show(init)} rewrites the base model's weights when the adapter is made; the adapter works only with that rewritten base, which is not a plain ESM-2 checkpoint`);
    }
    if (has('megatron_config') && get('megatron_config') !== null) fail('megatron_config', `${show(get('megatron_config'))}: Megatron-parallel layers are not part of ESM-2`);
    if (has('megatron_core') && typeof get('megatron_core') !== 'string') fail('megatron_core', `expected a module name, got ${show(get('megatron_core'))}`);
    if (has('layer_replication') && get('layer_replication') !== null) fail('layer_replication', `${show(get('layer_replication'))}: duplicated layers change the model's depth, which this engine does not do`);
    if (has('loftq_config') && get('loftq_config') !== null && (typeof get('loftq_config') !== 'object' || Array.isArray(get('loftq_config')))) fail('loftq_config', `expected an object, got ${show(get('loftq_config'))}`);
    if (has('eva_config') && get('eva_config') !== null && (typeof get('eva_config') !== 'object' || Array.isArray(get('eva_config')))) fail('eva_config', `expected an object or null, got ${show(get('eva_config'))}`);
    if (has('runtime_config')) notes.push('runtime_config: PEFT removes this key when it loads a config (with a warning); not used');
    const bias = has('bias') ? get('bias') : 'none';
    if (bias !== 'none' && bias !== 'all' && bias !== 'lora_only') fail('bias', `expected "none", "all" or "lora_only", got ${show(bias)}`);
    const layers = has('layers_to_transform') ? get('layers_to_transform') : null;
    if (layers !== null && !(Number.isInteger(layers) && (layers as number) >= 0) && !(Array.isArray(layers) && layers.every((l) => Number.isInteger(l) && l >= 0))) {
      fail('layers_to_transform', `expected a block number, a list of block numbers or null, got ${show(layers)}`);
    }
    const lp = has('layers_pattern') ? get('layers_pattern') : null;
    if (lp !== null && typeof lp !== 'string' && !(Array.isArray(lp) && lp.every((x) => typeof x === 'string'))) fail('layers_pattern', `expected a string, a list of strings or null, got ${show(lp)}`);
    for (const p of lp === null ? [] : typeof lp === 'string' ? [lp] : (lp as string[])) pyRegex(`.*\\.${p}\\.(\\d+)\\.`, 'start', { file, key: 'layers_pattern' });
    const target = selector('target_modules', true)!;
    if (typeof target === 'string' && layers !== null) fail('layers_to_transform', `${show(layers)} together with a regex target_modules: PEFT refuses this combination (the regex must select the blocks itself)`);
    if (typeof target === 'string' && lp !== null) fail('layers_pattern', `${show(lp)} together with a regex target_modules: PEFT refuses this combination`);
    if (Array.isArray(layers) && layers.length === 0) fail('layers_to_transform', '[]: PEFT 0.7-0.10 then adapt no block and 0.14 every block; give the blocks or null');
    const useDora = bool('use_dora', false);
    const loraBias = bool('lora_bias', false);
    if (useDora && loraBias) fail('lora_bias', 'true together with use_dora: PEFT has no DoRA with a bias on lora_B');
    return {
      ...common, peft_type: 'LORA', r, lora_alpha: num('lora_alpha', 8), lora_dropout: num('lora_dropout', 0, { min: 0, max: 1 }), target_modules: target,
      exclude_modules: selector('exclude_modules', false), fan_in_fan_out: bool('fan_in_fan_out', false), bias: bias as LoraFields['bias'],
      use_rslora: bool('use_rslora', false), use_dora: useDora, lora_bias: loraBias, modules_to_save: strList('modules_to_save'),
      layers_to_transform: layers as LoraFields['layers_to_transform'], layers_pattern: lp as LoraFields['layers_pattern'],
      rank_pattern: patternMap('rank_pattern', true), alpha_pattern: patternMap('alpha_pattern', false),
    };
  }
  if (type === 'IA3') {
    bool('init_ia3_weights', true);
    if (!has('feedforward_modules') || get('feedforward_modules') === null) {
      fail('feedforward_modules', 'null: PEFT then takes them from its table of model types, which this importer does not carry; name them ([] for none)');
    }
    return {
      ...common, peft_type: 'IA3', target_modules: selector('target_modules', true)!, exclude_modules: selector('exclude_modules', false),
      feedforward_modules: selector('feedforward_modules', false), fan_in_fan_out: bool('fan_in_fan_out', false), modules_to_save: strList('modules_to_save'),
    };
  }
  const init = has('prompt_tuning_init') ? get('prompt_tuning_init') : 'RANDOM';
  if (init !== 'RANDOM' && init !== 'TEXT' && init !== 'SAMPLE_VOCAB') fail('prompt_tuning_init', `expected "RANDOM", "TEXT" or "SAMPLE_VOCAB", got ${show(init)}`);
  str('prompt_tuning_init_text');
  str('tokenizer_name_or_path');
  const tk = has('tokenizer_kwargs') ? get('tokenizer_kwargs') : null;
  if (tk !== null && (typeof tk !== 'object' || Array.isArray(tk))) fail('tokenizer_kwargs', `expected an object or null, got ${show(tk)}`);
  const sub = int('num_transformer_submodules', 1, null);
  if (sub !== null && sub !== 1) fail('num_transformer_submodules', `${sub}: prompts for ${sub} transformer stacks (encoder-decoder models); ESM-2 is one encoder`);
  return {
    ...common, peft_type: 'PROMPT_TUNING', num_virtual_tokens: int('num_virtual_tokens', 1)!, token_dim: int('token_dim', 1, null),
    num_transformer_submodules: sub, num_attention_heads: int('num_attention_heads', 1, null), num_layers: int('num_layers', 1, null),
  };
}

export function className(t: PeftType): string {
  return t === 'LORA' ? 'LoraConfig' : t === 'IA3' ? 'IA3Config' : 'PromptTuningConfig';
}

function lineColumn(text: string, pos: number): { line: number; column: number } {
  const before = text.slice(0, pos).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}
