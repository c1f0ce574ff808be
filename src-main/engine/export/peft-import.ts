// Reading a Hugging Face PEFT adapter folder (adapter_config.json + adapter_model.safetensors,
// as `save_pretrained` writes them) into this engine's method, head and tensors.
//
// The config is resolved against the module tree of the ESM class the adapter was made on
// (peft-modules.ts, PEFT's own matching rules), so every adapted module, its rank and alpha,
// IA3's input-or-output scaling and the saved classifier come out exactly as PEFT would build
// them; the file's tensors must then be exactly those modules' tensors with exactly those
// shapes. Anything this engine cannot represent, any tensor it cannot place and any shape that
// does not fit the chosen ESM-2 is refused with an InputError naming the file, key and value.
// What is accepted but worth knowing (an assumption, a tensor PEFT itself would not load) goes
// into `notes`; nothing is dropped without one.
//
// Tensor names (the adapter name is removed on save):
//   LoRA/DoRA  base_model.model.<module>.lora_A.weight [r, in], .lora_B.weight [out, r],
//              .lora_B.bias [out] (lora_bias), .lora_magnitude_vector [out] (DoRA)
//   IA3        base_model.model.<module>.ia3_l: [1, in] for feed-forward modules (input
//              scaling), [out, 1] otherwise (output scaling)
//   prompt     prompt_embeddings [num_virtual_tokens, d]
//   head       base_model.model.classifier.{weight,bias} (base_model.classifier.* for prompt
//              learning), the token-classification copy PEFT saves for TOKEN_CLS / modules_to_save
//   other      base_model.model.<module>.<param>: a backbone parameter PEFT loads over the base
//              model's (biases with bias="all"/"lora_only", modules_to_save copies); the
//              bias of an adapted layer is <module>.base_layer.bias
// A head.safetensors written by this workbench's export (head tensors HF cannot hold, and the
// task in its metadata) is read too.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Esm2Config } from '../esm2/config.js';
import type { LoadedModel } from '../esm2/model.js';
import { type LinearSite, HF_LINEAR_NAME } from '../esm2/forward.js';
import { readSafetensors, type Safetensor, type SafetensorsFile } from '../esm2/safetensors.js';
import { InputError } from '../data/errors.js';
import { createMethod } from '../peft/index.js';
import { ia3Name, ia3TargetOf } from '../peft/ia3.js';
import { type LoraModule, linearShape, loraName } from '../peft/lora.js';
import { doraMagnitudeName } from '../peft/dora.js';
import { overrideName } from '../peft/overrides.js';
import type { TensorMap } from '../train/checkpoint.js';
import { type PeftConfig, readPeftConfig } from './peft-config.js';
import { type BaseClass, BASE_CLASSES, type HfModule, backbonePrefix, esmModuleTree, isFeedforward, patternKey, savedWhole, targetMatches } from './peft-modules.js';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
/** head tensors Hugging Face cannot hold, and the task, written beside a workbench export */
export const HEAD_FILE = 'head.safetensors';

export interface ImportedAdapter {
  config: PeftConfig;
  baseClass: BaseClass;
  method: { name: 'lora' | 'dora' | 'ia3' | 'prompt' } & Record<string, unknown>;
  /** the head from the adapter's classifier (and head.safetensors), or null for a backbone adapter */
  head: ({ name: string } & Record<string, unknown>) | null;
  /** the task recorded in head.safetensors by a workbench export, if any */
  task: string | null;
  /** every tensor under this engine's names (method, head.*, override.*) */
  params: TensorMap;
  notes: string[];
}

const show = (v: unknown) => JSON.stringify(v);

