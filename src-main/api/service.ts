// The API service: one implementation of the contract, used by every front (Electron IPC,
// browser-mode HTTP, and in-process callers such as tests). `handle` takes an untrusted method
// name and request, validates the request against the contract, runs it, and answers an
// ApiResult envelope; it never throws. Jobs go to the JobQueue (worker thread); the heavy plain
// calls (FASTA parsing, model import) to the call worker when the front gives one; everything
// else here is light, asynchronous file work on the main thread.
import path from 'node:path';
import pkg from '../../package.json' with { type: 'json' };
import type { CallWorker } from '../engine/jobs/calls.js';
import type { JobQueue } from '../engine/jobs/queue.js';
import { listRegistryModels } from '../engine/models/registry.js';
import { listInstalledModels, plmwHome, removeModel } from '../engine/models/store.js';
import { listDatasets } from '../engine/datasets/store.js';
import { listPredictions, predictionResult } from '../engine/predictions/store.js';
import { defaultResourcesDir, listSamples } from '../engine/samples.js';
import { readSession, writeSessionPart } from '../engine/session/store.js';
import { compareRuns, deleteRun, listRuns, openRun, renameRun, runsRoot } from '../engine/runs/store.js';
import { loadSettings, saveSettings, settingsFile } from '../settings/settings.js';
import {
  REQUEST_SCHEMAS,
  type ApiEvent,
  type ApiMethod,
  type ApiMethods,
  type ApiRequest,
  type ApiResponse,
  type ApiResult,
  type Front,
  type PlainMethod,
  type Settings,
} from './contract.js';
import { toApiError } from './engine-errors.js';
import { ApiError, type ApiErrorCode, toErrorInfo } from './errors.js';
import { HEAVY_CALLS, type HeavyMethod, isHeavyMethod } from './heavy-calls.js';

export interface ApiServiceOptions {
  front: Front;
  jobs: JobQueue;
  /** data root: runs/ lives here, and models/ unless settings name another folder (default PLMW_HOME) */
  home?: string;
  /** settings file (default <home>/settings.json; Electron: <userData>/settings.json) */
  settingsFile?: string;
  /** the shipped resources/ folder (samples); default: the checkout's */
  resourcesDir?: string;
  /** native file dialog (Electron front only) */
  openDialog?: (o: { kind: 'fasta' | 'structure'; multiple: boolean }) => Promise<string[]>;
  /** runs the heavy calls (FASTA parsing, model import) off the main thread; without one they run here */
  calls?: CallWorker;
  /** what this front says about itself in health (browser mode: its request body limit) */
  limits?: { requestBodyBytes?: number };
}

type Handlers = { [M in PlainMethod]: (req: ApiMethods[M]['request']) => Promise<ApiMethods[M]['response']> };

export class ApiService {
  readonly home: string;
  readonly settingsPath: string;
  private settings: Settings;
  private settingsProblem: string | undefined;
  private readonly listeners = new Set<(e: ApiEvent) => void>();
  private readonly unsubscribe: () => void;

  constructor(private readonly o: ApiServiceOptions) {
    this.home = path.resolve(o.home ?? plmwHome());
    this.settingsPath = o.settingsFile ?? settingsFile(this.home);
    const loaded = loadSettings(this.settingsPath);
    this.settings = loaded.settings;
    this.settingsProblem = loaded.problem;
    this.unsubscribe = o.jobs.on((e) => this.emit(e));
  }

  /** Store root for models: the settings' model folder, else home. */
  modelHome(): string {
    return this.settings.modelFolder ?? this.home;
  }

