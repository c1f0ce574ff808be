// Export to the Hugging Face PEFT adapter layout, for LoRA, DoRA, IA3 and prompt tuning:
// adapter_config.json + adapter_model.safetensors with PEFT's tensor names, so that
// `PeftModel.from_pretrained(EsmForTokenClassification.from_pretrained(base, num_labels=C), dir)`
// gives the same per-residue logits as the workbench.
//
// Written for the oldest release the method exists in (PEFT 0.7.1; DoRA and rsLoRA 0.10.0;
// lora_bias 0.14.0), keys limited to the fields those releases accept (older releases refuse any
// other key), and checked before it is written: the config is resolved with the importer's own
// PEFT rules (peft-modules.ts), which must select exactly the trained modules, and the folder is
// read back by the importer, which must give back every tensor bit for bit.
//  - LoRA over the same sites in the chosen blocks: target_modules as a list of suffixes plus
//    layers_to_transform (never a regex with it, which PEFT refuses); where a suffix would select
//    more (`output.dense` also ends `attention.output.dense`) or the sites differ per block, an
//    explicit module list (`encoder.layer.N.<module>`);
//  - IA3 (no layers_to_transform in IA3Config): the suffixes when they select exactly the trained
//    modules in every block, else the explicit module list; feedforward_modules the same entries
//    for the input-scaled modules;
//  - per-module ranks / alphas: rank_pattern / alpha_pattern with one escaped key per module.
// The head: the linear SS head and the signal-peptide emission layer are PEFT's classifier
// (`base_model.model.classifier.*`, `base_model.classifier.*` for prompt tuning) with
// modules_to_save ["classifier"] and task_type TOKEN_CLS. What Hugging Face cannot hold (the CNN
// head, the CRF, the kingdom term) goes to head.safetensors with the task in its metadata; the
// folder's README.md says how to use it.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Esm2Config } from '../esm2/config.js';
import { HF_LINEAR_NAME, type WeightSource } from '../esm2/forward.js';
import { type TensorToWrite, writeSafetensors } from '../esm2/safetensors.js';
import { writeFileAtomic } from '../atomic.js';
import { SS3_STATES, SS8_STATES } from '../data/labels-ss.js';
import { ia3Name, ia3Plan } from '../peft/ia3.js';
import { loraName, loraPlan } from '../peft/lora.js';
import { doraMagnitudeName } from '../peft/dora.js';
import { REGION_STATES } from '../tasks/signal-peptide/regions.js';
import type { TensorMap } from '../train/checkpoint.js';
import { readProvenance } from '../models/store.js';
import { parsePeftConfig } from './peft-config.js';
import { adapterReadme } from './peft-readme.js';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, HEAD_FILE, importPeftAdapter } from './peft-import.js';
import { type BaseClass, backbonePrefix, esmModuleTree, isFeedforward, patternKey, targetMatches } from './peft-modules.js';

export const PEFT_EXPORTABLE = ['lora', 'dora', 'ia3', 'prompt'] as const;

export interface ExportInput {
  method: { name: string } & Record<string, unknown>;
  head: ({ name: string } & Record<string, unknown>) | null;
  /** the run's task name (ss-ss8, sp, ...), kept in head.safetensors */
  task: string;
  config: Esm2Config;
  /** base_model_name_or_path: the Hub id when the model came from the Hub (see baseModelId) */
  baseModel: string;
  params: TensorMap;
}

export interface ExportResult {
  files: string[];
  adapterConfig: Record<string, unknown>;
  /** the oldest PEFT release that loads it */
  minimumPeft: '0.7.1' | '0.10.0' | '0.14.0';
}

/** base_model_name_or_path for a model folder: its Hub repository when downloaded, else its config's name, else the folder. */
export function baseModelId(modelDir: string, cfg: Esm2Config): string {
  let repo: string | undefined;
  try {
    const p = readProvenance(modelDir);
    if (p?.source === 'huggingface') repo = p.repo;
  } catch {
    /* an unreadable provenance file: fall back to the config's name */
  }
  return repo ?? cfg.name ?? path.resolve(modelDir);
}

type F32 = { dtype: 'F32'; shape: number[]; data: Float32Array };
const NO_WEIGHTS: WeightSource = {
  get: (n) => { throw new Error(`export: no weights for '${n}'`); },
  read: (n) => { throw new Error(`export: no weights for '${n}'`); },
};
const escape = (s: string) => s.replace(/\./g, '\\.');
const modulePath = (layer: number, hf: string) => `encoder.layer.${layer}.${hf}`;