export function importPeftAdapter(dir: string, model: Pick<LoadedModel, 'config' | 'source'> & { name?: string }): ImportedAdapter {
  const cfgFile = path.join(dir, ADAPTER_CONFIG);
  const weightsFile = path.join(dir, ADAPTER_WEIGHTS);
  if (!existsSync(cfgFile)) throw new InputError(`no ${ADAPTER_CONFIG}: not a Hugging Face PEFT adapter folder`, { file: dir });
  const config = readPeftConfig(cfgFile);
  if (!existsSync(weightsFile)) {
    const bin = existsSync(path.join(dir, 'adapter_model.bin'));
    throw new InputError(bin
      ? `only adapter_model.bin (a PyTorch pickle, which can run code when read) is here; save the adapter with safe_serialization=True (the default since PEFT 0.6) to get ${ADAPTER_WEIGHTS}`
      : `no ${ADAPTER_WEIGHTS}`, { file: dir });
  }
  const file = readTensors(weightsFile);
  const cfg = model.config;
  const notes = [...config.notes];
  const modelName = model.name ?? cfg.name ?? 'the chosen model';
  const failCfg = (key: string, why: string): never => {
    throw new InputError(`key '${key}': ${why}`, { file: cfgFile });
  };
  const failTensor = (name: string, why: string): never => {
    throw new InputError(`tensor '${name}': ${why}`, { file: weightsFile });
  };
  const names = [...file.tensors.keys()];
  const left = new Set(names);
  const take = (name: string, shape: number[], what: string, mismatch: (got: number[]) => string): Float32Array => {
    const t = file.tensors.get(name);
    if (!t) return failTensor(name, `missing (${what}); PEFT would start it from random values`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) failTensor(name, `shape [${t.shape.join(', ')}]: ${mismatch(t.shape)}`);
    left.delete(name);
    return floats(t, weightsFile);
  };
  const params: TensorMap = new Map();

  const baseClass = baseClassOf(config, names, cfgFile, notes);
  // prompt learning keeps the transformer itself as base_model, the other tuners wrap it (.model)
  const pre = config.peft_type === 'PROMPT_TUNING' ? 'base_model.' : 'base_model.model.';
  const tree = esmModuleTree(cfg, baseClass, { pooler: names.some((n) => n.startsWith(`${pre}pooler.`)) });
  const byKey = new Map(tree.map((m) => [m.key, m]));
  const mts = [...new Set([...(config.peft_type === 'PROMPT_TUNING' ? [] : config.modules_to_save ?? []), ...(config.task_type === 'TOKEN_CLS' ? ['classifier', 'score'] : [])])];
  if (config.peft_type !== 'PROMPT_TUNING' && config.fan_in_fan_out) {
    notes.push("fan_in_fan_out = true: ESM-2's layers are torch.nn.Linear, for which PEFT sets it to false (with a warning); the tensors are read in nn.Linear layout as PEFT then does");
  }
  if (config.revision) notes.push(`revision ${show(config.revision)}: the base model revision the adapter names; check that the chosen model is that revision`);

  // ---- the adapter's own tensors ------------------------------------------------------------
  let method: ImportedAdapter['method'];
  const blockMismatch = (m: HfModule, dim: 'in' | 'out', want: number, got: number) =>
    `base model mismatch: ${m.key} of ${modelName} has ${want} ${dim === 'in' ? 'input' : 'output'} features, the tensor ${got} (the adapter was made for another ESM-2)`;

  if (config.peft_type === 'PROMPT_TUNING') {
    const P = config.num_virtual_tokens;
    const D = cfg.hiddenSize;
    const checks: [string, number | null, number, string][] = [
      ['token_dim', config.token_dim, D, 'hidden size'], ['num_layers', config.num_layers, cfg.numLayers, 'blocks'], ['num_attention_heads', config.num_attention_heads, cfg.numHeads, 'attention heads'],
    ];
    for (const [key, v, want, what] of checks) if (v !== null && v !== want) failCfg(key, `${v}, but ${modelName} has ${want} ${what}: base model mismatch`);
    params.set('prompt.embeddings', {
      shape: [P, D],
      data: take('prompt_embeddings', [P, D], 'the soft prompt', (g) => (g[0] !== P ? `${g[0]} rows, but num_virtual_tokens is ${P}` : `rows of ${g[1]} values, but ${modelName} has hidden size ${D}: base model mismatch`)),
    });
    method = { name: 'prompt', tokens: P, deep: false };
    notes.push(`prompt tuning: the ${P} prompt rows go before <cls> without the token-dropout scaling of the token embeddings (the convention of the workbench and of the reference outputs; PEFT's own forward cannot run ESM-2 with token_dropout)`);
  } else {
    // PEFT tests modules_to_save first; those modules are copied whole, never adapted
    const targets: HfModule[] = [];
    for (const m of tree) {
      if (savedWhole(mts, m.key)) continue;
      if (targetMatches(config, m.key, cfgFile)) targets.push(m);
    }
    const sel = show(config.target_modules);
    for (const saved of tree.filter((m) => savedWhole(mts, m.key))) {
      const inside = targets.find((t) => t.key.startsWith(`${saved.key}.`));
      if (inside) failCfg('modules_to_save', `${show(mts)} copies ${saved.key} whole, and target_modules ${sel} adapts ${inside.key} inside it; PEFT cannot build that`);
    }
    for (const e of config.modules_to_save ?? []) if (e !== 'score' && !tree.some((m) => savedWhole([e], m.key))) notes.push(`modules_to_save ${show(e)} matches no module of ${baseClass}; nothing to load for it`);
    if (targets.length === 0) {
      failCfg('target_modules', `${sel}${config.peft_type === 'LORA' && config.layers_to_transform !== null ? ` with layers_to_transform ${show(config.layers_to_transform)}` : ''} matches no module of ${baseClass} (its Linear layers: ${Object.values(HF_LINEAR_NAME).join(', ')} in encoder.layer.N)`);
    }
    const adapted: { m: HfModule; site: LinearSite; layer: number }[] = [];
    for (const m of targets) {
      if (m.site) {
        adapted.push({ m, site: m.site.site, layer: m.site.layer });
        continue;
      }
      if (m.key === 'pooler.dense') {
        // only EsmModel's pooler_output reads it; drop its tensors with a note
        for (const n of names) if (n.startsWith(`${pre}pooler.dense.`)) left.delete(n);
        notes.push('pooler.dense is adapted too; it changes only pooler_output, which this workbench does not compute: its tensors are not used');
        continue;
      }
      failCfg('target_modules', `${sel} selects ${m.key || 'the model itself'}, which ${m.kind === 'linear' ? 'is not a Linear layer of the encoder blocks, the only ones this engine adapts' : `is not a Linear layer (PEFT refuses it too)`}`);
    }
    const sfx = (m: HfModule, s: string) => `${pre}${m.key}.${s}`;
    if (config.peft_type === 'LORA') {
      const rankKeys = Object.keys(config.rank_pattern);
      const alphaKeys = Object.keys(config.alpha_pattern);
      const mods: LoraModule[] = [];
      for (const { m, site, layer } of adapted) {
        // PEFT 0.14 looks rank and alpha keys up separately; 0.7-0.10 take one key from both lists
        const rk = patternKey(rankKeys, m.key, cfgFile, 'rank_pattern');
        const ak = patternKey(alphaKeys, m.key, cfgFile, 'alpha_pattern');
        const one = patternKey([...rankKeys, ...alphaKeys], m.key, cfgFile, rankKeys.length ? 'rank_pattern' : 'alpha_pattern');
        const r = rk !== null ? config.rank_pattern[rk] : config.r;
        const alpha = ak !== null ? config.alpha_pattern[ak] : config.lora_alpha;
        const r10 = one !== null && one in config.rank_pattern ? config.rank_pattern[one] : config.r;
        const a10 = one !== null && one in config.alpha_pattern ? config.alpha_pattern[one] : config.lora_alpha;
        if (r !== r10 || alpha !== a10) {
          failCfg(ak !== null && ak !== one ? 'alpha_pattern' : 'rank_pattern', `${show(rk ?? ak)} and ${show(one)} both match ${m.key}, and PEFT releases disagree on its rank/alpha (0.14: r=${r} alpha=${alpha}; 0.7-0.10: r=${r10} alpha=${a10}); make the pattern keys select disjoint modules`);
        }
        const s = linearShape(cfg, site);
        const rankWhy = `r = ${r} for ${m.key} (${rk !== null ? `rank_pattern ${show(rk)}` : 'adapter_config.json r'})`;
        const A = take(sfx(m, 'lora_A.weight'), [r, s.in], 'LoRA A', (g) => (g[1] !== s.in ? blockMismatch(m, 'in', s.in, g[1]) : `a rank that does not fit: ${g[0]} rows, but ${rankWhy}`));
        const B = take(sfx(m, 'lora_B.weight'), [s.out, r], 'LoRA B', (g) => (g[0] !== s.out ? blockMismatch(m, 'out', s.out, g[0]) : `a rank that does not fit: ${g[1]} columns, but ${rankWhy}`));
        params.set(loraName(layer, site, 'A'), { shape: [r, s.in], data: A });
        params.set(loraName(layer, site, 'B'), { shape: [s.out, r], data: B });
        if (config.lora_bias) params.set(loraName(layer, site, 'B.bias'), { shape: [s.out], data: take(sfx(m, 'lora_B.bias'), [s.out], 'the bias of lora_B (lora_bias)', (g) => blockMismatch(m, 'out', s.out, g[0])) });
        if (config.use_dora) {
          const name = file.tensors.has(sfx(m, 'lora_magnitude_vector.weight')) ? sfx(m, 'lora_magnitude_vector.weight') : sfx(m, 'lora_magnitude_vector');
          params.set(doraMagnitudeName(layer, site), { shape: [s.out], data: take(name, [s.out], 'the DoRA magnitude', (g) => blockMismatch(m, 'out', s.out, g[0])) });
        }
        mods.push({ layer, site, r, alpha });
      }
      method = { name: config.use_dora ? 'dora' : 'lora', ...compactLora(cfg, mods, config.r, config.lora_alpha), dropout: config.lora_dropout };
      if (config.use_rslora) method.rslora = true;
      if (config.lora_bias) method.loraBias = true;
    } else {
      const mods: { layer: number; target: string }[] = [];
      for (const { m, site, layer } of adapted) {
        const ff = isFeedforward(config.feedforward_modules, m.key, cfgFile);
        const s = linearShape(cfg, site);
        const shape = ff ? [1, s.in] : [s.out, 1];
        const target = ia3TargetOf(site, ff);
        const data = take(sfx(m, 'ia3_l'), shape, `the IA3 vector (${ff ? 'feed-forward: scales the input' : 'scales the output'})`, (g) =>
          ff && g[0] === 1 ? blockMismatch(m, 'in', s.in, g[1]) : !ff && g[1] === 1 ? blockMismatch(m, 'out', s.out, g[0])
            : `PEFT keeps [1, in] for feed-forward modules and [out, 1] for the others; feedforward_modules ${show(config.feedforward_modules)} makes ${m.key} ${ff ? '' : 'not '}feed-forward, so [${shape.join(', ')}] was expected`);
        params.set(ia3Name(layer, target), { shape: [data.length], data });
        mods.push({ layer, target });
      }
      method = { name: 'ia3', ...compactIa3(cfg, mods) };
    }
  }

  // ---- the classifier, and backbone tensors the adapter replaces ---------------------------
  let head: ImportedAdapter['head'] = null;
  const cw = `${pre}classifier.weight`;
  const cb = `${pre}classifier.bias`;
  if (baseClass === 'EsmForTokenClassification' && (file.tensors.has(cw) || file.tensors.has(cb))) {
    const w = file.tensors.get(cw);
    if (!w || w.shape.length !== 2) failTensor(cw, w ? `shape [${w.shape.join(', ')}], expected [labels, ${cfg.hiddenSize}]` : `missing beside ${cb}`);
    const C = w!.shape[0];
    params.set('head.weight', { shape: [C, cfg.hiddenSize], data: take(cw, [C, cfg.hiddenSize], 'the classifier', (g) => `rows of ${g[1]} values, but ${modelName} has hidden size ${cfg.hiddenSize}: base model mismatch`) });
    params.set('head.bias', { shape: [C], data: take(cb, [C], 'the classifier bias', (g) => `${g[0]} values for ${C} labels`) });
    head = { name: 'linear', classes: C };
  } else if (config.task_type === 'TOKEN_CLS') {
    notes.push('TOKEN_CLS adapter without a saved classifier: PEFT would use the base model\'s classifier, which an ESM-2 checkpoint does not have; imported as a backbone without a head');
  }
  const overrides = new Map<string, Float32Array>();
  for (const n of [...left]) {
    if (!n.startsWith(pre)) continue;
    const rest = n.slice(pre.length);
    if (/^classifier\.(original_module|modules_to_save)\./.test(rest)) {
      left.delete(n);
      notes.push(`${n}: a copy PEFT's loader does not map to any parameter (saved by bias="all" next to classifier.*); not used`);
      continue;
    }
    const target = resolveParameter(byKey, rest);
    if (!target) continue;
    const { module, param } = target;
    const canonical = module.params[param];
    const t = file.tensors.get(n)!;
    if (canonical === null || canonical === undefined) {
      if (module.key === 'lm_head.decoder' && param === 'weight') {
        const tied = model.source.read('embeddings.word_embeddings.weight');
        const v = floats(t, weightsFile);
        const same = v.length === tied.length && v.every((x, i) => x === tied[i]) && !overrides.has('embeddings.word_embeddings.weight');
        if (!same) failTensor(n, 'differs from the word embeddings, to which ESM-2 ties its MLM decoder; this engine keeps them tied');
        left.delete(n);
        notes.push(`${n}: equal to the word embeddings it is tied to; nothing to replace`);
        continue;
      }
      failTensor(n, `${module.key}.${param} is a parameter this engine does not have (${module.key === 'classifier' ? 'the classifier of EsmForTokenClassification' : 'unused by ESM-2 here'})`);
    }
    const shape = model.source.get(canonical!).shape;
    overrides.set(canonical!, take(n, shape, 'a replaced backbone parameter', (g) => `[${g.join(', ')}] for ${canonical}, which is [${shape.join(', ')}] in ${modelName}: base model mismatch`));
  }
  if (overrides.size) {
    if (config.peft_type === 'PROMPT_TUNING') failTensor([...overrides.keys()][0], 'prompt tuning adapters replace no backbone parameter');
    method.overrides = [...overrides.keys()];
    for (const [k, v] of overrides) params.set(overrideName(k), { shape: model.source.get(k).shape, data: v });
    notes.push(`replaces ${overrides.size} backbone tensor(s) with the adapter's copies, as PEFT's loader does (${[...overrides.keys()].slice(0, 4).join(', ')}${overrides.size > 4 ? ', ...' : ''})`);
  }
  if (left.size) {
    const n = [...left][0];
    const block = /encoder\.layer\.(\d+)\./.exec(n);
    if (block && Number(block[1]) >= cfg.numLayers) failTensor(n, `names block ${block[1]}, but ${modelName} has ${cfg.numLayers} blocks: base model mismatch`);
    failTensor(n, `not a tensor of this ${config.peft_type} adapter for ${baseClass} (adapted modules: ${[...params.keys()].filter((k) => !k.startsWith('head.')).slice(0, 3).join(', ')}, ...)${left.size > 1 ? `; ${left.size - 1} more like it` : ''}`);
  }

  // ---- a workbench export's head file --------------------------------------------------------
  let task: string | null = null;
  const headFile = path.join(dir, HEAD_FILE);
  if (existsSync(headFile)) {
    const hf = readTensors(headFile);
    task = hf.metadata.task ?? null;
    const recorded = hf.metadata.head;
    if (recorded !== undefined) {
      let h: unknown;
      try {
        h = JSON.parse(recorded);
      } catch {
        throw new InputError('metadata "head" is not JSON', { file: headFile });
      }
      if (typeof h !== 'object' || h === null || typeof (h as { name?: unknown }).name !== 'string') throw new InputError('metadata "head" must be an object with a name', { file: headFile });
      head = h as NonNullable<ImportedAdapter['head']>;
    }
    for (const [n, t] of hf.tensors) {
      if (!n.startsWith('head.')) throw new InputError(`tensor '${n}': head tensors are named head.*`, { file: headFile });
      if (params.has(n)) throw new InputError(`tensor '${n}' is also in ${ADAPTER_WEIGHTS}`, { file: headFile });
      params.set(n, { shape: t.shape, data: floats(t, headFile) });
    }
  }

  // The method must accept these options and find every tensor it declares, shaped as declared.
  const { name, ...options } = method;
  const built = createMethod(name, cfg, options, model.source, []);
  for (const p of built.params) {
    const t = params.get(p.name);
    if (!t || t.data.length !== p.shape.reduce((a, b) => a * b, 1)) throw new Error(`import: ${p.name} was not read from ${weightsFile} as ${p.shape.join('x')}`);
  }
  return { config, baseClass, method, head, task, params, notes };
}

