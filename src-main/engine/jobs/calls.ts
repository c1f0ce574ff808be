// CallWorker: the main thread's side of the call worker (./call-worker.ts). Started on first
// use, kept unreferenced while idle (it never holds a process open), started again after a
// crash, which fails only the calls in flight.
import { Worker } from 'node:worker_threads';
import type { ApiErrorCode, ApiErrorInfo } from '../../api/errors.js';
import { ApiError } from '../../api/errors.js';
import type { HeavyContext, HeavyMethod } from '../../api/heavy-calls.js';
import { tsxBootstrap, workerEntry } from './queue.js';

export type CallRequest =
  | { id: number; type: 'call'; method: HeavyMethod; request: unknown; ctx: HeavyContext }
  | { id: number; type: 'raw'; method: HeavyMethod; body: Uint8Array; ctx: HeavyContext }
  | { id: number; type: 'parse'; body: Uint8Array };

export type CallReply =
  | { id: number; ok: true; value?: unknown; json?: Uint8Array; code?: ApiErrorCode }
  | { id: number; ok: false; error: ApiErrorInfo };

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface CallWorkerOptions {
  /** the worker script (required in bundles: electron-vite `…/engine/jobs/call-worker?modulePath`) */
  workerPath?: string | URL;
}

export class CallWorker {
  private worker: Worker | undefined;
  private next = 1;
  private readonly pending = new Map<number, { resolve: (r: CallReply) => void; reject: (e: unknown) => void }>();

  constructor(private readonly o: CallWorkerOptions = {}) {}

  /** Run a heavy call; resolves with its result. Throws ApiError as the handler would. */
  async call(method: HeavyMethod, request: unknown, ctx: HeavyContext): Promise<unknown> {
    return (await this.send({ type: 'call', method, request, ctx })).value;
  }

  /** HTTP: the raw body in (handed over, not copied), the ApiResult as JSON bytes out, with its error code if it is one. */
  async callRaw(method: HeavyMethod, body: Uint8Array, ctx: HeavyContext): Promise<{ json: Uint8Array; code?: ApiErrorCode }> {
    const r = await this.send({ type: 'raw', method, body, ctx }, [body.buffer as ArrayBuffer]);
    return { json: r.json!, code: r.code };
  }

  /** A large JSON request body, decoded (strict UTF-8) and parsed off the main thread. */
  async parseJson(body: Uint8Array): Promise<unknown> {
    return (await this.send({ type: 'parse', body }, [body.buffer as ArrayBuffer])).value;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }

  private send(m: WithoutId<CallRequest>, transfer: ArrayBuffer[] = []): Promise<Extract<CallReply, { ok: true }>> {
    const w = (this.worker ??= this.spawn());
    const id = this.next++;
    w.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        resolve: (r) => (r.ok ? resolve(r) : reject(new ApiError(r.error.code, r.error.message, r.error.field))),
        reject,
      });
      w.postMessage({ ...m, id }, transfer);
    });
  }

  private spawn(): Worker {
    const ts = /\.[cm]?ts$/.test(new URL(import.meta.url).pathname);
    const entry = workerEntry({ workerPath: this.o.workerPath ?? new URL(ts ? './call-worker.ts' : './call-worker.js', import.meta.url) });
    const opts = { execArgv: entry.execArgv };
    const w = entry.typescript ? new Worker(tsxBootstrap(entry.url), { ...opts, eval: true }) : new Worker(entry.url, opts);
    let lastError = '';
    w.on('message', (r: CallReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (this.pending.size === 0) w.unref();
      p.resolve(r);
    });
    w.on('error', (e) => (lastError = e.message));
    w.on('exit', (code) => {
      if (this.worker === w) this.worker = undefined;
      for (const [, p] of this.pending) p.reject(new ApiError('failed', `the call worker stopped (exit code ${code})${lastError ? `: ${lastError}` : ''}`));
      this.pending.clear();
    });
    return w;
  }
}
