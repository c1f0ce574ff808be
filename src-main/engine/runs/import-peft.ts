// A run from a Hugging Face PEFT adapter (`plmw runs import-peft`, the API's runs.import-peft):
// the adapter folder, or a Hub repository downloaded like a model (resumed, verified against the
// Hub's checksums, cancellable, with progress), read by export/peft-import.ts onto a base ESM-2,
// and written as an ordinary run directory, so it predicts, evaluates, exports and shows
// attention like a trained run:
//   run.json                    status completed, `imported` says where it came from and what the
//                               import assumed; task: the classifier's (ss-ss3, ss-ss8, sp, or
//                               token-cls when its labels are not known) or backbone (no head)
//   checkpoints/best.safetensors the adapter's tensors under this engine's names
//   adapter/                    the PEFT files as imported (they load in PEFT as they are)
// The run is assembled in a hidden folder beside its final place and renamed into it, so a
// failed or cancelled import leaves nothing in the runs list.
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { loadModel } from '../esm2/model.js';
import { esm2ParameterCount } from '../esm2/weights.js';
import { InputError } from '../data/errors.js';
import { readPeftConfig } from '../export/peft-config.js';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, HEAD_FILE, type ImportedAdapter, importPeftAdapter } from '../export/peft-import.js';
import { type ModelProgress, downloadRepoFiles } from '../models/download.js';
import { hubEndpoint } from '../models/hub.js';
import { findModelSpec } from '../models/registry.js';
import { inspectModel, listInstalledModels, modelDir } from '../models/store.js';
import { createMethod } from '../peft/index.js';
import { parameterCount } from '../peft/method.js';
import { writeFileAtomic } from '../atomic.js';
import { saveCheckpoint } from '../train/checkpoint.js';
import { hardware } from '../train/run-dir.js';
import { taskFor } from '../train/predictor.js';
import { RUN_ID_PATTERN, RunStoreError } from './store.js';
import type { ImportTask, RunRecord } from './types.js';

const require = createRequire(import.meta.url);

/** What the classifier's labels mean, when the user says so (`--task`). */
export const IMPORT_TASK_NAMES: Record<ImportTask, string> = { ss8: 'ss-ss8', ss3: 'ss-ss3', sp: 'sp' };
export type { ImportTask };

/** A Hugging Face repository id: owner/name. */
export const HUB_REPO_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}\/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$/;

export interface ImportPeftOptions {
  /** runs root */
  root: string;
  /** user data folder: installed models (models/) and downloaded adapters (adapters/) */
  home: string;
  /** base model: a folder or an installed model's name (default: the adapter's base_model_name_or_path) */
  model?: string;
  /** display name; the run id is made from it unless `id` is given */
  name?: string;
  id?: string;
  task?: ImportTask;
  /** Hub revision (default main) and endpoint (default $HF_ENDPOINT or huggingface.co) */
  revision?: string;
  endpoint?: string;
  signal?: AbortSignal;
  onProgress?: (p: { phase: 'downloading' | 'reading' | 'writing'; done: number; total: number; file?: string }) => void;
  /** download options for tests (automatic resumes, stall timeout) */
  retries?: number;
  idleTimeoutMs?: number;
}

export interface ImportPeftResult {
  id: string;
  dir: string;
  record: RunRecord;
  notes: string[];
}

/** Where an adapter comes from: a folder here, or a Hub repository. Null when it is neither. */
export function adapterSource(source: string): { kind: 'folder'; dir: string } | { kind: 'hub'; repo: string } | null {
  if (existsSync(source) && statSync(source).isDirectory()) return { kind: 'folder', dir: path.resolve(source) };
  if (HUB_REPO_ID.test(source) && !source.includes('..')) return { kind: 'hub', repo: source };
  return null;
}

