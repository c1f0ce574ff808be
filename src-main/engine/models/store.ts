// The local model store.
//
// Layout: `$PLMW_HOME` (default `~/.plm-workbench`) / models / <name> / {config.json,
// model.safetensors, vocab.txt, ..., plmw-model.json}. `plmw-model.json` (provenance: where the
// files came from, their sizes and checksums) is written last, atomically: a directory without
// it is an unfinished download or import, never a usable model. Imports are staged in a hidden
// directory beside the target and renamed into place, so a failed import leaves nothing behind.
//
// A model that cannot lie: each file's sha256 is computed from the file on disk, and its size and
// modification time are recorded with it. A file whose size or time differs later is reported
// (`invalid` or `changed`) without reading it; `verifyModel` (plmw models verify) re-hashes
// every file and records what it found, so a changed model stays marked until it is downloaded
// or imported again. Downloads and imports of one model hold its lock (`models/.<name>.lock`).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { link, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readEsm2Config, type Esm2Config } from '../esm2/config.js';
import { EsmTokenizer } from '../esm2/tokenizer.js';
import { loadEsm2Weights, type Esm2Weights } from '../esm2/weights.js';
import { InputError } from '../data/errors.js';
import { copyFileAtomic, createScratchDir, sweepStaleTemporaries, temporaryPath, writeJsonAtomic } from '../atomic.js';
import { type Lock, acquireLock } from '../lock.js';

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
  /** modification time (ms) when installed or last verified: a later one means the file was touched */
  mtimeMs?: number;
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
  /** the last `verifyModel`: when, and what no longer matched (empty: everything did) */
  verification?: { checkedAt: string; problems: string[] };
}

