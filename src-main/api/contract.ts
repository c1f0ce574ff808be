// The one typed contract shared by every front: the Electron window (IPC through the preload),
// the browser mode (HTTP + Server-Sent Events on 127.0.0.1) and the `plmw` CLI.
//
// A call is `method` + JSON request -> JSON response. Every request is checked at run time by
// the schema below before anything runs, by every front alike; a bad request is answered with
// ApiError('bad_request') naming the field. Long work is a job: the call answers `{ jobId }`
// at once and the job reports through events (`job.progress`, then `job.done`, `job.failed`
// or `job.cancelled`).
//
// Pure TypeScript with no Node imports (the renderer imports it); engine types are imported as
// types only.
//
// EXTENSION POINT (trainer / tasks code): job kinds are open. `train`, `evaluate`, `predict` and
// `export` are reserved names (RESERVED_JOB_KINDS). To add one:
//   1. declare its request (and result) type by merging into JobKinds / JobResults:
//        declare module '../../api/contract.js' { interface JobKinds { train: TrainRequest } }
//   2. register it with registerJobKind('train', { validate, run }) (src-main/api/job-kinds.ts)
//      in a module imported from src-main/engine/jobs/kinds.ts (see the marked block there), so
//      both the main process (validation) and the job worker (run) know it.
// It then becomes an API method of the same name on every front, returning { jobId }.
import type { Note } from '../engine/data/errors.js';
import type { FastaRecord } from '../engine/data/fasta.js';
import type { EmitKind } from '../engine/esm2/infer.js';
import type { InstalledModel } from '../engine/models/store.js';
import type { ModelSpec } from '../engine/models/registry.js';
import type { ProviderName } from '../engine/runtime/providers.js';
import type { CompareTable, RunDetail, RunSummary } from '../engine/runs/types.js';
import type { ApiErrorInfo } from './errors.js';
import { array, boolean, integer, invalid, object, oneOf, optional, string, type Schema } from './schema.js';

// ---- shared value lists (checked against the engine's types at compile time) -------------------

export const EMIT_KINDS = ['logits', 'representations', 'attentions', 'contacts'] as const;
export const PROVIDERS = ['cuda', 'webgpu', 'cpu'] as const;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const emitKindsMatchEngine: Same<(typeof EMIT_KINDS)[number], EmitKind> = true;
const providersMatchEngine: Same<(typeof PROVIDERS)[number], ProviderName> = true;
void emitKindsMatchEngine;
void providersMatchEngine;

/** Job kinds the trainer/tasks code will register (see EXTENSION POINT above). */
export const RESERVED_JOB_KINDS = ['train', 'evaluate', 'predict', 'export'] as const;

const RUN_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$/;
const MODEL_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const runId = string({ pattern: RUN_ID, patternHint: "must be a run folder name (letters, digits, '_', '-', '.', not first)" });
const path_ = string({ minLength: 1, maxLength: 4096 });
const runsRoot = optional(path_);

// ---- requests -----------------------------------------------------------------------------------

const none = object({});

const fastaParse = object(
  {
    /** FASTA text (e.g. from a dropped or picked file in the browser) */
    text: optional(string({ maxLength: 512 * 1024 * 1024 })),
    /** or a path on this machine */
    path: optional(path_),
    allowGaps: optional(boolean()),
  },
  (v) => {
    if ((v.text === undefined) === (v.path === undefined)) invalid(v.text === undefined ? 'text' : 'path', 'give exactly one of text or path');
  },
);

const modelsImport = object({
  /** a Hugging Face ESM-2 folder on this machine */
  dir: path_,
  name: optional(string({ pattern: MODEL_NAME, patternHint: "must be letters, digits, '_', '-', '.' (not first), at most 128 characters" })),
  mode: optional(oneOf(['auto', 'copy', 'link'] as const)),
  overwrite: optional(boolean()),
});

const settings = object({
  /** store root holding models/ (default $PLMW_HOME or ~/.plm-workbench) */
  modelFolder: optional(path_),
  /** execution providers in order of preference (cpu is always the last resort) */
  providers: optional(array(oneOf(PROVIDERS), { minItems: 1, unique: true })),
  /** onnxruntime intra-op threads; absent = all cores */
  threads: optional(integer({ min: 1, max: 1024 })),
});