function readTensors(file: string): SafetensorsFile {
  try {
    return readSafetensors(file);
  } catch (e) {
    throw new InputError((e as Error).message.replace(`${file}: `, ''), { file });
  }
}

function floats(t: Safetensor, file: string): Float32Array {
  if (!['F32', 'F16', 'BF16', 'F64'].includes(t.dtype)) throw new InputError(`tensor '${t.name}': dtype ${t.dtype}, expected a float type`, { file });
  const v = t.toFloat32();
  const bad = v.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new InputError(`tensor '${t.name}': value #${bad} is ${v[bad]}`, { file });
  return v;
}

/** Which ESM class the adapter was made on: from the tensor prefixes, the task type and auto_mapping. */
function baseClassOf(c: PeftConfig, names: readonly string[], file: string, notes: string[]): BaseClass {
  const declared = c.baseModelClass;
  if (declared !== null && !(BASE_CLASSES as readonly string[]).includes(declared)) {
    throw new InputError(`key 'auto_mapping': base_model_class ${show(declared)} is not one of ${BASE_CLASSES.join(', ')}`, { file });
  }
  let found: BaseClass;
  if (c.peft_type === 'PROMPT_TUNING') {
    found = c.task_type === 'TOKEN_CLS' || names.some((n) => n.startsWith('base_model.classifier.')) ? 'EsmForTokenClassification' : 'EsmModel';
  } else {
    const esm = names.some((n) => n.startsWith('base_model.model.esm.'));
    const bare = names.some((n) => /^base_model\.model\.(embeddings|encoder|contact_head|pooler)\./.test(n));
    if (esm && bare) throw new InputError(`${ADAPTER_WEIGHTS} mixes names of EsmModel (base_model.model.encoder.*) and of a model with an esm. backbone`, { file });
    if (c.task_type === 'TOKEN_CLS' || names.some((n) => n.startsWith('base_model.model.classifier.'))) {
      if (bare) throw new InputError(`key 'task_type': TOKEN_CLS, but the tensors are named for EsmModel (base_model.model.encoder.*)`, { file });
      found = 'EsmForTokenClassification';
    } else if (names.some((n) => n.startsWith('base_model.model.lm_head.')) || declared === 'EsmForMaskedLM') found = 'EsmForMaskedLM';
    else if (bare || declared === 'EsmModel' || !esm) found = 'EsmModel';
    else {
      // An esm. backbone without head tensors, task type or auto_mapping: the head class is not
      // known. Read the backbone only (the token-classification tree, whose head is not adapted).
      found = (declared as BaseClass | null) ?? 'EsmForTokenClassification';
      if (declared === null) notes.push('the base class is not stated (no task type, auto_mapping or head tensors): read as an ESM-2 with an esm. backbone and no head');
    }
  }
  if (declared !== null && declared !== found) throw new InputError(`key 'auto_mapping': base_model_class ${show(declared)}, but the adapter's tensors and task type are those of ${found}`, { file });
  return found;
}

