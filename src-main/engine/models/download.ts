// Downloading ESM-2 checkpoints from the Hugging Face Hub into the local store.
//
// Each file streams into `<file>.partial` in the model's directory, written by one process at a
// time (a lock beside it; a model's whole download holds the model's lock too). An interrupted
// transfer (dropped connection, stall, cancel, full disk) keeps the .partial; the next attempt
// sends `Range: bytes=<size>-` and continues it. A completed file is hashed as it lies on disk
// and checked against the Hub's published checksum (sha256 for LFS files, git blob sha1 for
// small ones), and renamed into place only when it matches; on a mismatch it is deleted. The
// model becomes "installed" only when all files are verified, the checkpoint validates (config +
// every tensor shape) and plmw-model.json is written.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { WriteError, assertSpaceFor, atomicIo, writeFailure, writeFully } from '../atomic.js';
import { type Lock, LockHeldError, acquireLock, describeHolder } from '../lock.js';
import {
  DownloadError,
  fetchFailure,
  fetchRevisionInfo,
  headFileInfo,
  httpFailure,
  hubEndpoint,
  resolveUrl,
  type HubFileInfo,
  type RevisionInfo,
} from './hub.js';
import { findModelSpec } from './registry.js';
import {
  fileRecord,
  inspectModel,
  lockModel,
  modelDir,
  PROVENANCE_FILE,
  sha256File,
  sweepStore,
  validateModelDir,
  writeProvenance,
  type InstalledModel,
  type ProvenanceFile,
  type StoreOptions,
} from './store.js';

export interface FileProgress {
  file: string;
  /** bytes of this file on disk so far (a resumed prefix included) */
  bytesDone: number;
  /** size of this file when known */
  bytesTotal?: number;
  /** recent transfer rate, bytes per second */
  bytesPerSecond: number;
}

export interface ModelProgress extends FileProgress {
  model: string;
  /** 0-based index of the file among those downloaded */
  fileIndex: number;
  fileCount: number;
  /** all files together, when every size is known */
  overallDone: number;
  overallTotal?: number;
}

export interface DownloadFileOptions {
  url: string;
  /** final path; the transfer goes to `${dest}.partial` */
  dest: string;
  /** published size/checksum to verify against */
  expected?: HubFileInfo;
  signal?: AbortSignal;
  onProgress?: (p: FileProgress) => void;
  /** automatic resumes after an interrupted transfer within this call (default 3) */
  retries?: number;
  /** abort a transfer that receives nothing for this long, then resume (default 60 s) */
  idleTimeoutMs?: number;
}

export interface DownloadedFile {
  size: number;
  sha256: string;
  verified: ProvenanceFile['verified'];
  /** byte offset the last successful attempt resumed from (0 = fresh) */
  resumedFrom: number;
}

const PROGRESS_INTERVAL_MS = 100;

/** Transfer-rate estimate over the last few seconds. */
class Rate {
  private samples: [number, number][] = [];
  add(bytes: number): number {
    const now = performance.now();
    this.samples.push([now, bytes]);
    while (this.samples.length > 2 && now - this.samples[0][0] > 3000) this.samples.shift();
    const [t0, b0] = this.samples[0];
    return now > t0 ? ((bytes - b0) * 1000) / (now - t0) : 0;
  }
}

async function gitBlobSha1(file: string): Promise<string> {
  const data = await readFile(file);
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}

/** The lock that makes one process at a time the writer of a .partial file. */
function lockPartial(partial: string, what: string): Lock {
  try {
    return acquireLock(`${partial}.lock`, { purpose: `a download of ${what}`, what: path.basename(partial) });
  } catch (e) {
    if (e instanceof LockHeldError) throw new DownloadError('busy', `${what} is being downloaded by ${describeHolder(e.holder)}; wait for it to finish`);
    throw e;
  }
}