  /** Subscribe to events (job events and front events); returns the unsubscribe function. */
  onEvent(cb: (e: ApiEvent) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Send an event to every subscriber (fronts use it for files.opened). */
  emit(e: ApiEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        /* a subscriber's failure is its own */
      }
    }
  }

  /** Typed call for in-process callers; throws ApiError. */
  async call<M extends ApiMethod>(method: M, request: ApiRequest<M>): Promise<ApiResponse<M>> {
    return (await this.dispatch(method, request)) as ApiResponse<M>;
  }

  /** Untrusted call from a transport: validated, never throws. */
  async handle(method: unknown, request: unknown): Promise<ApiResult> {
    try {
      if (typeof method !== 'string') throw new ApiError('unknown_method', 'method must be a string');
      return { ok: true, result: await this.dispatch(method, request) };
    } catch (e) {
      return { ok: false, error: toErrorInfo(e) };
    }
  }

  /**
   * A heavy call answered straight from a raw request body (browser mode): decoding, parsing,
   * the work and the JSON answer all happen in the call worker. Null when this service has no
   * call worker or `method` is not a heavy call: then parse the body and use handle().
   */
  async handleRaw(method: string, body: Uint8Array): Promise<{ json: Uint8Array; code?: ApiErrorCode } | null> {
    if (!this.o.calls || !isHeavyMethod(method)) return null;
    return this.o.calls.callRaw(method, body, { modelHome: this.modelHome() });
  }

  /** Parse a large request body off the main thread (the body is handed over); undefined without a call worker: parse it yourself. */
  async parseBody(body: Uint8Array): Promise<unknown> {
    return this.o.calls ? this.o.calls.parseJson(body) : undefined;
  }

  private async heavy<M extends HeavyMethod>(method: M, req: ApiMethods[M]['request']): Promise<ApiMethods[M]['response']> {
    const ctx = { modelHome: this.modelHome() };
    if (this.o.calls) return (await this.o.calls.call(method, req, ctx)) as ApiMethods[M]['response'];
    return (HEAVY_CALLS[method] as (r: typeof req, c: typeof ctx) => Promise<ApiMethods[M]['response']>)(req, ctx);
  }

  /** Validate and run; throws ApiError (bad_request names the field; engine failures keep their message). */
  async dispatch(method: string, request: unknown): Promise<unknown> {
    try {
      return await this.route(method, request);
    } catch (e) {
      throw toApiError(e);
    }
  }

  private async route(method: string, request: unknown): Promise<unknown> {
    if (Object.prototype.hasOwnProperty.call(REQUEST_SCHEMAS, method)) {
      const m = method as PlainMethod;
      const req = REQUEST_SCHEMAS[m].parse(request ?? {}, 'request');
      return (this.handlers[m] as (r: unknown) => Promise<unknown>)(req);
    }
    if (this.o.jobs.accepts(method)) {
      const job = this.o.jobs.submit(method, this.withJobDefaults(method, request), { home: this.modelHome() });
      return { jobId: job.id, kind: job.kind };
    }
    throw new ApiError('unknown_method', `unknown method '${method}' (known: ${[...Object.keys(REQUEST_SCHEMAS), ...this.o.jobs.kindNames()].join(', ')})`);
  }

  /** Settings supply defaults the request leaves out (providers, threads for model jobs). */
  private withJobDefaults(kind: string, request: unknown): unknown {
    if (kind !== 'infer' || typeof request !== 'object' || request === null || Array.isArray(request)) return request;
    const r = { ...(request as Record<string, unknown>) };
    if (r.providers === undefined && this.settings.providers) r.providers = this.settings.providers;
    if (r.threads === undefined && this.settings.threads) r.threads = this.settings.threads;
    return r;
  }

  private runsRoot(root: string | undefined): string {
    return root ?? runsRoot(this.home);
  }

  private readonly handlers: Handlers = {
    health: async () => ({
      status: 'ok',
      name: 'plm-workbench',
      version: pkg.version,
      front: this.o.front,
      capabilities: { nativeDialogs: this.o.openDialog !== undefined, ...(this.o.limits?.requestBodyBytes ? { requestBodyBytes: this.o.limits.requestBodyBytes } : {}) },
      jobKinds: this.o.jobs.kindNames(),
    }),
    'models.list': async () => {
      const home = this.modelHome();
      return { home, installed: await listInstalledModels({ home }), registry: listRegistryModels() };
    },
    'models.import': async (r) => this.heavy('models.import', r),
    'fasta.parse': async (r) => this.heavy('fasta.parse', r),
    'runs.list': async (r) => {
      const root = this.runsRoot(r.root);
      return { root, runs: await listRuns(root) };
    },
    'runs.get': async (r) => openRun(this.runsRoot(r.root), r.id),
    'runs.rename': async (r) => renameRun(this.runsRoot(r.root), r.id, r.name),
    'runs.delete': async (r) => deleteRun(this.runsRoot(r.root), r.id),
    'runs.compare': async (r) => compareRuns(this.runsRoot(r.root), r.ids),
    'jobs.list': async () => ({ jobs: this.o.jobs.list() }),
    'jobs.result': async (r) => this.o.jobs.result(r.jobId),
    'jobs.cancel': async (r) => this.o.jobs.cancel(r.jobId),
    'settings.get': async () => this.settingsResponse(),
    'settings.set': async (r) => {
      this.settings = await saveSettings(this.settingsPath, r);
      this.settingsProblem = undefined;
      return this.settingsResponse();
    },
    'dialog.open': async (r) => {
      if (!this.o.openDialog) throw new ApiError('unsupported', `native file dialogs exist only in the desktop app (this is the ${this.o.front} front): pick or drop the file in the page instead`);
      return { paths: await this.o.openDialog({ kind: r.kind, multiple: r.multiple ?? false }) };
    },
    'models.remove': async (r) => {
      const installed = await listInstalledModels({ home: this.modelHome() });
      if (!installed.some((m) => m.name === r.name)) throw new ApiError('not_found', `no installed model '${r.name}' in ${this.modelHome()}`);
      await removeModel(r.name, { home: this.modelHome() });
      return { removed: r.name };
    },
    // jobs write predictions and data sets under their store root (the model folder when one is set)
    'predictions.list': async () => listPredictions(this.modelHome()),
    'predictions.get': async (r) => predictionResult(r.json),
    'session.get': async () => readSession(this.home),
    'session.set': async (r) => {
      try {
        return await writeSessionPart(this.home, r.part, r.value);
      } catch (e) {
        if (e instanceof RangeError) throw new ApiError('bad_request', e.message, 'value');
        throw e;
      }
    },
    'data.list': async () => listDatasets(this.modelHome()),
    'samples.list': async () => listSamples(this.o.resourcesDir ?? defaultResourcesDir()),
  };

  private settingsResponse() {
    const r: ApiMethods['settings.get']['response'] = { settings: this.settings, file: this.settingsPath };
    if (this.settingsProblem) r.problem = this.settingsProblem;
    return r;
  }

  /** Stop forwarding job events (the queue itself belongs to the caller). */
  dispose(): void {
    this.unsubscribe();
    this.listeners.clear();
  }
}
