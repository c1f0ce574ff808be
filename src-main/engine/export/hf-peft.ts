// The Hugging Face PEFT adapter layout for LoRA, IA3 and prompt tuning: adapter_config.json and
// adapter_model.safetensors with PEFT's tensor names, so `PeftModel.from_pretrained` on
// facebook/esm2_* loads what was trained here; the task head is saved beside it
// (head.safetensors). Importing reads the same files back into trainable tensors.
//
// Module names: q/k/v are `query`/`key`/`value`; the attention output projection is
// `attention.output.dense`; the feed-forward projections are `intermediate.dense` and the
// block's own `output.dense`. The latter cannot be named by suffix without also matching
// `attention.output.dense`, so when it is targeted target_modules is a full-match regex (PEFT
// accepts a string as a regex).

import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Esm2Config } from '../esm2/config.js';
import { HF_LINEAR_NAME, type LinearSite } from '../esm2/forward.js';
import { readSafetensors, writeSafetensors } from '../esm2/safetensors.js';
import type { TensorMap } from '../train/checkpoint.js';
import { writeFileAtomic } from '../atomic.js';

const PREFIX = 'base_model.model.esm.encoder.layer';

export interface ExportInput {
  method: { name: string } & Record<string, unknown>;
  head: { name: string } & Record<string, unknown>;
  config: Esm2Config;
  baseModel: string;
  params: TensorMap;
}

export const PEFT_EXPORTABLE = ['lora', 'ia3', 'prompt'] as const;

function layersToTransform(cfg: Esm2Config, topK: unknown): number[] | null {
  const k = typeof topK === 'number' ? topK : cfg.numLayers;
  return k >= cfg.numLayers ? null : Array.from({ length: k }, (_, i) => cfg.numLayers - k + i);
}

function targetModules(sites: readonly LinearSite[]): string[] | string {
  if (!sites.includes('ffn_out')) return sites.map((s) => (s === 'query' || s === 'key' || s === 'value' ? s : HF_LINEAR_NAME[s]));
  const alt = sites.map((s) => HF_LINEAR_NAME[s].replace(/\./g, '\\.')).join('|');
  return `.*encoder\\.layer\\.\\d+\\.(${alt})`;
}

export async function exportPeft(dir: string, x: ExportInput): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const cfg = x.config;
  const common = { base_model_name_or_path: x.baseModel, task_type: 'TOKEN_CLS', inference_mode: true, revision: null };
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  const take = (name: string) => {
    const t = x.params.get(name);
    if (!t) throw new Error(`export: no trained tensor '${name}'`);
    return t;
  };
  let adapterConfig: Record<string, unknown>;
  const layers = layersToTransform(cfg, x.method.topK);
  const blocks = layers ?? Array.from({ length: cfg.numLayers }, (_, i) => i);
  if (x.method.name === 'lora') {
    const sites = x.method.targets as LinearSite[];
    adapterConfig = {
      ...common, peft_type: 'LORA', r: x.method.r, lora_alpha: x.method.alpha, lora_dropout: x.method.dropout, target_modules: targetModules(sites),
      bias: 'none', fan_in_fan_out: false, init_lora_weights: true, use_dora: false, use_rslora: false, modules_to_save: null,
      layers_to_transform: layers, layers_pattern: layers ? 'layer' : null,
    };
    for (const l of blocks)
      for (const s of sites)
        for (const part of ['A', 'B'] as const) {
          const t = take(`lora.${l}.${s}.${part}`);
          tensors[`${PREFIX}.${l}.${HF_LINEAR_NAME[s]}.lora_${part}.weight`] = { dtype: 'F32', shape: t.shape, data: t.data };
        }
  } else if (x.method.name === 'ia3') {
    const targets = x.method.targets as string[];
    const names = targets.map((t) => (t === 'ffn' ? 'output\\.dense' : `attention\\.self\\.${t}`));
    adapterConfig = {
      ...common, peft_type: 'IA3', target_modules: `.*encoder\\.layer\\.\\d+\\.(${names.join('|')})`,
      feedforward_modules: targets.includes('ffn') ? '.*encoder\\.layer\\.\\d+\\.output\\.dense' : [], init_ia3_weights: true,
      fan_in_fan_out: false, modules_to_save: null, layers_to_transform: layers,
    };
    for (const l of blocks)
      for (const t of targets) {
        const v = take(`ia3.${l}.${t}`);
        // PEFT keeps [out, 1] for output scaling and [1, in] for the feed-forward input scaling
        const shape = t === 'ffn' ? [1, v.data.length] : [v.data.length, 1];
        const module = t === 'ffn' ? 'output.dense' : `attention.self.${t}`;
        tensors[`${PREFIX}.${l}.${module}.ia3_l`] = { dtype: 'F32', shape, data: v.data };
      }
  } else if (x.method.name === 'prompt') {
    if (x.method.deep || layers) throw new Error('export: deep or top-k prompt tuning has no Hugging Face PEFT equivalent (PROMPT_TUNING prepends at the input only)');
    const t = take('prompt.embeddings');
    adapterConfig = {
      ...common, peft_type: 'PROMPT_TUNING', num_virtual_tokens: t.shape[0], token_dim: cfg.hiddenSize, num_transformer_submodules: 1,
      num_attention_heads: cfg.numHeads, num_layers: cfg.numLayers, prompt_tuning_init: 'RANDOM', tokenizer_name_or_path: null,
    };
    tensors.prompt_embeddings = { dtype: 'F32', shape: t.shape, data: t.data };
  } else {
    throw new Error(`export: method '${x.method.name}' has no Hugging Face PEFT layout (exportable: ${PEFT_EXPORTABLE.join(', ')})`);
  }
  writeFileAtomic(path.join(dir, 'adapter_config.json'), `${JSON.stringify(adapterConfig, null, 2)}\n`);
  await writeSafetensors(path.join(dir, 'adapter_model.safetensors'), tensors, { format: 'pt' });
  const head: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [n, t] of x.params) if (n.startsWith('head.')) head[n] = { dtype: 'F32', shape: t.shape, data: t.data };
  await writeSafetensors(path.join(dir, 'head.safetensors'), head, { head: JSON.stringify(x.head) });
}