/**
 * Download one URL to `dest` with resume, progress, cancel and verification. Throws
 * DownloadError; on 'checksum' nothing is left on disk, on 'interrupted'/'cancelled' the
 * .partial stays for the next call to resume; 'busy' when another process downloads the same
 * file (the .partial has one writer: a lock beside it). The checksum is computed from the
 * complete file as it lies on disk, not from the bytes as they arrived, so what is verified is
 * what gets installed.
 */
export async function downloadFile(o: DownloadFileOptions): Promise<DownloadedFile> {
  const partial = `${o.dest}.partial`;
  const retries = o.retries ?? 3;
  const expected = o.expected;
  await mkdir(path.dirname(partial), { recursive: true });
  const lock = lockPartial(partial, path.basename(o.dest));
  try {
    for (let attempt = 0; ; attempt++) {
      if (o.signal?.aborted) throw new DownloadError('cancelled', `download cancelled: ${o.url}`, o.url);
      let start = existsSync(partial) ? statSync(partial).size : 0;
      if (expected?.size !== undefined && start > expected.size) {
        await rm(partial, { force: true });
        start = 0;
      }
      const st: TransferState = { start, lock };
      let size = start;
      if (expected?.size === undefined || start < expected.size) {
        if (expected?.size !== undefined) assertSpaceFor(partial, expected.size - start);
        try {
          size = await transfer(o, partial, st);
        } catch (e) {
          const err = e instanceof DownloadError || e instanceof WriteError ? e : fetchFailure(e, o.url, o.signal);
          if (err instanceof DownloadError && err.code === 'interrupted' && attempt < retries) continue;
          throw err;
        }
      }
      lock.check();

      // Verify the completed file as it is on disk, then move it into place.
      const sha256 = await sha256File(partial, o.signal);
      start = st.start;
      let verified: DownloadedFile['verified'] = 'none';
      let mismatch: string | undefined;
      if (expected?.size !== undefined && size !== expected.size) {
        mismatch = `size ${size} bytes, expected ${expected.size}`;
      } else if (expected?.sha256) {
        if (sha256 !== expected.sha256) mismatch = `sha256 ${sha256}, expected ${expected.sha256}`;
        else verified = 'sha256';
      } else if (expected?.gitSha1) {
        const got = await gitBlobSha1(partial);
        if (got !== expected.gitSha1) mismatch = `git blob sha1 ${got}, expected ${expected.gitSha1}`;
        else verified = 'git-sha1';
      } else if (expected?.size !== undefined) {
        verified = 'size';
      }
      if (mismatch) {
        await rm(partial, { force: true });
        // A resumed prefix may be stale (e.g. left by another revision): retry once from scratch.
        if (start > 0 && attempt < retries) continue;
        throw new DownloadError('checksum', `${path.basename(o.dest)} failed verification (${mismatch}); the file was deleted`, o.url);
      }
      await rename(partial, o.dest);
      return { size, sha256, verified, resumedFrom: start };
    }
  } finally {
    lock.release();
  }
}

interface TransferState {
  /** where this attempt starts; reset to 0 when the server sends the whole file instead */
  start: number;
  lock: Lock;
}