export async function exportPeft(dir: string, x: ExportInput): Promise<ExportResult> {
  const cfg = x.config;
  const name = x.method.name;
  if (!(PEFT_EXPORTABLE as readonly string[]).includes(name)) throw new Error(`export: method '${name}' has no Hugging Face PEFT layout (exportable: ${PEFT_EXPORTABLE.join(', ')})`);
  const { name: _n, ...options } = x.method;
  const classifier = x.head !== null && (x.head.name === 'linear' || x.head.name === 'crf');
  const base: BaseClass = classifier ? 'EsmForTokenClassification' : 'EsmModel';
  const P = backbonePrefix(base);
  const tree = esmModuleTree(cfg, base);
  const tensors: Record<string, F32> = {};
  const take = (n: string) => {
    const t = x.params.get(n);
    if (!t) throw new Error(`export: no trained tensor '${n}'`);
    return t;
  };
  const put = (n: string, shape: number[], data: Float32Array) => (tensors[n] = { dtype: 'F32', shape, data });
  let minimumPeft: ExportResult['minimumPeft'] = '0.7.1';
  const common = { peft_type: '', task_type: classifier ? 'TOKEN_CLS' : 'FEATURE_EXTRACTION', base_model_name_or_path: x.baseModel, inference_mode: true };
  let adapterConfig: Record<string, unknown>;
  const pre = name === 'prompt' ? 'base_model.' : 'base_model.model.';

  if (name === 'lora' || name === 'dora') {
    const plan = loraPlan(name, cfg, options, 0);
    if (plan.overrides.length) throw new Error('export: this run replaces backbone tensors (an adapter imported with bias or modules_to_save); its PEFT files are the ones it was imported from');
    const wanted = new Set(plan.modules.map((m) => `${P}${modulePath(m.layer, HF_LINEAR_NAME[m.site])}`));
    const selection = chooseSelector(tree, wanted, [...new Set(plan.modules.map((m) => m.site))].map((s) => shortName(s)), [...new Set(plan.modules.map((m) => m.layer))], cfg.numLayers, true);
    // one rank and alpha for most modules, patterns for the others
    const r = mostCommon(plan.modules.map((m) => m.r));
    const alpha = mostCommon(plan.modules.map((m) => m.alpha));
    const rankPattern: Record<string, number> = {};
    const alphaPattern: Record<string, number> = {};
    for (const m of plan.modules) {
      const key = escape(`layer.${m.layer}.${HF_LINEAR_NAME[m.site]}`);
      if (m.r !== r) rankPattern[key] = m.r;
      if (m.alpha !== alpha) alphaPattern[key] = m.alpha;
    }
    adapterConfig = {
      ...common, peft_type: 'LORA', r, lora_alpha: alpha, lora_dropout: plan.dropout, ...selection,
      ...(Object.keys(rankPattern).length ? { rank_pattern: rankPattern } : {}), ...(Object.keys(alphaPattern).length ? { alpha_pattern: alphaPattern } : {}),
      ...(classifier ? { modules_to_save: ['classifier'] } : {}),
    };
    if (name === 'dora') adapterConfig.use_dora = true;
    if (plan.rslora) adapterConfig.use_rslora = true;
    if (plan.loraBias) adapterConfig.lora_bias = true;
    minimumPeft = plan.loraBias ? '0.14.0' : name === 'dora' || plan.rslora ? '0.10.0' : '0.7.1';
    for (const m of plan.modules) {
      const at = `${pre}${P}${modulePath(m.layer, HF_LINEAR_NAME[m.site])}`;
      for (const part of ['A', 'B'] as const) {
        const t = take(loraName(m.layer, m.site, part));
        put(`${at}.lora_${part}.weight`, t.shape, t.data);
      }
      if (plan.loraBias) put(`${at}.lora_B.bias`, take(loraName(m.layer, m.site, 'B.bias')).shape, take(loraName(m.layer, m.site, 'B.bias')).data);
      if (name === 'dora') {
        const t = take(doraMagnitudeName(m.layer, m.site));
        put(`${at}.lora_magnitude_vector`, t.shape, t.data);
      }
    }
  } else if (name === 'ia3') {
    const plan = ia3Plan(cfg, options);
    if (plan.overrides.length) throw new Error('export: this run replaces backbone tensors (an adapter imported with modules_to_save); its PEFT files are the ones it was imported from');
    const key = (m: (typeof plan.modules)[number]) => `${P}${modulePath(m.layer, HF_LINEAR_NAME[m.site])}`;
    const wanted = new Set(plan.modules.map(key));
    const ff = new Set(plan.modules.filter((m) => m.input).map(key));
    const shorts = [...new Set(plan.modules.map((m) => shortName(m.site)))];
    const shortFf = [...new Set(plan.modules.filter((m) => m.input).map((m) => shortName(m.site)))];
    let selection = chooseSelector(tree, wanted, shorts, [...new Set(plan.modules.map((m) => m.layer))], cfg.numLayers, false);
    let feedforward: string[] = Array.isArray(selection.target_modules) && selection.target_modules === shorts ? shortFf : [];
    if (!selectsExactly(tree, ff, (k) => isFeedforward(feedforward, k, ADAPTER_CONFIG), wanted)) {
      selection = { target_modules: [...wanted].map((k) => k.slice(P.length)) };
      feedforward = [...ff].map((k) => k.slice(P.length));
    }
    adapterConfig = { ...common, peft_type: 'IA3', ...selection, feedforward_modules: feedforward, ...(classifier ? { modules_to_save: ['classifier'] } : {}) };
    for (const m of plan.modules) {
      const t = take(ia3Name(m.layer, m.target));
      put(`${pre}${key(m)}.ia3_l`, m.input ? [1, t.data.length] : [t.data.length, 1], t.data);
    }
  } else {
    if (options.deep) throw new Error('export: deep prompt tuning has no Hugging Face PEFT equivalent (PROMPT_TUNING prepends at the input only)');
    if (options.topK !== undefined && options.topK !== cfg.numLayers) throw new Error(`export: prompt tuning inserted at block ${cfg.numLayers - Number(options.topK)} (top-k) has no Hugging Face PEFT equivalent (PROMPT_TUNING prepends at the input)`);
    const t = take('prompt.embeddings');
    adapterConfig = {
      ...common, peft_type: 'PROMPT_TUNING', num_virtual_tokens: t.shape[0], token_dim: cfg.hiddenSize, num_transformer_submodules: 1,
      num_attention_heads: cfg.numHeads, num_layers: cfg.numLayers, prompt_tuning_init: 'RANDOM',
    };
    put('prompt_embeddings', t.shape, t.data);
  }
  const headTensors: Record<string, F32> = {};
  for (const [n, t] of x.params) {
    if (!n.startsWith('head.')) continue;
    if (classifier && (n === 'head.weight' || n === 'head.bias')) put(`${pre}classifier.${n.slice(5)}`, t.shape, t.data);
    else headTensors[n] = { dtype: 'F32', shape: t.shape, data: t.data };
  }

  mkdirSync(dir, { recursive: true });
  const configText = `${JSON.stringify(adapterConfig, null, 2)}\n`;
  parsePeftConfig(configText, path.join(dir, ADAPTER_CONFIG)); // what the importer accepts
  writeFileAtomic(path.join(dir, ADAPTER_CONFIG), configText);
  await writeSafetensors(path.join(dir, ADAPTER_WEIGHTS), tensors as Record<string, TensorToWrite>, { format: 'pt' });
  const labels = labelNames(x.task);
  await writeSafetensors(path.join(dir, HEAD_FILE), headTensors as Record<string, TensorToWrite>, {
    task: x.task, ...(x.head ? { head: JSON.stringify(x.head) } : {}), ...(labels ? { labels: labels.join(',') } : {}),
  });
  writeFileAtomic(path.join(dir, 'README.md'), adapterReadme(x, adapterConfig, minimumPeft, Object.keys(headTensors), labels));

  // Read it back as an import would: every tensor must return unchanged.
  const back = importPeftAdapter(dir, { config: cfg, source: NO_WEIGHTS });
  for (const [n, t] of x.params) {
    const b = back.params.get(n);
    if (!b || b.data.length !== t.data.length || b.data.some((v, i) => !Object.is(v, t.data[i]))) throw new Error(`export: ${n} does not read back unchanged from ${dir}`);
  }
  if (back.method.name !== name) throw new Error(`export: the folder reads back as ${back.method.name}, not ${name}`);
  return { files: [ADAPTER_CONFIG, ADAPTER_WEIGHTS, HEAD_FILE, 'README.md'], adapterConfig, minimumPeft };
}

