// The job queue: jobs run one after another in a single worker thread, so the main thread (the
// Electron main process or the browser-mode server) never blocks on onnxruntime. Each job can
// be cancelled: a queued job is dropped, a running one gets its AbortSignal aborted (by message,
// and through a shared slot the worker reads after every batch or step) and, if it has not
// stopped after `cancelGraceMs`, the job is cancelled without it: its worker is retired and a
// fresh one is started for the next job. A retired worker ends itself at its next safe point
// (protocol.ts, WorkerControl); one that reaches none within `terminateAfterMs` (a JavaScript
// loop that never yields) is terminated. A worker that dies fails its job with the reason; the
// queue carries on. The worker reports every temporary file it opens and closes
// (engine/atomic.ts); whatever a terminated or crashed worker still had open is removed when it
// exits, and the main thread counts those files as its own for its signal and exit handlers.
//
// Worker entry (workerEntry below):
//  - From TypeScript source (tsx, `npm run web`, vitest: this module's URL ends in .ts) the
//    worker is ./worker.ts. Node 20 cannot load it by itself and `execArgv: ['--import', 'tsx']`
//    does not take effect in a worker thread (tsx's loader registers its hooks on the main
//    thread only), so the worker is started from a two-line eval'd bootstrap that calls
//    tsx/esm/api register() inside the worker and then imports worker.ts (tsxBootstrap).
//  - In the electron-vite bundle the worker is a separate bundle file: the Electron main
//    process imports `../engine/jobs/worker?modulePath` (electron-vite bundles that entry and
//    returns its path; see src-main/shell/job-worker.ts) and passes it as `workerPath`.
//  - Compiled .js next to this file: ./worker.js.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type ResourceLimits, Worker } from 'node:worker_threads';
import type { ApiEvent, JobInfo, JobSummary } from '../../api/contract.js';
import { ApiError } from '../../api/errors.js';
import { jobKindNames, validateJobRequest } from '../../api/job-kinds.js';
import { adoptTemporary, removeLiveTemporaries } from '../atomic.js';
import { plmwHome } from '../models/store.js';
import './kinds.js';
import { type FromWorker, type ToWorker, type WorkerConfig, WorkerControl } from './protocol.js';
export type JobEvent = Extract<ApiEvent, { type: `job.${string}` }>;

export interface JobQueueOptions {
  /** the worker script (required in bundles; see the header) */
  workerPath?: string | URL;
  /** extra Node flags for the worker */
  execArgv?: string[];
  /** minimum ms between two progress events of a job (default 100) */
  progressIntervalMs?: number;
  /**
   * accept diagnostic job kinds (selftest); default: only when PLMW_DIAGNOSTICS=1. In normal
   * use they are unknown methods on every front.
   */
  diagnostics?: boolean;
  /** ms a running job may take to stop after cancel before its worker is terminated (default 10000) */
  cancelGraceMs?: number;
  /** ms a retired worker may take to end itself before it is terminated (default 30000) */
  terminateAfterMs?: number;
  /** finished jobs kept for jobs.list (default 200) */
  keepFinished?: number;
  /**
   * bytes of results (as JSON) kept for jobs.result, newest first (default 256 MiB); an older
   * job keeps its summary and says its result was let go
   */
  keepResultBytes?: number;
  /**
   * V8 limits of the worker. Default young generation: 8 MB (Node's default lets it grow to
   * 48 MB). The worker's JavaScript only moves data between native calls; a small young
   * generation costs little and keeps its memory flat from job to job (see the memory test).
   */
  resourceLimits?: ResourceLimits;
}

export type JobRecord = JobInfo;

/** How to start the worker: a script URL, or (TypeScript source) an eval'd bootstrap. */
export interface WorkerEntry {
  url: URL;
  /** the worker is TypeScript: started through the tsx bootstrap */
  typescript: boolean;
  execArgv: string[];
}

/** Worker script and the Node flags it needs. */
export function workerEntry(o: Pick<JobQueueOptions, 'workerPath' | 'execArgv'> = {}): WorkerEntry {
  const execArgv = [...process.execArgv, ...(o.execArgv ?? [])];
  let url: URL;
  if (o.workerPath) url = o.workerPath instanceof URL ? o.workerPath : pathToFileURL(o.workerPath);
  else if (/\.[cm]?ts$/.test(new URL(import.meta.url).pathname)) url = new URL('./worker.ts', import.meta.url);
  else {
    url = new URL('./worker.js', import.meta.url);
    if (!existsSync(fileURLToPath(url))) {
      throw new Error('job worker script not found: in a bundled build pass JobQueueOptions.workerPath (electron-vite: import "…/engine/jobs/worker?modulePath")');
    }
  }
  const typescript = /\.[cm]?ts$/.test(url.pathname);
  // tsx's own flags (`--import tsx`, its loader/preflight paths) do not work inside a worker on
  // Node 20; the bootstrap below registers tsx there instead.
  return { url, typescript, execArgv: typescript ? withoutTsx(execArgv) : execArgv };
}

