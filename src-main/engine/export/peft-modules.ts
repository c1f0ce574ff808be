// The module tree of Hugging Face transformers' ESM classes, and Hugging Face PEFT's rules for
// choosing modules in it (peft/tuners/tuners_utils.py check_target_module_exists, the IA3
// feed-forward test, rank_pattern / alpha_pattern lookup, modules_to_save), as PEFT 0.7.1 to
// 0.14 apply them. The importer resolves an adapter_config.json with these; the exporter checks
// the config it writes with the same code, so both sides agree with each other and with PEFT.
//
// Module keys are named_modules() keys of the base class: `esm.encoder.layer.0.attention.self.query`
// in EsmForTokenClassification / EsmForMaskedLM, `encoder.layer.0.attention.self.query` in EsmModel.
// Rules (PEFT):
//  - target_modules as a string: a full-match regex on the key, and nothing else applies;
//  - as a list: a key equal to an entry, or ending with "." + entry; then layers_to_transform
//    keeps only blocks whose index (`.<layers_pattern>.<N>.` in the key) is listed;
//  - exclude_modules (0.14) removes keys the same way (regex full match, equal, or "." suffix);
//  - IA3 feedforward_modules: a full-match regex, or a plain suffix (no dot: "output.dense" also
//    matches "attention.output.dense");
//  - modules_to_save: a plain suffix of the key, tested before the targets (such a module is
//    copied whole, not adapted);
//  - rank_pattern / alpha_pattern keys: the first key k with re.match(".*\.k$", module key).
import type { Esm2Config } from '../esm2/config.js';
import { HF_LINEAR_NAME, type LinearSite, LINEAR_SITES } from '../esm2/forward.js';
import { InputError } from '../data/errors.js';
import type { ModuleSelector } from './peft-config.js';

export const BASE_CLASSES = ['EsmModel', 'EsmForTokenClassification', 'EsmForMaskedLM'] as const;
export type BaseClass = (typeof BASE_CLASSES)[number];

export interface HfModule {
  key: string;
  kind: 'linear' | 'embedding' | 'layernorm' | 'other';
  /** the engine's linear site, for the encoder blocks' Linear layers */
  site?: { layer: number; site: LinearSite };
  /** own parameters -> the engine's canonical weight name; null where the engine holds none (tied or unused) */
  params: Record<string, string | null>;
}

export const backbonePrefix = (base: BaseClass) => (base === 'EsmModel' ? '' : 'esm.');

/** named_modules() of the base class for this ESM-2 config (the pooler of EsmModel only when asked). */
export function esmModuleTree(cfg: Esm2Config, base: BaseClass, o: { pooler?: boolean } = {}): HfModule[] {
  const P = backbonePrefix(base);
  const out: HfModule[] = [{ key: '', kind: 'other', params: {} }];
  const add = (key: string, kind: HfModule['kind'], canonical?: string, extra: Partial<HfModule> = {}) => {
    const params: Record<string, string | null> = {};
    if (canonical !== undefined) {
      params.weight = `${canonical}.weight`;
      if (kind !== 'embedding') params.bias = `${canonical}.bias`;
    }
    out.push({ key, kind, params, ...extra });
  };
  if (P) add('esm', 'other');
  add(`${P}embeddings`, 'other');
  add(`${P}embeddings.word_embeddings`, 'embedding', 'embeddings.word_embeddings');
  add(`${P}embeddings.dropout`, 'other');
  out.push({ key: `${P}embeddings.position_embeddings`, kind: 'embedding', params: { weight: null } });
  add(`${P}encoder`, 'other');
  add(`${P}encoder.layer`, 'other');
  for (let l = 0; l < cfg.numLayers; l++) {
    const b = `encoder.layer.${l}`;
    const lin = (site: LinearSite) => add(`${P}${b}.${HF_LINEAR_NAME[site]}`, 'linear', `${b}.${HF_LINEAR_NAME[site]}`, { site: { layer: l, site } });
    add(`${P}${b}`, 'other');
    add(`${P}${b}.attention`, 'other');
    add(`${P}${b}.attention.self`, 'other');
    lin('query');
    lin('key');
    lin('value');
    add(`${P}${b}.attention.self.dropout`, 'other');
    add(`${P}${b}.attention.self.rotary_embeddings`, 'other');
    add(`${P}${b}.attention.output`, 'other');
    lin('attn_out');
    add(`${P}${b}.attention.output.dropout`, 'other');
    add(`${P}${b}.attention.LayerNorm`, 'layernorm', `${b}.attention.LayerNorm`);
    add(`${P}${b}.intermediate`, 'other');
    lin('ffn_in');
    add(`${P}${b}.output`, 'other');
    lin('ffn_out');
    add(`${P}${b}.output.dropout`, 'other');
    add(`${P}${b}.LayerNorm`, 'layernorm', `${b}.LayerNorm`);
  }
  add(`${P}encoder.emb_layer_norm_after`, 'layernorm', 'encoder.emb_layer_norm_after');
  add(`${P}contact_head`, 'other');
  add(`${P}contact_head.regression`, 'linear', 'contact_head.regression');
  add(`${P}contact_head.activation`, 'other');
  if (base === 'EsmModel' && o.pooler) {
    add('pooler', 'other');
    out.push({ key: 'pooler.dense', kind: 'linear', params: { weight: null, bias: null } });
    add('pooler.activation', 'other');
  }
  if (base === 'EsmForTokenClassification') {
    add('dropout', 'other');
    // the token-classification head: the engine's linear head, not a backbone weight
    out.push({ key: 'classifier', kind: 'linear', params: { weight: null, bias: null } });
  }
  if (base === 'EsmForMaskedLM') {
    out.push({ key: 'lm_head', kind: 'other', params: { bias: 'lm_head.bias' } });
    add('lm_head.dense', 'linear', 'lm_head.dense');
    add('lm_head.layer_norm', 'layernorm', 'lm_head.layer_norm');
    // tied to the word embeddings in ESM-2
    out.push({ key: 'lm_head.decoder', kind: 'linear', params: { weight: null } });
  }
  return out;
}