export const REQUEST_SCHEMAS = {
  health: none,
  'models.list': none,
  'models.import': modelsImport,
  'fasta.parse': fastaParse,
  'runs.list': object({ root: runsRoot }),
  'runs.get': object({ id: runId, root: runsRoot }),
  'runs.rename': object({ id: runId, name: string({ minLength: 1, maxLength: 200 }), root: runsRoot }),
  'runs.delete': object({ id: runId, root: runsRoot }),
  'runs.compare': object({ ids: array(runId, { minItems: 1, maxItems: 64, unique: true }), root: runsRoot }),
  'jobs.list': none,
  'jobs.cancel': object({ jobId: string({ minLength: 1, maxLength: 100 }) }),
  'settings.get': none,
  'settings.set': settings,
  /** native file dialog; Electron front only (browser mode answers 'unsupported') */
  'dialog.open': object({ kind: oneOf(['fasta', 'structure'] as const), multiple: optional(boolean()) }),
} satisfies Record<string, Schema<unknown>>;

// ---- job requests (each also an API method answering { jobId }) ---------------------------------

const SEQ_ID = /^[^\s>]{1,1000}$/;

export const JOB_SCHEMAS = {
  infer: object(
    {
      /** a model folder, or the name of an installed model */
      model: string({ minLength: 1, maxLength: 4096 }),
      /** sequences given inline (checked by the same FASTA policy as files) ... */
      sequences: optional(
        array(object({ id: string({ pattern: SEQ_ID, patternHint: 'must be a FASTA id: no spaces, no >' }), sequence: string({ minLength: 1 }) }), { minItems: 1 }),
      ),
      /** ... or a FASTA file */
      fasta: optional(path_),
      /** default logits,representations (as `plmw infer`) */
      emit: optional(array(oneOf(EMIT_KINDS), { minItems: 1, unique: true })),
      /** output .safetensors, written atomically; the same file `plmw infer --out` writes */
      out: path_,
      providers: optional(array(oneOf(PROVIDERS), { minItems: 1, unique: true })),
      threads: optional(integer({ min: 1, max: 1024 })),
      tokenBudget: optional(integer({ min: 1 })),
      window: optional(integer({ min: 1 })),
      overlap: optional(integer({ min: 0 })),
      /** run the valid records when some are rejected (default: fail) */
      skipInvalid: optional(boolean()),
    },
    (v) => {
      if ((v.sequences === undefined) === (v.fasta === undefined)) invalid(v.sequences === undefined ? 'sequences' : 'fasta', 'give exactly one of sequences or fasta');
    },
  ),
  'models.download': object({
    /** registry name (esm2_t6_8M_UR50D) or Hugging Face repo id */
    model: string({ minLength: 1, maxLength: 200 }),
    revision: optional(string({ minLength: 1, maxLength: 200 })),
    force: optional(boolean()),
  }),
  /** diagnostic: burns CPU in the job worker for `ms` milliseconds (tests, health checks) */
  selftest: object({
    ms: integer({ min: 0, max: 600_000 }),
    /** steps between cancellation checks / progress reports (default 20) */
    steps: optional(integer({ min: 1, max: 100_000 })),
    /** fail with this message at the end */
    fail: optional(string({ minLength: 1, maxLength: 1000 })),
    /** do not yield to the worker's event loop at all (tests the forced cancellation) */
    block: optional(boolean()),
  }),
} satisfies Record<string, Schema<unknown>>;

type SchemaType<S> = S extends Schema<infer T> ? T : never;
type Req<K extends keyof typeof REQUEST_SCHEMAS> = SchemaType<(typeof REQUEST_SCHEMAS)[K]>;

export type FastaParseRequest = Req<'fasta.parse'>;
export type ModelsImportRequest = Req<'models.import'>;
export type Settings = Req<'settings.set'>;
export type InferRequest = SchemaType<(typeof JOB_SCHEMAS)['infer']>;
export type ModelsDownloadRequest = SchemaType<(typeof JOB_SCHEMAS)['models.download']>;
export type SelftestRequest = SchemaType<(typeof JOB_SCHEMAS)['selftest']>;
export const SETTINGS_SCHEMA: Schema<Settings> = settings;

// ---- responses ----------------------------------------------------------------------------------

export type Front = 'electron' | 'web' | 'cli';

export interface HealthResponse {
  status: 'ok';
  name: 'plm-workbench';
  version: string;
  front: Front;
  /** what this front can do beyond the common API */
  capabilities: { nativeDialogs: boolean };
  jobKinds: string[];
}

export interface ModelsListResponse {
  /** the store root the models were listed from */
  home: string;
  installed: InstalledModel[];
  registry: readonly ModelSpec[];
}

export interface FastaParseResponse {
  file: string;
  records: FastaRecord[];
  /** the validation report: what was changed, rejected or is worth a warning, located */
  notes: Note[];
}

export interface JobStarted {
  jobId: string;
  kind: string;
}

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobProgress {
  jobId: string;
  kind: string;
  phase: string;
  done: number;
  total: number;
  /** items per second in `rateUnit` (tokens or sequences per second for models) */
  rate: number;
  rateUnit: string;
  /** estimated seconds left; null while unknown */
  etaSeconds: number | null;
  loss?: number;
  metric?: { name: string; value: number };
}