export async function importPeftRun(source: string, o: ImportPeftOptions): Promise<ImportPeftResult> {
  const src = adapterSource(source);
  if (!src) throw new InputError('neither a folder on this machine nor a Hugging Face repository id (owner/name)', { file: source });
  const notes: string[] = [];
  let dir: string;
  let hub: NonNullable<RunRecord['imported']>['hub'];
  if (src.kind === 'hub') {
    const endpoint = hubEndpoint(o.endpoint);
    const revision = o.revision ?? 'main';
    dir = path.join(o.home, 'adapters', ...src.repo.split('/'));
    const r = await downloadRepoFiles(dir, [
      { file: ADAPTER_CONFIG, required: true, mustVerify: 'checksum' },
      { file: ADAPTER_WEIGHTS, required: true, mustVerify: 'checksum' },
      { file: HEAD_FILE, required: false, mustVerify: 'checksum' },
      { file: 'README.md', required: false },
    ], {
      endpoint, repo: src.repo, revision, label: src.repo, signal: o.signal, retries: o.retries, idleTimeoutMs: o.idleTimeoutMs,
      onProgress: (p: ModelProgress) => o.onProgress?.({ phase: 'downloading', done: p.overallDone, total: p.overallTotal ?? 0, file: p.file }),
    });
    hub = { repo: src.repo, revision, endpoint, ...(r.commit ? { commit: r.commit } : {}) };
    // A file of an earlier revision that this one does not have must not be read with it.
    const fetched = new Set(r.files.map((f) => f.name));
    for (const f of [HEAD_FILE, 'README.md']) if (!fetched.has(f)) rmSync(path.join(dir, f), { force: true });
  } else {
    dir = src.dir;
  }
  if (o.signal?.aborted) throw new DOMException('import cancelled', 'AbortError');
  o.onProgress?.({ phase: 'reading', done: 0, total: 1 });

  // the config alone first, to find the base model the tensors are then read onto
  const cfgFile = path.join(dir, ADAPTER_CONFIG);
  if (!existsSync(cfgFile)) throw new InputError(`no ${ADAPTER_CONFIG}: not a Hugging Face PEFT adapter folder`, { file: dir });
  const config = readPeftConfig(cfgFile);
  const modelPath = await resolveBaseModel(config.base_model_name_or_path, o.model, o.home, cfgFile);
  const model = await loadModel(modelPath);
  const modelNames = namesOf(modelPath, model.config.name);
  if (o.model !== undefined && config.base_model_name_or_path !== null && !modelNames.includes(config.base_model_name_or_path)) {
    notes.push(`the adapter names base model ${JSON.stringify(config.base_model_name_or_path)}; it was read onto ${modelNames[0]} as asked (its shapes fit)`);
  }
  const a = importPeftAdapter(dir, { ...model, name: modelNames[0] });
  notes.push(...a.notes);
  const task = chooseTask(a, o.task, path.join(dir, ADAPTER_WEIGHTS));

  // Method and head as a run reopens them: every tensor present and of the declared size.
  const { name: methodName, ...methodOptions } = a.method;
  const method = createMethod(methodName, model.config, methodOptions, model.source, [...model.weights.tensors.keys()]);
  const { name: _h, ...headOptions } = a.head ?? { name: 'none' };
  let head;
  try {
    head = taskFor(task, headOptions).head(model.config);
  } catch (e) {
    // a task or head recorded in head.safetensors that this version does not know
    throw new InputError(`task ${JSON.stringify(task)} with head ${JSON.stringify(a.head)}: ${(e as Error).message}`, { file: path.join(dir, HEAD_FILE) });
  }
  for (const p of [...method.params, ...head.params]) {
    const t = a.params.get(p.name);
    if (!t || t.data.length !== p.shape.reduce((x, y) => x * y, 1)) throw new InputError(`the ${task} head needs '${p.name}' (${p.shape.join('x')}), which the adapter does not give`, { file: path.join(dir, ADAPTER_WEIGHTS) });
  }
  if (o.signal?.aborted) throw new DOMException('import cancelled', 'AbortError');

  // The run folder, assembled aside and renamed into place.
  o.onProgress?.({ phase: 'writing', done: 0, total: 1 });
  const id = o.id ?? uniqueId(o.root, slug(o.name ?? (src.kind === 'hub' ? src.repo.split('/')[1] : path.basename(dir))));
  if (!RUN_ID_PATTERN.test(id)) throw new RunStoreError('invalid', `invalid run id '${id}': a run id is a folder name (letters, digits, '_', '-', '.', not first)`);
  const final = path.join(o.root, id);
  if (existsSync(final)) throw new RunStoreError('conflict', `a run '${id}' already exists in ${o.root}`);
  mkdirSync(o.root, { recursive: true });
  const staging = path.join(o.root, `.import-${id}-${process.pid}-${Date.now()}`);
  const now = new Date().toISOString();
  const used = new Set([...method.params, ...head.params].map((p) => p.name));
  const record: RunRecord = {
    format: 1, id, name: o.name ?? id, createdAt: now, updatedAt: now, status: 'completed', pid: process.pid, hostname: os.hostname(),
    task, method: { name: method.name, ...method.options }, head: { name: head.name, ...head.options },
    model: { dir: path.resolve(modelPath), sha256: model.sha256, name: model.config.name, config: { ...model.config } },
    params: { trainable: parameterCount([...method.params, ...head.params]), total: esm2ParameterCount(model.config) + parameterCount(head.params) + parameterCount(method.params) },
    config: { importPeft: { source, model: o.model ?? null, task: o.task ?? null, revision: o.revision ?? null } }, seed: 0,
    versions: { 'plm-workbench': require('../../../package.json').version, 'onnxruntime-node': require('onnxruntime-node/package.json').version, node: process.version },
    provider: 'none', hardware: hardware(), wallSeconds: 0, peakRssBytes: 0,
    adapter: { exported: true, dir: 'adapter' },
    imported: {
      kind: 'peft', source, ...(hub ? { hub } : {}), peftType: a.config.peft_type, taskType: a.config.task_type, baseClass: a.baseClass,
      baseModel: a.config.base_model_name_or_path, notes,
    },
  };
  try {
    mkdirSync(path.join(staging, 'checkpoints'), { recursive: true });
    await saveCheckpoint(path.join(staging, 'checkpoints', 'best.safetensors'), new Map([...a.params].filter(([n]) => used.has(n))), null, {
      step: 0, epoch: 0, batchInEpoch: 0, metricsLines: 0, elapsedSeconds: 0, best: null, epochsWithoutImprovement: 0, stopped: true,
      epochLoss: { sum: 0, count: 0 }, logLoss: { sum: 0, count: 0 },
    });
    mkdirSync(path.join(staging, 'adapter'));
    for (const f of readdirSync(dir)) {
      if ([ADAPTER_CONFIG, ADAPTER_WEIGHTS, HEAD_FILE, 'README.md'].includes(f)) cpSync(path.join(dir, f), path.join(staging, 'adapter', f));
    }
    writeFileAtomic(path.join(staging, 'run.json'), `${JSON.stringify(record, null, 2)}\n`);
    if (o.signal?.aborted) throw new DOMException('import cancelled', 'AbortError');
    renameSync(staging, final);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  return { id, dir: final, record, notes };
}

/** The run's task from what the user says the labels are, what a workbench export recorded, or what the adapter holds. */
function chooseTask(a: ImportedAdapter, asked: ImportTask | undefined, file: string): string {
  if (asked !== undefined) {
    if (!a.head) throw new InputError(`--task ${asked}: the adapter has no classifier (it imports as a backbone)`, { file });
    const task = IMPORT_TASK_NAMES[asked];
    const want = asked === 'ss8' ? 8 : asked === 'ss3' ? 3 : 37;
    const C = a.params.get('head.weight')?.shape[0];
    if (C !== want) throw new InputError(`--task ${asked}: needs ${want} labels, the adapter's classifier has ${C}`, { file });
    if (asked === 'sp' && a.head.name !== 'crf') throw new InputError('--task sp: the signal-peptide CRF is not in this adapter (only a workbench export carries it, in head.safetensors)', { file });
    return task;
  }
  if (a.task !== null) return a.task;
  return a.head ? 'token-cls' : 'backbone';
}

/** The base model folder: the one asked for, else the installed model the adapter names. */
async function resolveBaseModel(named: string | null, asked: string | undefined, home: string, cfgFile: string): Promise<string> {
  if (asked !== undefined) {
    if (existsSync(asked) && statSync(asked).isDirectory()) return asked;
    const d = modelDir(asked, { home });
    if (existsSync(d)) return d;
    throw new InputError(`--model ${JSON.stringify(asked)} is neither a folder nor an installed model (looked in ${d})`, { file: asked });
  }
  if (named === null) throw new InputError("key 'base_model_name_or_path': null, so the base model is not known; choose it (--model)", { file: cfgFile });
  const spec = findModelSpec(named);
  for (const m of await listInstalledModels({ home })) {
    if (m.status !== 'ready') continue;
    if (m.name === named || m.provenance?.repo === named || m.config?.name === named || (spec && m.name === spec.name)) return m.dir;
  }
  if (existsSync(path.join(named, 'config.json'))) return named;
  throw new InputError(
    `key 'base_model_name_or_path': ${JSON.stringify(named)} is not an installed model${spec ? ` (download it: plmw models download ${spec.name})` : ''}; choose the base model (--model)`,
    { file: cfgFile },
  );
}

/** Names a model folder goes by: its config's name, its Hub repository, its store name, its folder name. */
function namesOf(dir: string, configName: string | undefined): string[] {
  const m = inspectModel(dir);
  return [...new Set([configName, m.provenance?.repo, m.provenance?.name, path.basename(path.resolve(dir))].filter((x): x is string => typeof x === 'string'))];
}

const slug = (s: string) => `peft-${s.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[.-]+/, '').slice(0, 150) || 'adapter'}`;

function uniqueId(root: string, base: string): string {
  let id = base;
  for (let k = 2; existsSync(path.join(root, id)); k++) id = `${base}-${k}`;
  return id;
}