/**
 * A Python `re` pattern as a JavaScript RegExp (the constructs both share; \A, \Z and named
 * groups translated). `anchor`: 'full' = re.fullmatch, 'start' = re.match.
 */
export function pyRegex(pattern: string, anchor: 'full' | 'start', where: { file: string; key: string }): RegExp {
  if (/\(\?[aiLmsux]+\)|\(\?#/.test(pattern)) throw new InputError(`key '${where.key}': ${JSON.stringify(pattern)} uses inline flags or comments of Python's re, which this importer does not translate`, { file: where.file });
  const js = pattern.replace(/\\A/g, '^').replace(/\\Z/g, '$').replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
  try {
    return new RegExp(anchor === 'full' ? `^(?:${js})$` : `^(?:${js})`);
  } catch (e) {
    throw new InputError(`key '${where.key}': ${JSON.stringify(pattern)} is not a regular expression this importer can read (${(e as Error).message})`, { file: where.file });
  }
}

export interface TargetRule {
  target_modules: ModuleSelector;
  exclude_modules?: ModuleSelector | null;
  layers_to_transform?: number[] | number | null;
  layers_pattern?: string[] | string | null;
}

/** PEFT's check_target_module_exists for one module key. */
export function targetMatches(rule: TargetRule, key: string, file: string): boolean {
  const ex = rule.exclude_modules;
  if (ex) {
    if (typeof ex === 'string' ? pyRegex(ex, 'full', { file, key: 'exclude_modules' }).test(key) : ex.includes(key) || ex.some((e) => key.endsWith(`.${e}`))) return false;
  }
  const t = rule.target_modules;
  if (typeof t === 'string') return pyRegex(t, 'full', { file, key: 'target_modules' }).test(key);
  if (t.includes(key)) return true;
  if (!t.some((e) => key.endsWith(`.${e}`))) return false;
  const layers = rule.layers_to_transform;
  if (layers === null || layers === undefined) return true;
  const patterns = rule.layers_pattern === null || rule.layers_pattern === undefined || rule.layers_pattern.length === 0 ? null : typeof rule.layers_pattern === 'string' ? [rule.layers_pattern] : rule.layers_pattern;
  let index: string | undefined;
  if (!patterns) index = /^(?:.*\.[^.]*\.(\d+)\.)/.exec(key)?.[1];
  else
    for (const p of patterns) {
      index = pyRegex(`.*\\.${p}\\.(\\d+)\\.`, 'start', { file, key: 'layers_pattern' }).exec(key)?.[1];
      if (index !== undefined) break;
    }
  if (index === undefined) return false;
  return typeof layers === 'number' ? Number(index) === layers : layers.includes(Number(index));
}

/** IA3: does this module scale its input (feed-forward) rather than its output? */
export function isFeedforward(ff: ModuleSelector | null, key: string, file: string): boolean {
  if (ff === null) return false;
  return typeof ff === 'string' ? pyRegex(ff, 'full', { file, key: 'feedforward_modules' }).test(key) : ff.some((e) => key.endsWith(e));
}

/** modules_to_save: PEFT wraps every module whose key ends with an entry (no dot needed). */
export const savedWhole = (list: readonly string[], key: string) => key !== '' && list.some((e) => key.endsWith(e));

/** The rank_pattern / alpha_pattern key PEFT picks for a module, or null. */
export function patternKey(keys: readonly string[], moduleKey: string, file: string, field: string): string | null {
  for (const k of keys) if (pyRegex(`.*\\.${k}$`, 'start', { file, key: field }).test(moduleKey)) return k;
  return null;
}

/** The linear site of a module path inside `encoder.layer.N.`, for tensor names. */
export const SITE_BY_HF_NAME: Record<string, LinearSite> = Object.fromEntries(LINEAR_SITES.map((s) => [HF_LINEAR_NAME[s], s]));