export interface InstalledModel {
  name: string;
  dir: string;
  /** changed: a file's content or time differs from what was recorded when it was installed */
  status: 'ready' | 'incomplete' | 'invalid' | 'changed';
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

/** Leftovers of writers that died in the store: staging folders, half-written provenance. */
export function sweepStore(opts: StoreOptions & { name?: string } = {}): void {
  sweepStaleTemporaries(modelsRoot(opts));
  if (opts.name) sweepStaleTemporaries(modelDir(opts.name, opts));
}

/**
 * At the start of the workbench or the browser mode: leftovers of writers that died in the user
 * data folder (settings, the session, the model store, run, prediction and data-set folders)
 * are removed.
 */
export function sweepUserData(home: string): void {
  const dirs = [home, path.join(home, 'session')];
  for (const top of [modelsRoot({ home }), path.join(home, 'runs'), path.join(home, 'predictions'), path.join(home, 'data')]) {
    dirs.push(top);
    try {
      for (const e of readdirSync(top, { withFileTypes: true })) if (e.isDirectory() && !e.name.startsWith('.')) dirs.push(path.join(top, e.name), path.join(top, e.name, 'checkpoints'));
    } catch {
      // not there yet
    }
  }
  for (const d of dirs) sweepStaleTemporaries(d);
}

/** The lock of one model (download, import): one writer at a time. */
export function lockModel(name: string, opts: StoreOptions, purpose: string): Lock {
  mkdirSync(modelsRoot(opts), { recursive: true });
  return acquireLock(path.join(modelsRoot(opts), `.${name}.lock`), { purpose, what: `model '${name}'` });
}

/**
 * The provenance record of a file now on disk: its size, its sha256 (read from disk unless given;
 * `null`: not hashed) and its time.
 */
export async function fileRecord(dir: string, name: string, verified: ProvenanceFile['verified'], sha256?: string | null): Promise<ProvenanceFile> {
  const p = path.join(dir, name);
  const st = await stat(p);
  const rec: ProvenanceFile = { name, size: st.size, verified, mtimeMs: st.mtimeMs };
  if (sha256 !== null) rec.sha256 = sha256 ?? (await sha256File(p));
  return rec;
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
    const st = statSync(p);
    if (st.size !== f.size) return { name, dir, status: 'invalid', provenance, problem: `${f.name} is ${st.size} bytes, expected ${f.size}` };
    // (within a millisecond: some file systems and copies keep times only that precisely)
    if (f.mtimeMs !== undefined && Math.abs(st.mtimeMs - f.mtimeMs) >= 1) {
      return { name, dir, status: 'changed', provenance, problem: `${f.name} was modified after it was installed; check it with \`plmw models verify ${name}\`` };
    }
  }
  const problems = provenance.verification?.problems ?? [];
  if (problems.length) {
    return { name, dir, status: 'changed', provenance, problem: `${problems.join('; ')} (found ${provenance.verification!.checkedAt}); download or import it again` };
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
  const lock = lockModel(name, opts, `an import of '${name}'`);
  sweepStore(opts);
  const scratch = createScratchDir(root, name);
  const staging = scratch.path;
  try {
    const files: ProvenanceFile[] = [];
    const modes = new Set<'hardlink' | 'copy'>();
    for (const f of [...REQUIRED_MODEL_FILES, ...OPTIONAL_MODEL_FILES]) {
      const from = path.join(src, f);
      if (!existsSync(from)) continue;
      modes.add(await linkOrCopy(from, path.join(staging, f), opts.mode ?? 'auto'));
      // Hashed from the store's copy: what is recorded is what the store holds.
      files.push(await fileRecord(staging, f, 'none', opts.hash === false ? null : undefined));
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
      // The old model moves aside under a temporary name (swept if this process dies here).
      const old = temporaryPath(dest);
      await rename(dest, old);
      scratch.publish(dest);
      await rm(old, { recursive: true, force: true });
    } else {
      scratch.publish(dest);
    }
  } catch (e) {
    scratch.remove();
    throw e;
  } finally {
    lock.release();
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
  copyFileAtomic(from, to);
  return 'copy';
}

export interface FileVerification {
  name: string;
  /** ok: same bytes; changed: other bytes; missing; unrecorded: no sha256 was recorded to compare with */
  status: 'ok' | 'changed' | 'missing' | 'unrecorded';
  expected?: string;
  actual?: string;
}

/**
 * Re-hashes every file of an installed model and compares it with what was recorded when it was
 * installed. The result is written into plmw-model.json: a model whose files changed is listed
 * as `changed` from then on (until it is downloaded or imported again); a model whose files all
 * match gets their current times recorded, so a mere touch stops counting as a change.
 */
export async function verifyModel(name: string, opts: StoreOptions & { signal?: AbortSignal } = {}): Promise<{ model: InstalledModel; files: FileVerification[] }> {
  const dir = modelDir(name, opts);
  const prov = readProvenance(dir);
  if (!prov) throw new InputError(`no installed model '${name}' (no ${PROVENANCE_FILE})`, { file: dir });
  const files: FileVerification[] = [];
  for (const f of prov.files) {
    const p = path.join(dir, f.name);
    if (!existsSync(p)) {
      files.push({ name: f.name, status: 'missing', expected: f.sha256 });
      continue;
    }
    const actual = await sha256File(p, opts.signal);
    if (!f.sha256) files.push({ name: f.name, status: 'unrecorded', actual });
    else files.push({ name: f.name, status: actual === f.sha256 ? 'ok' : 'changed', expected: f.sha256, actual });
    if (actual === f.sha256) f.mtimeMs = statSync(p).mtimeMs;
  }
  const problems = files
    .filter((v) => v.status === 'changed' || v.status === 'missing')
    .map((v) => (v.status === 'missing' ? `${v.name} is missing` : `${v.name} has changed (sha256 ${v.actual!.slice(0, 12)}…, installed ${v.expected!.slice(0, 12)}…)`));
  await writeProvenance(dir, { ...prov, verification: { checkedAt: new Date().toISOString(), problems } });
  return { model: inspectModel(dir, name), files };
}

/** Remove an installed (or half-installed) model. */
export async function removeModel(name: string, opts: StoreOptions = {}): Promise<void> {
  await rm(modelDir(name, opts), { recursive: true, force: true });
}