function withoutTsx(args: string[]): string[] {
  const out: string[] = [];
  const isTsx = (a: string) => a === 'tsx' || /[/\\]tsx[/\\]/.test(a);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (/^--(import|require|loader|experimental-loader)$/.test(a) && isTsx(args[i + 1] ?? '')) i++;
    else if (/^--(import|require|loader|experimental-loader)=/.test(a) && isTsx(a.slice(a.indexOf('=') + 1))) continue;
    else out.push(a);
  }
  return out;
}

/**
 * Source code of a worker that registers tsx's ESM hooks in its own thread (tsx/esm/api
 * register(): `--import tsx` in a worker's execArgv does not take effect on Node 20), then
 * imports the TypeScript entry.
 */
export function tsxBootstrap(entry: URL): string {
  const req = createRequire(import.meta.url);
  const pkgFile = req.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { exports: Record<string, { import?: { default?: string } }> };
  const rel = pkg.exports['./esm/api']?.import?.default;
  if (!rel) throw new Error(`${pkgFile}: no ESM export './esm/api' (tsx 4 is expected)`);
  const api = pathToFileURL(path.join(path.dirname(pkgFile), rel)).href;
  return `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
}

const FINAL = new Set<JobInfo['state']>(['done', 'failed', 'cancelled']);

export class JobQueue {
  private readonly jobs = new Map<string, JobRecord>();
  /** requests of jobs not yet started (kept out of JobInfo: they may be large) */
  private readonly requests = new Map<string, { request: unknown; home: string }>();
  private readonly pending: string[] = [];
  private readonly listeners = new Set<(e: JobEvent) => void>();
  private readonly waiters = new Map<string, ((j: JobRecord) => void)[]>();
  private worker: Worker | undefined;
  private current: string | undefined;
  private forceTimer: NodeJS.Timeout | undefined;
  /** worker we terminate on purpose (forced cancel, close): its exit is not a crash */
  private readonly retiring = new Set<Worker>();
  private lastWorkerError: string | undefined;
  /** temporaries each worker has open (see worker.ts): removed when that worker exits */
  private readonly temporaries = new Map<Worker, Set<string>>();
  /** each worker's shared control slots (protocol.ts WorkerControl) */
  private readonly controls = new Map<Worker, Int32Array>();
  private seq = 0;
  /** sequence number of the job running now (the worker compares it with the CANCEL_SEQ slot) */
  private currentSeq = 0;
  private closed = false;

  readonly diagnostics: boolean;

  constructor(private readonly o: JobQueueOptions = {}) {
    this.diagnostics = o.diagnostics ?? process.env.PLMW_DIAGNOSTICS === '1';
  }

  /** The job kinds this queue accepts (diagnostic ones only with `diagnostics`). */
  kindNames(): string[] {
    return jobKindNames({ diagnostics: this.diagnostics });
  }

  accepts(kind: string): boolean {
    return this.kindNames().includes(kind);
  }

  /**
   * Validate and enqueue a job; returns at once. Throws ApiError for a bad request. `home` is
   * the store root the job resolves installed models in (default PLMW_HOME).
   */
  submit(kind: string, request: unknown, o: { home?: string } = {}): JobRecord {
    if (this.closed) throw new ApiError('conflict', 'the job queue is shut down');
    validateJobRequest(kind, request, { diagnostics: this.diagnostics });
    const job: JobRecord = { id: randomUUID(), kind, state: 'queued', createdAt: new Date().toISOString() };
    this.jobs.set(job.id, job);
    this.requests.set(job.id, { request, home: o.home ?? plmwHome() });
    this.pending.push(job.id);
    const queued = this.info(job);
    this.emit({ type: 'job.queued', job: queued });
    this.pump();
    return queued;
  }

  /**
   * Every kept job without its result, and without the last progress of a finished one: small
   * whatever the results are (jobs.result fetches one in full).
   */
  list(): JobSummary[] {
    return [...this.jobs.values()].map((j) => {
      const { result: _result, progress, ...summary } = j;
      return FINAL.has(j.state) || !progress ? summary : { ...summary, progress };
    });
  }

  get(id: string): JobRecord | undefined {
    const j = this.jobs.get(id);
    return j && this.info(j);
  }

  /** One job with its result; ApiError not_found for an unknown job or a result no longer kept. */
  result(id: string): JobRecord {
    const j = this.jobs.get(id);
    if (!j) throw new ApiError('not_found', `no job '${id}' (finished jobs are kept for a while, then forgotten)`);
    if (j.resultDropped) {
      throw new ApiError('not_found', `the result of job '${id}' (${j.kind}) is no longer kept: results of older jobs are let go past ${this.resultBudget()} bytes; run the job again`);
    }
    return this.info(j);
  }

  private resultBudget(): number {
    return this.o.keepResultBytes ?? 256 * 1024 * 1024;
  }

  /** Resolves with the job once it has finished (done, failed or cancelled). */
  wait(id: string): Promise<JobRecord> {
    const j = this.jobs.get(id);
    if (!j) return Promise.reject(new ApiError('not_found', `no job '${id}'`));
    if (FINAL.has(j.state)) return Promise.resolve(this.info(j));
    return new Promise((resolve) => {
      const list = this.waiters.get(id) ?? [];
      list.push(resolve);
      this.waiters.set(id, list);
    });
  }

  /** Subscribe to job events; returns the unsubscribe function. */
  on(listener: (e: JobEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  cancel(id: string): JobRecord {
    const j = this.jobs.get(id);
    if (!j) throw new ApiError('not_found', `no job '${id}'`);
    if (j.state === 'queued') {
      this.pending.splice(this.pending.indexOf(id), 1);
      this.finish(j, 'cancelled');
    } else if (j.state === 'running' && this.worker && !this.forceTimer) {
      const w = this.worker;
      Atomics.store(this.controls.get(w)!, WorkerControl.CANCEL_SEQ, this.currentSeq);
      this.post({ type: 'cancel', jobId: id });
      this.forceTimer = setTimeout(() => {
        this.forceTimer = undefined;
        if (this.current !== id || this.worker !== w) return;
        // The job did not stop (stuck in a long native call, or in a loop): cancel it without
        // its worker, which ends itself when it can (or is terminated: see retire).
        this.retire(w);
        this.current = undefined;
        this.finish(j, 'cancelled');
        this.pump();
      }, this.o.cancelGraceMs ?? 10_000);
    }
    return this.info(j);
  }

  /** Cancel everything and stop the worker. */
  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.pending]) this.cancel(id);
    clearTimeout(this.forceTimer);
    this.forceTimer = undefined;
    const cur = this.current && this.jobs.get(this.current);
    const w = this.worker;
    if (w) {
      const exited = new Promise<void>((r) => w.once('exit', () => r()));
      this.retire(w, Math.min(5000, this.o.terminateAfterMs ?? 5000));
      await exited;
    }
    if (cur && !FINAL.has(cur.state)) this.finish(cur, 'cancelled');
    this.current = undefined;
  }

  private info(j: JobRecord): JobRecord {
    return { ...j };
  }

  private emit(e: JobEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        /* a listener's failure is its own */
      }
    }
  }

  private post(m: ToWorker): void {
    this.worker?.postMessage(m);
  }

  /**
   * Ends a worker without the risk of terminating it inside a native call: it is asked to exit at
   * its next safe point (the EXIT slot, read after every batch, and a message, read when idle),
   * and terminated only if it has not ended within terminateAfterMs.
   */
  private retire(w: Worker, terminateAfterMs = this.o.terminateAfterMs ?? 30_000): void {
    this.retiring.add(w);
    if (this.worker === w) this.worker = undefined;
    Atomics.store(this.controls.get(w)!, WorkerControl.EXIT, 1);
    w.postMessage({ type: 'exit' } satisfies ToWorker);
    const backstop = setTimeout(() => void w.terminate(), terminateAfterMs);
    backstop.unref();
    w.once('exit', () => clearTimeout(backstop));
  }

  private spawn(): Worker {
    const entry = workerEntry(this.o);
    const control = new SharedArrayBuffer(4 * WorkerControl.SLOTS);
    const cfg: WorkerConfig = { progressIntervalMs: this.o.progressIntervalMs ?? 100, control };
    const opts = { execArgv: entry.execArgv, workerData: cfg, resourceLimits: { maxYoungGenerationSizeMb: 8, ...this.o.resourceLimits } };
    const w = entry.typescript ? new Worker(tsxBootstrap(entry.url), { ...opts, eval: true }) : new Worker(entry.url, opts);
    w.on('message', (m: FromWorker) => this.onMessage(w, m));
    w.on('error', (e) => {
      this.lastWorkerError = e.message;
    });
    w.on('exit', (code) => this.onExit(w, code));
    this.temporaries.set(w, new Set());
    this.controls.set(w, new Int32Array(control));
    return w;
  }

  private pump(): void {
    if (this.current || this.closed || this.pending.length === 0) return;
    const id = this.pending.shift()!;
    const j = this.jobs.get(id)!;
    this.worker ??= this.spawn();
    this.worker.ref();
    this.current = id;
    j.state = 'running';
    j.startedAt = new Date().toISOString();
    this.emit({ type: 'job.started', jobId: id, kind: j.kind });
    const { request, home } = this.requests.get(id)!;
    this.requests.delete(id);
    this.currentSeq = ++this.seq;
    this.post({ type: 'run', jobId: id, kind: j.kind, request, home, seq: this.currentSeq });
  }

  private onMessage(w: Worker, m: FromWorker): void {
    if (m.type === 'temporary') {
      const open = this.temporaries.get(w);
      if (m.open) open?.add(m.file);
      else open?.delete(m.file);
      // Also counted as this process's own: a signal handler or exit of the main thread removes it.
      adoptTemporary(m.file, m.open);
      return;
    }
    if (w !== this.worker || m.jobId !== this.current) return;
    const j = this.jobs.get(m.jobId)!;
    if (m.type === 'progress') {
      j.progress = { jobId: j.id, kind: j.kind, ...m.progress };
      this.emit({ type: 'job.progress', ...j.progress });
      return;
    }
    j.memory = m.memory;
    this.current = undefined;
    clearTimeout(this.forceTimer);
    this.forceTimer = undefined;
    if (m.type === 'done') {
      j.result = m.result;
      j.resultBytes = m.resultBytes;
      this.finish(j, 'done');
    } else if (m.type === 'failed') {
      j.error = m.message;
      this.finish(j, 'failed');
    } else {
      this.finish(j, 'cancelled');
    }
    if (this.pending.length === 0) w.unref();
    this.pump();
  }

  private onExit(w: Worker, code: number): void {
    // Whatever the worker still had open is half written: a terminated or crashed writer.
    removeLiveTemporaries(this.temporaries.get(w) ?? []);
    this.temporaries.delete(w);
    this.controls.delete(w);
    if (this.retiring.delete(w)) return;
    if (this.worker === w) this.worker = undefined;
    const id = this.current;
    this.current = undefined;
    clearTimeout(this.forceTimer);
    this.forceTimer = undefined;
    if (id) {
      const j = this.jobs.get(id)!;
      j.error = `the job worker stopped unexpectedly (exit code ${code})${this.lastWorkerError ? `: ${this.lastWorkerError}` : ''}`;
      this.finish(j, 'failed');
    }
    this.lastWorkerError = undefined;
    this.pump();
  }

  private finish(j: JobRecord, state: 'done' | 'failed' | 'cancelled'): void {
    j.state = state;
    j.finishedAt = new Date().toISOString();
    this.requests.delete(j.id);
    const seconds = j.startedAt ? (Date.parse(j.finishedAt) - Date.parse(j.startedAt)) / 1000 : 0;
    if (state === 'done') this.emit({ type: 'job.done', jobId: j.id, kind: j.kind, result: j.result, seconds });
    else if (state === 'failed') this.emit({ type: 'job.failed', jobId: j.id, kind: j.kind, message: j.error ?? 'failed' });
    else this.emit({ type: 'job.cancelled', jobId: j.id, kind: j.kind });
    for (const resolve of this.waiters.get(j.id) ?? []) resolve(this.info(j));
    this.waiters.delete(j.id);
    this.prune();
  }

  private prune(): void {
    const keep = this.o.keepFinished ?? 200;
    const finished = [...this.jobs.values()].filter((j) => FINAL.has(j.state));
    for (const j of finished.slice(0, Math.max(0, finished.length - keep))) this.jobs.delete(j.id);
    // Results, newest first, up to the budget (the newest is always kept); older ones are let
    // go, their summaries stay.
    let bytes = 0;
    let kept = 0;
    for (const j of [...this.jobs.values()].reverse()) {
      if (j.result === undefined) continue;
      bytes += j.resultBytes ?? 0;
      if (bytes > this.resultBudget() && kept > 0) {
        j.result = undefined;
        j.resultDropped = true;
      } else kept++;
    }
  }
}