const shortName = (site: keyof typeof HF_LINEAR_NAME) => (site === 'query' || site === 'key' || site === 'value' ? site : HF_LINEAR_NAME[site]);

function mostCommon<T>(xs: T[]): T {
  const counts = new Map<T, number>();
  for (const v of xs) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0][0];
}

function selectsExactly(tree: ReturnType<typeof esmModuleTree>, wanted: Set<string>, test: (key: string) => boolean, within?: Set<string>): boolean {
  const got = tree.filter((m) => (within ? within.has(m.key) : true) && test(m.key)).map((m) => m.key);
  return got.length === wanted.size && got.every((k) => wanted.has(k));
}

/**
 * target_modules (and, for LoRA, layers_to_transform) selecting exactly `wanted`: suffixes
 * (+ blocks) when PEFT's rules select exactly those modules with them, else the module list.
 */
function chooseSelector(tree: ReturnType<typeof esmModuleTree>, wanted: Set<string>, shorts: string[], layers: number[], L: number, layerField: boolean): Record<string, unknown> {
  const sorted = [...layers].sort((a, b) => a - b);
  const all = sorted.length === L;
  if (all || layerField) {
    const rule = all ? { target_modules: shorts } : { target_modules: shorts, layers_to_transform: sorted, layers_pattern: 'layer' };
    if (selectsExactly(tree, wanted, (k) => targetMatches(rule, k, ADAPTER_CONFIG))) return rule;
  }
  const P = [...wanted][0].startsWith('esm.') ? 'esm.' : '';
  const list = { target_modules: [...wanted].map((k) => k.slice(P.length)) };
  if (!selectsExactly(tree, wanted, (k) => targetMatches(list, k, ADAPTER_CONFIG))) throw new Error('export: no target_modules selects exactly the trained modules');
  return list;
}

/** Label names of a task's classes in output order, or null. */
function labelNames(task: string): string[] | null {
  if (/^ss-ss8/.test(task)) return [...SS8_STATES];
  if (/^ss-ss3/.test(task)) return [...SS3_STATES];
  if (/^sp/.test(task)) return REGION_STATES.map((s) => s.name);
  return null;
}