export interface JobMemory {
  /** highest process RSS the job worker saw while the job ran (bytes) */
  rssPeakBytes: number;
  /** process RSS when the job ended */
  rssEndBytes: number;
  /** the worker isolate's V8 heap in use when the job ended */
  heapUsedBytes: number;
}

export interface JobInfo {
  id: string;
  kind: string;
  state: JobState;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  progress?: JobProgress;
  result?: unknown;
  error?: string;
  memory?: JobMemory;
}

export interface InferResult {
  out: string;
  sequences: number;
  residues: number;
  tensors: number;
  provider: string;
  seconds: number;
  /** the FASTA validation report of the input */
  notes: Note[];
  /** sequences run as overlapping windows */
  longSequences: string[];
}

export interface SelftestResult {
  ms: number;
  steps: number;
}

export interface SettingsResponse {
  settings: Settings;
  /** where they are kept */
  file: string;
  /** why the file on disk was not used (the defaults apply) */
  problem?: string;
}

export interface ApiMethods {
  health: { request: Req<'health'>; response: HealthResponse };
  'models.list': { request: Req<'models.list'>; response: ModelsListResponse };
  'models.import': { request: ModelsImportRequest; response: InstalledModel };
  'fasta.parse': { request: FastaParseRequest; response: FastaParseResponse };
  'runs.list': { request: Req<'runs.list'>; response: { root: string; runs: RunSummary[] } };
  'runs.get': { request: Req<'runs.get'>; response: RunDetail };
  'runs.rename': { request: Req<'runs.rename'>; response: RunSummary };
  'runs.delete': { request: Req<'runs.delete'>; response: { trashedTo: string } };
  'runs.compare': { request: Req<'runs.compare'>; response: CompareTable };
  'jobs.list': { request: Req<'jobs.list'>; response: { jobs: JobInfo[] } };
  'jobs.cancel': { request: Req<'jobs.cancel'>; response: JobInfo };
  'settings.get': { request: Req<'settings.get'>; response: SettingsResponse };
  'settings.set': { request: Settings; response: SettingsResponse };
  'dialog.open': { request: Req<'dialog.open'>; response: { paths: string[] } };
}

/** Job kinds by request type. EXTENSION POINT: merge `train`, `evaluate`, ... into this interface. */
export interface JobKinds {
  infer: InferRequest;
  'models.download': ModelsDownloadRequest;
  selftest: SelftestRequest;
}

/** Job results by kind (what `job.done` carries). EXTENSION POINT, as JobKinds. */
export interface JobResults {
  infer: InferResult;
  'models.download': InstalledModel;
  selftest: SelftestResult;
}

export type PlainMethod = keyof ApiMethods;
export type JobMethod = keyof JobKinds;
export type ApiMethod = PlainMethod | JobMethod;
export type ApiRequest<M extends ApiMethod> = M extends PlainMethod ? ApiMethods[M]['request'] : M extends JobMethod ? JobKinds[M] : never;
export type ApiResponse<M extends ApiMethod> = M extends PlainMethod ? ApiMethods[M]['response'] : JobStarted;

/** What crosses a transport: never a thrown error, always one of these. */
export type ApiResult<T = unknown> = { ok: true; result: T } | { ok: false; error: ApiErrorInfo };

// ---- events -------------------------------------------------------------------------------------

export type ApiEvent =
  | { type: 'job.queued'; job: JobInfo }
  | { type: 'job.started'; jobId: string; kind: string }
  | ({ type: 'job.progress' } & JobProgress)
  | { type: 'job.done'; jobId: string; kind: string; result: unknown; seconds: number }
  | { type: 'job.failed'; jobId: string; kind: string; message: string }
  | { type: 'job.cancelled'; jobId: string; kind: string }
  /** files chosen from the application menu or dropped on the window (Electron) */
  | { type: 'files.opened'; kind: 'fasta' | 'structure'; paths: string[] }
  /** an application-menu command the page carries out (Electron) */
  | { type: 'menu.command'; command: 'settings' };

export type ApiEventType = ApiEvent['type'];

/** The object the Electron preload exposes as `window.plmw`. */
export interface PlmwBridge {
  call<M extends ApiMethod>(method: M, request: ApiRequest<M>): Promise<ApiResult<ApiResponse<M>>>;
  /** subscribe to events; returns the unsubscribe function */
  onEvent(cb: (event: ApiEvent) => void): () => void;
  /** the path of a dropped File (Electron's webUtils.getPathForFile); '' when it has none */
  pathForFile(file: File): string;
}
