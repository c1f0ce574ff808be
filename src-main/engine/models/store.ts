// The local model store.
//
// Layout: `$PLMW_HOME` (default `~/.plm-workbench`) / models / <name> / {config.json,
// model.safetensors, vocab.txt, ..., plmw-model.json}. `plmw-model.json` (provenance: where the
// files came from, their sizes and checksums) is written last, atomically: a directory without
// it is an unfinished download or import, never a usable model. Imports are staged in a hidden
// directory beside the target and renamed into place, so a failed import leaves nothing behind.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { constants, copyFile, link, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readEsm2Config, type Esm2Config } from '../esm2/config.js';
import { EsmTokenizer } from '../esm2/tokenizer.js';
import { loadEsm2Weights, type Esm2Weights } from '../esm2/weights.js';
import { InputError } from '../data/errors.js';
import { writeJsonAtomic } from '../atomic.js';

export const PROVENANCE_FILE = 'plmw-model.json';
/** Files a model directory must have, and those copied along when present. */
export const REQUIRED_MODEL_FILES = ['config.json', 'model.safetensors'] as const;
export const OPTIONAL_MODEL_FILES = ['vocab.txt', 'special_tokens_map.json', 'tokenizer_config.json'] as const;

export interface ProvenanceFile {
  name: string;
  size: number;
  sha256?: string;
  /** how the file's content was checked when it arrived */
  verified: 'sha256' | 'git-sha1' | 'size' | 'none';
}

export interface ModelProvenance {
  schema: 1;
  name: string;
  source: 'huggingface' | 'local';
  /** Hub repository, revision asked for, commit resolved, endpoint used */
  repo?: string;
  revision?: string;
  commit?: string;
  endpoint?: string;
  /** local import: the directory it came from and whether files were hard-linked or copied */
  importedFrom?: string;
  importMode?: 'hardlink' | 'copy' | 'mixed';
  installedAt: string;
  files: ProvenanceFile[];
}

export interface InstalledModel {
  name: string;
  dir: string;
  status: 'ready' | 'incomplete' | 'invalid';
  /** why the model is not ready */
  problem?: string;
  provenance?: ModelProvenance;
  config?: Esm2Config;
}

export interface StoreOptions {
  /** store root; default plmwHome() */
  home?: string;
}

/** The user data directory: $PLMW_HOME, else ~/.plm-workbench. */
export function plmwHome(env: NodeJS.ProcessEnv = process.env): string {
  const h = env.PLMW_HOME;
  return h && h.trim() !== '' ? path.resolve(h) : path.join(os.homedir(), '.plm-workbench');
}

export function modelsRoot(opts: StoreOptions = {}): string {
  return path.join(opts.home ?? plmwHome(), 'models');
}

/** Model names become directory names: letters, digits, `_`, `-`, `.`; no leading dot. */
export function assertModelName(name: string): void {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(name)) {
    throw new Error(`invalid model name '${name}': use letters, digits, '_', '-', '.' (not first), at most 128 characters`);
  }
}

export function modelDir(name: string, opts: StoreOptions = {}): string {
  assertModelName(name);
  return path.join(modelsRoot(opts), name);
}

export function readProvenance(dir: string): ModelProvenance | undefined {
  const f = path.join(dir, PROVENANCE_FILE);
  if (!existsSync(f)) return undefined;
  return JSON.parse(readFileSync(f, 'utf8')) as ModelProvenance;
}

/** Write plmw-model.json through the atomic writer. */
export async function writeProvenance(dir: string, p: ModelProvenance): Promise<void> {
  await writeJsonAtomic(path.join(dir, PROVENANCE_FILE), p);
}

export async function sha256File(file: string, signal?: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  const s = createReadStream(file, { highWaterMark: 1 << 22, signal });
  for await (const chunk of s) h.update(chunk as Buffer);
  return h.digest('hex');
}

export interface ValidatedModel {
  config: Esm2Config;
  weights: Esm2Weights;
  tokenizer: EsmTokenizer;
}

/**
 * Check that a directory holds a usable ESM-2 checkpoint: config.json parses and is ESM-2,
 * model.safetensors has exactly the tensors and shapes the config implies, and vocab.txt (when
 * present) matches the config's vocabulary size and special-token ids.
 */
export function validateModelDir(dir: string): ValidatedModel {
  const config = readEsm2Config(dir);
  const weights = loadEsm2Weights(dir, { config });
  const tokenizer = EsmTokenizer.fromModelDir(dir);
  const vocab = path.join(dir, 'vocab.txt');
  const where = existsSync(vocab) ? vocab : config.source;
  if (tokenizer.vocabSize !== config.vocabSize) {
    throw new InputError(`vocabulary has ${tokenizer.vocabSize} tokens but config.json says vocab_size ${config.vocabSize}`, { file: where });
  }
  if (tokenizer.maskId !== config.maskTokenId || tokenizer.padId !== config.padTokenId) {
    throw new InputError(
      `vocabulary puts <mask> at ${tokenizer.maskId} and <pad> at ${tokenizer.padId} but config.json says ${config.maskTokenId} and ${config.padTokenId}`,
      { file: where },
    );
  }
  return { config, weights, tokenizer };
}