/** One HTTP attempt: request from `st.start`, write to the partial file from there. Returns the final size. */
async function transfer(o: DownloadFileOptions, partial: string, st: TransferState): Promise<number> {
  const start = st.start;
  const ctrl = new AbortController();
  const onAbort = () => ctrl.abort(o.signal?.reason);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let idle: NodeJS.Timeout | undefined;
  let stalled = false;
  const idleMs = o.idleTimeoutMs ?? 60_000;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      stalled = true;
      ctrl.abort(new Error('stalled'));
    }, idleMs);
  };
  try {
    arm();
    let res: Response;
    try {
      res = await fetch(o.url, {
        signal: ctrl.signal,
        headers: start > 0 ? { range: `bytes=${start}-`, 'accept-encoding': 'identity' } : { 'accept-encoding': 'identity' },
      });
    } catch (e) {
      throw stalled ? new DownloadError('interrupted', `no response from ${o.url} for ${idleMs} ms`, o.url) : fetchFailure(e, o.url, o.signal);
    }
    if (res.status === 416) {
      // Our partial is not a prefix the server can continue: start over on the next attempt.
      await res.body?.cancel().catch(() => undefined);
      await rm(partial, { force: true });
      throw new DownloadError('interrupted', `server refused to resume ${o.url} at byte ${start}`, o.url);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      const err = httpFailure(res.status, o.url, `file ${path.basename(o.dest)}`);
      // Server-side hiccups are worth another attempt; 4xx are not.
      throw res.status >= 500 ? new DownloadError('interrupted', err.message, o.url) : err;
    }
    let offset = start;
    let total: number | undefined;
    if (res.status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
      if (!m || Number(m[1]) !== start) {
        await res.body?.cancel().catch(() => undefined);
        await rm(partial, { force: true });
        throw new DownloadError('interrupted', `server answered the resume of ${o.url} with an unexpected range`, o.url);
      }
      if (m[3] !== '*') total = Number(m[3]);
    } else {
      // 200: the server sends the whole file (it ignored or never got our Range).
      offset = 0;
      st.start = 0;
      const len = Number(res.headers.get('content-length'));
      if (Number.isSafeInteger(len) && len >= 0) total = len;
    }
    total ??= o.expected?.size;
    if (!res.body) throw new DownloadError('interrupted', `empty response body from ${o.url}`, o.url);

    // Positional, checked writes (a short write is looped, ENOSPC names the file and the size).
    let fd: number;
    try {
      fd = atomicIo.openSync(partial, offset > 0 ? 'r+' : 'w');
    } catch (e) {
      throw writeFailure(partial, e, total);
    }
    const rate = new Rate();
    let last = 0;
    const report = (force: boolean) => {
      if (!o.onProgress) return;
      const now = performance.now();
      if (!force && now - last < PROGRESS_INTERVAL_MS) return;
      last = now;
      const p: FileProgress = { file: path.basename(o.dest), bytesDone: offset, bytesPerSecond: rate.add(offset) };
      if (total !== undefined) p.bytesTotal = total;
      o.onProgress(p);
    };
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        arm();
        st.lock.check();
        try {
          writeFully(fd, chunk, offset, partial);
        } catch (e) {
          throw writeFailure(partial, e, total);
        }
        offset += chunk.length;
        report(offset === chunk.length + st.start);
      }
      atomicIo.fsyncSync(fd);
    } catch (e) {
      if (e instanceof WriteError) throw e;
      if (stalled) throw new DownloadError('interrupted', `transfer of ${o.url} stalled for ${idleMs} ms at byte ${offset}`, o.url);
      throw fetchFailure(e, o.url, o.signal);
    } finally {
      atomicIo.closeSync(fd);
    }
    report(true);
    if (total !== undefined && offset < total) {
      throw new DownloadError('interrupted', `transfer of ${o.url} ended at byte ${offset} of ${total}`, o.url);
    }
    return offset;
  } finally {
    clearTimeout(idle);
    o.signal?.removeEventListener('abort', onAbort);
  }
}

/** A registry name/repo, or an explicit description of a Hub repository to fetch. */
export type ModelSource =
  | string
  | { name: string; repo: string; revision?: string; files?: string[]; optionalFiles?: string[] };

export interface DownloadModelOptions extends StoreOptions {
  /** Hub endpoint; default $HF_ENDPOINT or https://huggingface.co */
  endpoint?: string;
  /** overrides the registry's revision */
  revision?: string;
  signal?: AbortSignal;
  onProgress?: (p: ModelProgress) => void;
  /** automatic resumes per file (default 3) */
  retries?: number;
  idleTimeoutMs?: number;
  /** accept model.safetensors even if no published sha256 can be found (default false) */
  allowUnverified?: boolean;
  /** re-check an installed model against the Hub: files that still verify are kept, others fetched again */
  force?: boolean;
}

const DEFAULT_FILES = ['config.json', 'model.safetensors', 'vocab.txt'];
const DEFAULT_OPTIONAL = ['special_tokens_map.json', 'tokenizer_config.json'];
/** Files whose checksum must be verified (the weights). */
const MUST_VERIFY = new Set(['model.safetensors']);