/** `<module>.<param>` or `<module>.base_layer.<param>` (an adapted layer) in the module tree. */
function resolveParameter(byKey: Map<string, HfModule>, rest: string): { module: HfModule; param: string } | null {
  const m = /^(.*?)(?:\.base_layer)?\.([A-Za-z_]+)$/.exec(rest);
  if (!m) return null;
  const module = byKey.get(m[1]);
  if (!module || !(m[2] in module.params)) return null;
  return { module, param: m[2] };
}

/** A LoRA plan in the compact form when it is uniform (one r and alpha, targets x blocks), else as a module list. */
function compactLora(cfg: Esm2Config, mods: LoraModule[], r: number, alpha: number): Record<string, unknown> {
  const sites = [...new Set(mods.map((m) => m.site))];
  const layers = [...new Set(mods.map((m) => m.layer))].sort((a, b) => a - b);
  const uniform = mods.every((m) => m.r === mods[0].r && m.alpha === mods[0].alpha) && mods.length === sites.length * layers.length;
  if (!uniform) return { r, alpha, modules: mods };
  return { r: mods[0].r, alpha: mods[0].alpha, targets: orderSites(sites), ...blockOption(cfg, layers) };
}

function compactIa3(cfg: Esm2Config, mods: { layer: number; target: string }[]): Record<string, unknown> {
  const targets = [...new Set(mods.map((m) => m.target))];
  const layers = [...new Set(mods.map((m) => m.layer))].sort((a, b) => a - b);
  if (mods.length !== targets.length * layers.length) return { modules: mods };
  return { targets, ...blockOption(cfg, layers) };
}

/** topK when the blocks are the top k, else the explicit list. */
function blockOption(cfg: Esm2Config, layers: number[]): Record<string, unknown> {
  const L = cfg.numLayers;
  return layers.every((l, i) => l === L - layers.length + i) ? { topK: layers.length } : { layers };
}

const SITE_ORDER = Object.keys(HF_LINEAR_NAME) as LinearSite[];
const orderSites = (s: LinearSite[]) => SITE_ORDER.filter((x) => s.includes(x));