/** Every model directory in the store, with its state. */
export async function listInstalledModels(opts: StoreOptions = {}): Promise<InstalledModel[]> {
  const root = modelsRoot(opts);
  let entries: string[];
  try {
    entries = (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  entries.sort();
  return entries.map((name) => inspectModel(path.join(root, name), name));
}

/** State of one model directory (cheap: reads plmw-model.json and config.json, checks file sizes). */
export function inspectModel(dir: string, name = path.basename(dir)): InstalledModel {
  let provenance: ModelProvenance | undefined;
  try {
    provenance = readProvenance(dir);
  } catch (e) {
    return { name, dir, status: 'invalid', problem: `${PROVENANCE_FILE} is unreadable: ${(e as Error).message}` };
  }
  if (!provenance) return { name, dir, status: 'incomplete', problem: `no ${PROVENANCE_FILE}: download or import did not finish` };
  for (const f of provenance.files) {
    const p = path.join(dir, f.name);
    if (!existsSync(p)) return { name, dir, status: 'invalid', provenance, problem: `${f.name} is missing` };
    const size = statSync(p).size;
    if (size !== f.size) return { name, dir, status: 'invalid', provenance, problem: `${f.name} is ${size} bytes, expected ${f.size}` };
  }
  try {
    return { name, dir, status: 'ready', provenance, config: readEsm2Config(dir) };
  } catch (e) {
    return { name, dir, status: 'invalid', provenance, problem: (e as Error).message };
  }
}

export interface ImportOptions extends StoreOptions {
  /** name in the store; default the source directory's name */
  name?: string;
  /** 'auto' (default) hard-links when the filesystem allows and copies otherwise */
  mode?: 'auto' | 'copy' | 'link';
  /** replace an installed model of the same name */
  overwrite?: boolean;
  /** record the sha256 of every file (default true; reads the whole checkpoint once) */
  hash?: boolean;
}

/**
 * Import a local Hugging Face ESM-2 directory (config.json + model.safetensors, optional
 * vocab.txt and tokenizer files) into the store after validating it.
 */
export async function importLocalModel(srcDir: string, opts: ImportOptions = {}): Promise<InstalledModel> {
  const src = path.resolve(srcDir);
  if (!existsSync(src) || !statSync(src).isDirectory()) throw new InputError('not a directory', { file: src });
  const name = opts.name ?? path.basename(src);
  const dest = modelDir(name, opts);
  if (existsSync(dest) && !opts.overwrite) {
    throw new Error(`a model named '${name}' is already installed at ${dest} (pass overwrite to replace it)`);
  }
  validateModelDir(src);

  const root = modelsRoot(opts);
  await mkdir(root, { recursive: true });
  const staging = path.join(root, `.import-${name}-${process.pid}-${Date.now()}`);
  await mkdir(staging);
  try {
    const files: ProvenanceFile[] = [];
    const modes = new Set<'hardlink' | 'copy'>();
    for (const f of [...REQUIRED_MODEL_FILES, ...OPTIONAL_MODEL_FILES]) {
      const from = path.join(src, f);
      if (!existsSync(from)) continue;
      modes.add(await linkOrCopy(from, path.join(staging, f), opts.mode ?? 'auto'));
      const pf: ProvenanceFile = { name: f, size: (await stat(from)).size, verified: 'none' };
      if (opts.hash !== false) pf.sha256 = await sha256File(from);
      files.push(pf);
    }
    await writeProvenance(staging, {
      schema: 1,
      name,
      source: 'local',
      importedFrom: src,
      importMode: modes.size > 1 ? 'mixed' : [...modes][0],
      installedAt: new Date().toISOString(),
      files,
    });
    if (existsSync(dest)) {
      const old = `${staging}.old`;
      await rename(dest, old);
      await rename(staging, dest);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(staging, dest);
    }
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  }
  return inspectModel(dest, name);
}

async function linkOrCopy(from: string, to: string, mode: 'auto' | 'copy' | 'link'): Promise<'hardlink' | 'copy'> {
  if (mode !== 'copy') {
    try {
      await link(from, to);
      return 'hardlink';
    } catch (e) {
      if (mode === 'link') throw new Error(`cannot hard-link ${from} into the store: ${(e as Error).message}`);
    }
  }
  // FICLONE: a copy-on-write clone where the filesystem supports it, a plain copy otherwise.
  await copyFile(from, to, constants.COPYFILE_FICLONE);
  return 'copy';
}

/** Remove an installed (or half-installed) model. */
export async function removeModel(name: string, opts: StoreOptions = {}): Promise<void> {
  await rm(modelDir(name, opts), { recursive: true, force: true });
}