/** Download a checkpoint into the store (resuming whatever an earlier attempt left). */
export async function downloadModel(source: ModelSource, opts: DownloadModelOptions = {}): Promise<InstalledModel> {
  const spec =
    typeof source === 'string'
      ? findModelSpec(source) ?? (() => {
          throw new Error(`unknown model '${source}': give a registry name or { name, repo }`);
        })()
      : source;
  const name = spec.name;
  const revision = opts.revision ?? spec.revision ?? 'main';
  const endpoint = hubEndpoint(opts.endpoint);
  const dir = modelDir(name, opts);

  // One download of a model at a time: a second one is told who is at it.
  let lock: Lock;
  try {
    lock = lockModel(name, opts, `a download of '${name}'`);
  } catch (e) {
    if (e instanceof LockHeldError) throw new DownloadError('busy', `model '${name}' is being downloaded or imported by ${describeHolder(e.holder)}; wait for it to finish`);
    throw e;
  }
  try {
    sweepStore({ ...opts, name });
    return await downloadLocked(name, spec, revision, endpoint, dir, lock, opts);
  } finally {
    lock.release();
  }
}

async function downloadLocked(
  name: string,
  spec: Exclude<ModelSource, string>,
  revision: string,
  endpoint: string,
  dir: string,
  lock: Lock,
  opts: DownloadModelOptions,
): Promise<InstalledModel> {
  const repo = spec.repo;
  const current = inspectModel(dir, name);
  if (current.status === 'ready' && !opts.force) return current;
  // From here until the new provenance is written the directory is "incomplete", not a stale "ready".
  await rm(path.join(dir, PROVENANCE_FILE), { force: true });

  const { commit, files } = await downloadRepoFiles(dir, [
    ...(spec.files ?? DEFAULT_FILES).map((file) => ({ file, required: true, mustVerify: MUST_VERIFY.has(file) ? ('sha256' as const) : undefined })),
    ...(spec.optionalFiles ?? DEFAULT_OPTIONAL).map((file) => ({ file, required: false })),
  ], { ...opts, endpoint, repo, revision, label: name, lock });

  validateModelDir(dir);
  const prov = { schema: 1 as const, name, source: 'huggingface' as const, repo, revision, endpoint, installedAt: new Date().toISOString(), files };
  await writeProvenance(dir, commit ? { ...prov, commit } : prov);
  return inspectModel(dir, name);
}

/** A file of a Hub repository to fetch. */
export interface RepoFile {
  file: string;
  required: boolean;
  /** refuse the file without a published sha256 ('sha256') or without any checksum ('checksum'), unless allowUnverified */
  mustVerify?: 'sha256' | 'checksum';
}

export interface RepoDownloadOptions extends Pick<DownloadModelOptions, 'signal' | 'onProgress' | 'retries' | 'idleTimeoutMs' | 'allowUnverified'> {
  endpoint: string;
  repo: string;
  revision: string;
  /** what progress reports call the download (ModelProgress.model) */
  label: string;
  /** the lock the caller holds for the whole download: checked after each file (stop if it was taken over) */
  lock?: Lock;
}

/**
 * Fetch files of one revision of a Hub repository into `dir`, every file pinned to the commit
 * the revision resolves to, resumed, verified against the published checksums, and reused when
 * a verified copy is already there. Returns the commit and what each file was checked against.
 */