export interface ImportedAdapter {
  method: { name: string } & Record<string, unknown>;
  head: { name: string } & Record<string, unknown>;
  params: TensorMap;
}

const SITE_OF: Record<string, LinearSite> = Object.fromEntries(Object.entries(HF_LINEAR_NAME).map(([s, n]) => [n, s as LinearSite]));

export function importPeft(dir: string): ImportedAdapter {
  const cfgFile = path.join(dir, 'adapter_config.json');
  const c = JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
  const file = readSafetensors(path.join(dir, 'adapter_model.safetensors'));
  const params: TensorMap = new Map();
  const layerOf = (name: string) => {
    const m = new RegExp(`^${PREFIX.replace(/\./g, '\\.')}\\.(\\d+)\\.(.+)$`).exec(name);
    if (!m) throw new Error(`${dir}: unexpected tensor '${name}' for ${c.peft_type}`);
    return { layer: Number(m[1]), rest: m[2] };
  };
  let method: ImportedAdapter['method'];
  const layers = c.layers_to_transform as number[] | null | undefined;
  const topK = layers ? layers.length : undefined;
  if (c.peft_type === 'LORA') {
    const sites = new Set<LinearSite>();
    for (const [name, t] of file.tensors) {
      const { layer, rest } = layerOf(name);
      const m = /^(.+)\.lora_(A|B)\.weight$/.exec(rest);
      const site = m && SITE_OF[m[1]];
      if (!m || !site) throw new Error(`${dir}: unexpected LoRA tensor '${name}'`);
      sites.add(site);
      params.set(`lora.${layer}.${site}.${m[2]}`, { shape: t.shape, data: t.toFloat32() });
    }
    const order = Object.keys(HF_LINEAR_NAME) as LinearSite[];
    method = { name: 'lora', r: c.r, alpha: c.lora_alpha, dropout: c.lora_dropout, targets: order.filter((s) => sites.has(s)), ...(topK ? { topK } : {}) };
  } else if (c.peft_type === 'IA3') {
    const targets = new Set<string>();
    for (const [name, t] of file.tensors) {
      const { layer, rest } = layerOf(name);
      const target = rest === 'output.dense.ia3_l' ? 'ffn' : /^attention\.self\.(key|value)\.ia3_l$/.exec(rest)?.[1];
      if (!target) throw new Error(`${dir}: unexpected IA3 tensor '${name}'`);
      targets.add(target);
      params.set(`ia3.${layer}.${target}`, { shape: [t.shape[0] * t.shape[1]], data: t.toFloat32() });
    }
    method = { name: 'ia3', targets: ['key', 'value', 'ffn'].filter((t) => targets.has(t)), ...(topK ? { topK } : {}) };
  } else if (c.peft_type === 'PROMPT_TUNING') {
    const t = file.tensors.get('prompt_embeddings');
    if (!t) throw new Error(`${dir}: no prompt_embeddings tensor`);
    params.set('prompt.embeddings', { shape: t.shape, data: t.toFloat32() });
    method = { name: 'prompt', tokens: t.shape[0], deep: false };
  } else {
    throw new Error(`${cfgFile}: peft_type ${JSON.stringify(c.peft_type)} is not supported (LORA, IA3, PROMPT_TUNING)`);
  }
  const headFile = readSafetensors(path.join(dir, 'head.safetensors'));
  for (const [name, t] of headFile.tensors) params.set(name, { shape: t.shape, data: t.toFloat32() });
  return { method, head: JSON.parse(headFile.metadata.head ?? '{"name":"linear"}'), params };
}