export async function downloadRepoFiles(dir: string, wanted: readonly RepoFile[], o: RepoDownloadOptions): Promise<{ commit?: string; files: ProvenanceFile[] }> {
  const { endpoint, repo, revision } = o;
  // Checksums: the revision API first; per-file HEAD for what it does not give.
  let info: RevisionInfo | undefined;
  try {
    info = await fetchRevisionInfo(endpoint, repo, revision, { signal: o.signal });
  } catch (e) {
    const err = e as DownloadError;
    if (err.code === 'offline' || err.code === 'cancelled') throw err;
    if (err.code === 'not-found' && !(await endpointHasFile(endpoint, repo, revision, o.signal))) throw err;
    info = undefined; // API missing on this endpoint (a mirror?): fall back to HEAD
  }
  const fileRevision = info?.commit ?? revision; // pin every file to one commit

  const plan: { file: string; expected: HubFileInfo }[] = [];
  for (const w of wanted) {
    let expected = info?.files.get(w.file);
    if (info && !expected) {
      if (w.required) throw new DownloadError('not-found', `${repo} has no ${w.file} at revision ${revision}`);
      continue;
    }
    if (!expected?.sha256 && !expected?.gitSha1) {
      const head = await headFileInfo(endpoint, repo, fileRevision, w.file, { signal: o.signal });
      if (!head) {
        if (w.required) throw new DownloadError('not-found', `${repo} has no ${w.file} at revision ${revision}`);
        continue;
      }
      expected = { ...head, ...expected, sha256: head.sha256, gitSha1: head.gitSha1 };
      if (expected.size === undefined && head.size !== undefined) expected.size = head.size;
    }
    if (w.mustVerify && !expected.sha256 && !(w.mustVerify === 'checksum' && expected.gitSha1) && !o.allowUnverified) {
      throw new DownloadError('unverifiable', `no published ${w.mustVerify === 'sha256' ? 'sha256' : 'checksum'} for ${w.file} of ${repo}; refusing an unverified download (allowUnverified overrides)`);
    }
    plan.push({ file: w.file, expected });
  }

  await mkdir(dir, { recursive: true });
  const sizes = plan.map((p) => p.expected.size);
  const overallTotal = sizes.every((s) => s !== undefined) ? sizes.reduce((a, b) => a! + b!, 0) : undefined;
  let finished = 0;
  const files: ProvenanceFile[] = [];
  for (const [i, p] of plan.entries()) {
    const dest = path.join(dir, p.file);
    const done = await alreadyVerified(dest, p.expected, o.signal);
    let result: DownloadedFile;
    if (done) {
      result = done;
    } else {
      await rm(dest, { force: true });
      result = await downloadFile({
        url: resolveUrl(endpoint, repo, fileRevision, p.file),
        dest,
        expected: p.expected,
        signal: o.signal,
        retries: o.retries,
        idleTimeoutMs: o.idleTimeoutMs,
        onProgress: o.onProgress
          ? (fp) => {
              const mp: ModelProgress = { ...fp, model: o.label, fileIndex: i, fileCount: plan.length, overallDone: finished + fp.bytesDone };
              if (overallTotal !== undefined) mp.overallTotal = overallTotal;
              o.onProgress!(mp);
            }
          : undefined,
      });
    }
    o.lock?.check();
    finished += result.size;
    files.push(await fileRecord(dir, p.file, result.verified, result.sha256));
  }

  return info?.commit ? { commit: info.commit, files } : { files };
}

/** A file already in place from an earlier, interrupted model download: reuse it if it verifies. */
async function alreadyVerified(dest: string, expected: HubFileInfo, signal?: AbortSignal): Promise<DownloadedFile | undefined> {
  if (!existsSync(dest)) return undefined;
  const size = statSync(dest).size;
  if (expected.size !== undefined && size !== expected.size) return undefined;
  const sha256 = await sha256File(dest, signal);
  if (expected.sha256) return sha256 === expected.sha256 ? { size, sha256, verified: 'sha256', resumedFrom: 0 } : undefined;
  if (expected.gitSha1) return (await gitBlobSha1(dest)) === expected.gitSha1 ? { size, sha256, verified: 'git-sha1', resumedFrom: 0 } : undefined;
  return undefined;
}

/** Does the resolve route answer for config.json? Tells "repository missing" from "API missing". */
async function endpointHasFile(endpoint: string, repo: string, revision: string, signal?: AbortSignal): Promise<boolean> {
  return (await headFileInfo(endpoint, repo, revision, 'config.json', { signal })) !== undefined;
}
