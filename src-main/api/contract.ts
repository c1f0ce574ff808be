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
import type { MemoryEstimate } from '../engine/train/memory-estimate.js';
import type { MethodName } from '../engine/peft/index.js';
import type { ProviderName } from '../engine/runtime/providers.js';
import type { CompareTable, ImportedFrom, ImportTask, RunDetail, RunSummary } from '../engine/runs/types.js';
import type { DatasetListing, InstalledDataset } from '../engine/datasets/store.js';
import type { SessionParts } from '../engine/session/store.js';
import type { ApiErrorInfo } from './errors.js';
import { array, boolean, integer, invalid, number, object, oneOf, optional, string, type Schema } from './schema.js';

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

/** Plain JSON data (objects, arrays, strings, finite numbers, booleans, null), at most 64 levels deep. */
const jsonData: Schema<unknown> = {
  describe: 'JSON data',
  parse(v, path) {
    const check = (x: unknown, depth: number): void => {
      if (depth > 64) invalid(path, 'is nested more than 64 levels deep');
      if (x === null || typeof x === 'string' || typeof x === 'boolean') return;
      if (typeof x === 'number') {
        if (!Number.isFinite(x)) invalid(path, 'holds a number that is not finite');
        return;
      }
      if (Array.isArray(x)) return x.forEach((y) => check(y, depth + 1));
      if (typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) return Object.values(x).forEach((y) => check(y, depth + 1));
      invalid(path, `must be JSON data, got ${typeof x}`);
    };
    check(v, 0);
    return v;
  },
};

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
  /** every kept job, without results (see JobSummary) */
  'jobs.list': none,
  /** one job with its result */
  'jobs.result': object({ jobId: string({ minLength: 1, maxLength: 100 }) }),
  'jobs.cancel': object({ jobId: string({ minLength: 1, maxLength: 100 }) }),
  'settings.get': none,
  'settings.set': settings,
  /** native file dialog; Electron front only (browser mode answers 'unsupported') */
  'dialog.open': object({ kind: oneOf(['fasta', 'structure'] as const), multiple: optional(boolean()) }),
  /** remove an installed model from the store (its folder) */
  'models.remove': object({ name: string({ pattern: MODEL_NAME, patternHint: 'must be an installed model name' }) }),
  /** predictions kept under <home>/predictions, newest first */
  'predictions.list': none,
  /** one kept prediction in the form the views plot */
  'predictions.get': object({ json: string({ minLength: 6, maxLength: 4096, pattern: /\.json$/, patternHint: "must be a prediction's .json file" }) }),
  /** the saved session (every part) */
  'session.get': none,
  /** save one part of the session (replaces it) */
  'session.set': object({ part: string({ pattern: /^[a-z][a-z0-9-]{0,40}$/, patternHint: "must be lowercase letters, digits and '-'" }), value: jsonData }),
  /** public training and test sets, with their licences and what is installed */
  'data.list': none,
  /** the sample files that ship with the workbench (resources/samples) */
  'samples.list': none,
} satisfies Record<string, Schema<unknown>>;

// ---- job requests (each also an API method answering { jobId }) ---------------------------------

const SEQ_ID = /^[^\s>]{1,1000}$/;

export const JOB_SCHEMAS = {
  infer: object(
    {
      /** a model folder, or the name of an installed model ... */
      model: optional(string({ minLength: 1, maxLength: 4096 })),
      /** ... or a run (its folder, or its id in `root`): the fine-tuned model, outputs under the same names */
      run: optional(string({ minLength: 1, maxLength: 4096 })),
      root: runsRoot,
      /** sequences given inline (checked by the same FASTA policy as files) ... */
      sequences: optional(
        array(object({ id: string({ pattern: SEQ_ID, patternHint: 'must be a FASTA id: no spaces, no >' }), sequence: string({ minLength: 1 }) }), { minItems: 1 }),
      ),
      /** ... or a FASTA file */
      fasta: optional(path_),
      /** default logits,representations (as `plmw infer`) */
      emit: optional(array(oneOf(EMIT_KINDS), { minItems: 1, unique: true })),
      /** which representations (fair-esm's repr_layers: 0..L, negative from the end); default the last */
      reprLayers: optional(array(integer({ min: -100000, max: 100000 }), { minItems: 1, unique: true })),
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
      if ((v.model === undefined) === (v.run === undefined)) invalid(v.model === undefined ? 'model' : 'run', 'give exactly one of model or run');
    },
  ),
  'models.download': object({
    /** registry name (esm2_t6_8M_UR50D) or Hugging Face repo id */
    model: string({ minLength: 1, maxLength: 200 }),
    revision: optional(string({ minLength: 1, maxLength: 200 })),
    force: optional(boolean()),
  }),
  /** diagnostic (accepted only by a queue with diagnostics on): burns CPU in the job worker for `ms` milliseconds */
  selftest: object({
    ms: integer({ min: 0, max: 600_000 }),
    /** steps between cancellation checks / progress reports (default 20) */
    steps: optional(integer({ min: 1, max: 100_000 })),
    /** fail with this message at the end */
    fail: optional(string({ minLength: 1, maxLength: 1000 })),
    /** do not yield to the worker's event loop at all (tests the forced cancellation) */
    block: optional(boolean()),
    /** return a result this many bytes long (tests of result handling) */
    payloadBytes: optional(integer({ min: 0, max: 64 * 1024 * 1024 })),
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
  /** what this front can do beyond the common API; requestBodyBytes: the largest request body it takes (browser mode) */
  capabilities: { nativeDialogs: boolean; requestBodyBytes?: number };
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
  /** size of the result as JSON (bytes), once the job is done */
  resultBytes?: number;
  /** the result is no longer kept (older results are let go past the queue's result budget) */
  resultDropped?: boolean;
}

/** A job as jobs.list gives it: everything but the result (jobs.result fetches it) and, once finished, its last progress. */
export type JobSummary = Omit<JobInfo, 'result'>;

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
  /** payloadBytes of 'x', when asked for */
  payload?: string;
}

export interface SettingsResponse {
  settings: Settings;
  /** where they are kept */
  file: string;
  /** why the file on disk was not used (the defaults apply) */
  problem?: string;
}

export interface SampleFile {
  /** file name in resources/samples */
  name: string;
  path: string;
  /** what it is for */
  use: 'sequences' | 'ss-train' | 'ss-val' | 'sp-train' | 'sp-val' | 'structure';
  description: string;
  licence: string;
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
  'jobs.list': { request: Req<'jobs.list'>; response: { jobs: JobSummary[] } };
  'jobs.result': { request: Req<'jobs.result'>; response: JobInfo };
  'jobs.cancel': { request: Req<'jobs.cancel'>; response: JobInfo };
  'settings.get': { request: Req<'settings.get'>; response: SettingsResponse };
  'settings.set': { request: Settings; response: SettingsResponse };
  'dialog.open': { request: Req<'dialog.open'>; response: { paths: string[] } };
  'models.remove': { request: Req<'models.remove'>; response: { removed: string } };
  'predictions.list': { request: Req<'predictions.list'>; response: { root: string; predictions: PredictionSummary[]; problems: string[] } };
  'predictions.get': { request: Req<'predictions.get'>; response: PredictResult };
  'session.get': { request: Req<'session.get'>; response: SessionParts };
  'session.set': { request: Req<'session.set'>; response: { savedAt: string; bytes: number } };
  'data.list': { request: Req<'data.list'>; response: { root: string; sets: DatasetListing[] } };
  'samples.list': { request: Req<'samples.list'>; response: { dir: string; samples: SampleFile[] } };
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

// ---- the workbench UI's job kinds (registered in src-main/engine/jobs/kinds/*.ts) ---------------
// Every one is a job (answering { jobId }; the result comes with `job.done`): plain methods are
// dispatched by ApiService's own handler table, job kinds are the contract's open extension point.
//   train            fine-tune; writes a run directory under the runs root
//   train.resume     continue an interrupted run with the configuration and data it started with
//   train.estimate   trainable parameters and a memory estimate, before anything runs
//   predict          a run's per-residue predictions for sequences (JSON for plotting; files on request)
//   attention        a model's (or a run's) attention maps and contacts for one sequence
//   export           CSV / GFF3 / FASTA / JSON / annotated PDB-mmCIF from a prediction
//   runs.evaluation  per-class validation metrics of runs (the `eval/val.json` train writes)
//   runs.import-peft a run from a Hugging Face PEFT adapter folder or Hub repository

/** PEFT method names (checked against the engine's list at compile time). */
export const TRAIN_METHODS = ['lora', 'dora', 'ia3', 'adapter', 'prompt', 'prefix', 'probe', 'full'] as const;
const trainMethodsMatchEngine: Same<(typeof TRAIN_METHODS)[number], MethodName> = true;
void trainMethodsMatchEngine;
export const TRAIN_TASKS = ['ss', 'sp'] as const;
export const LORA_TARGETS = ['query', 'key', 'value', 'attn_out', 'ffn_in', 'ffn_out'] as const;
export const IA3_TARGETS = ['key', 'value', 'ffn'] as const;
export const PREDICT_KINGDOMS = ['EUKARYA', 'ARCHAEA', 'NEGATIVE', 'POSITIVE', 'unknown'] as const;
export const EXPORT_FORMATS = ['csv', 'gff3', 'fasta', 'json', 'pdb'] as const;
/** runs.import-peft: what a token-classification adapter's labels are */
export const IMPORT_TASKS = ['ss8', 'ss3', 'sp'] as const;
const importTasksMatchEngine: Same<(typeof IMPORT_TASKS)[number], ImportTask> = true;
void importTasksMatchEngine;

const modelArg = string({ minLength: 1, maxLength: 4096 });
/** a data file given as its text (browser: a picked or dropped file) or as a path on this machine */
const dataInput = object(
  {
    text: optional(string({ minLength: 1, maxLength: 512 * 1024 * 1024 })),
    path: optional(path_),
    /** shown in notes instead of '<text>' */
    name: optional(string({ minLength: 1, maxLength: 200 })),
  },
  (v, p) => {
    if ((v.text === undefined) === (v.path === undefined)) invalid(`${p === 'request' ? '' : `${p}.`}${v.text === undefined ? 'text' : 'path'}`, 'give exactly one of text or path');
  },
);
/** method options (the engine checks what each method reads; unknown names are refused here) */
const methodOptions = object({
  /** only the top K blocks get the method ("lightweight" tuning) */
  topK: optional(integer({ min: 0, max: 1000 })),
  r: optional(integer({ min: 1, max: 4096 })),
  alpha: optional(number({ min: 0 })),
  dropout: optional(number({ min: 0, max: 0.99 })),
  /** lora/dora: query,key,value,attn_out,ffn_in,ffn_out; ia3: key,value,ffn */
  targets: optional(array(oneOf([...LORA_TARGETS, 'ffn'] as const), { minItems: 1, unique: true })),
  variant: optional(oneOf(['houlsby', 'pfeiffer', 'parallel'] as const)),
  size: optional(integer({ min: 1, max: 65536 })),
  activation: optional(oneOf(['relu', 'gelu', 'tanh'] as const)),
  scale: optional(number()),
  tokens: optional(integer({ min: 1, max: 1000 })),
  deep: optional(boolean()),
});
const trainShape = {
  model: modelArg,
  task: oneOf(TRAIN_TASKS),
  /** ss: label set (default ss8) */
  labels: optional(oneOf(['ss8', 'ss3'] as const)),
  /** ss: head (default linear) */
  head: optional(oneOf(['linear', 'cnn'] as const)),
  /** sp: without the kingdom input (default: with it) */
  noKingdom: optional(boolean()),
  method: oneOf(TRAIN_METHODS),
  options: optional(methodOptions),
  batchSize: optional(integer({ min: 1, max: 4096 })),
  providers: optional(array(oneOf(PROVIDERS), { minItems: 1, unique: true })),
  threads: optional(integer({ min: 1, max: 1024 })),
};
const trainCheck = (v: { task: string; labels?: unknown; head?: unknown; noKingdom?: unknown }) => {
  if (v.task === 'sp' && (v.labels !== undefined || v.head !== undefined)) invalid(v.labels !== undefined ? 'labels' : 'head', 'is an option of task ss');
  if (v.task === 'ss' && v.noKingdom !== undefined) invalid('noKingdom', 'is an option of task sp');
};

export const UI_JOB_SCHEMAS = {
  train: object(
    {
      ...trainShape,
      train: dataInput,
      val: dataInput,
      epochs: integer({ min: 1, max: 10_000 }),
      lr: optional(number({ min: 0, max: 10 })),
      seed: optional(integer({ min: 0, max: 2 ** 31 - 1 })),
      /** display name (default: the run id) */
      name: optional(string({ minLength: 1, maxLength: 200 })),
      /** run folder name (default: METHOD-TASK-YYYYMMDD-HHMMSS); must not hold a run yet */
      id: optional(runId),
      /** runs root (default <home>/runs, as runs.list) */
      root: runsRoot,
      /** optimizer steps between train-loss lines (default 1: every step, for live curves) */
      logEvery: optional(integer({ min: 0, max: 1_000_000 })),
      patience: optional(integer({ min: 0, max: 10_000 })),
    },
    trainCheck,
  ),
  /** the run's saved configuration and data are used as they were (the trainer refuses any change) */
  'train.resume': object({ id: runId, root: runsRoot }),
  'train.estimate': object(
    {
      ...trainShape,
      /** the training data, to size the estimate by its longest sequence (else `maxLength`) */
      train: optional(dataInput),
      /** residues of the longest sequence (default 512; ignored when `train` is given) */
      maxLength: optional(integer({ min: 1, max: 100_000 })),
    },
    trainCheck,
  ),
  predict: object({
    run: runId,
    root: runsRoot,
    sequences: array(object({ id: string({ pattern: SEQ_ID, patternHint: 'must be a FASTA id: no spaces, no >' }), sequence: string({ minLength: 1, maxLength: 100_000 }) }), { minItems: 1, maxItems: 10_000 }),
    /** SP runs: kingdom of the sequences ('unknown' = no kingdom term); required when the run reads it */
    kingdom: optional(oneOf(PREDICT_KINGDOMS)),
    /** SP runs: use the kingdom a SignalP-style header (ACC|KINGDOM|...) names (default true) */
    headerKingdoms: optional(boolean()),
    /** also keep the prediction files at this prefix (PREFIX.residues.csv, PREFIX.json, ...) */
    out: optional(path_),
    /** a label for the predictions list */
    name: optional(string({ minLength: 1, maxLength: 200 })),
    /** what the sequences are (a file name), for notes and the list */
    inputName: optional(string({ minLength: 1, maxLength: 500 })),
  }),
  attention: object(
    {
      /** a model folder or installed model name ... */
      model: optional(modelArg),
      /** ... or a run: its fine-tuned backbone (PEFT method applied) */
      run: optional(runId),
      root: runsRoot,
      sequence: object({ id: string({ pattern: SEQ_ID, patternHint: 'must be a FASTA id: no spaces, no >' }), sequence: string({ minLength: 1, maxLength: 2000 }) }),
      /** the head whose full map is returned (0-based; default layer 0, head 0); every head gets a thumbnail */
      layer: optional(integer({ min: 0, max: 1000 })),
      head: optional(integer({ min: 0, max: 1000 })),
    },
    (v) => {
      if ((v.model === undefined) === (v.run === undefined)) invalid(v.model === undefined ? 'model' : 'run', 'give exactly one of model or run');
    },
  ),
  export: object(
    {
      /** a prediction's JSON file (PredictResult.json) */
      prediction: path_,
      formats: array(oneOf(EXPORT_FORMATS), { minItems: 1, unique: true }),
      /** folder the files go to (created) */
      outDir: path_,
      /** file name stem (default: the prediction's) */
      name: optional(string({ pattern: /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$/, patternHint: "must be letters, digits, '_', '-', '.' (not first)" })),
      /** pdb: the structure file to annotate (PDB or mmCIF) */
      structure: optional(path_),
      /** pdb: chain to annotate (default A) */
      chain: optional(string({ minLength: 1, maxLength: 4 })),
      /** pdb: which predicted sequence (default the first) */
      sequenceId: optional(string({ pattern: SEQ_ID })),
    },
    (v) => {
      if (v.formats.includes('pdb') && v.structure === undefined) invalid('structure', 'is required for the pdb format');
    },
  ),
  'runs.evaluation': object({ ids: array(runId, { minItems: 1, maxItems: 64, unique: true }), root: runsRoot }),
  /** fetch a public data set (data.list) into <home>/data/NAME; sets with a licence that is not open need acceptLicence */
  'data.download': object({ name: string({ minLength: 1, maxLength: 100 }), acceptLicence: optional(boolean()) }),
  /** a run from a Hugging Face PEFT adapter: a folder on this machine or a Hub repository id (downloaded) */
  'runs.import-peft': object({
    source: string({ minLength: 1, maxLength: 4096 }),
    /** the base ESM-2 (folder or installed model); default: the adapter's base_model_name_or_path */
    model: optional(modelArg),
    name: optional(string({ minLength: 1, maxLength: 200 })),
    id: optional(runId),
    /** what a token classifier's labels are (default: as a workbench export recorded, else kept as token-cls) */
    task: optional(oneOf(IMPORT_TASKS)),
    revision: optional(string({ minLength: 1, maxLength: 200 })),
    endpoint: optional(string({ pattern: /^https?:\/\/\S+$/, patternHint: 'must be an http(s) URL' })),
    root: runsRoot,
  }),
} satisfies Record<string, Schema<unknown>>;

export type TrainRequest = SchemaType<(typeof UI_JOB_SCHEMAS)['train']>;
export type TrainResumeRequest = SchemaType<(typeof UI_JOB_SCHEMAS)['train.resume']>;
export type TrainEstimateRequest = SchemaType<(typeof UI_JOB_SCHEMAS)['train.estimate']>;
export type PredictRequest = SchemaType<(typeof UI_JOB_SCHEMAS)['predict']>;
export type AttentionRequest = SchemaType<(typeof UI_JOB_SCHEMAS)['attention']>;
export type ExportRequest = SchemaType<(typeof UI_JOB_SCHEMAS)['export']>;
export type RunsEvaluationRequest = SchemaType<(typeof UI_JOB_SCHEMAS)['runs.evaluation']>;
export type DataDownloadRequest = SchemaType<(typeof UI_JOB_SCHEMAS)['data.download']>;
export type ImportPeftRequest = SchemaType<(typeof UI_JOB_SCHEMAS)['runs.import-peft']>;

export interface ImportPeftResult {
  id: string;
  dir: string;
  task: string;
  method: { name: string } & Record<string, unknown>;
  head: { name: string } & Record<string, unknown>;
  /** where it came from and what the import assumed or did not use (RunRecord.imported) */
  imported: ImportedFrom;
}
export type TrainMethodOptions = NonNullable<TrainRequest['options']>;
export type DataInput = TrainRequest['train'];

export interface TrainResult {
  id: string;
  dir: string;
  status: string;
  best?: { metric: string; value: number; epoch: number };
  final?: Record<string, number>;
  params: { trainable: number; total: number };
  wallSeconds: number;
  /** data notes (what the parsers changed or warned about) */
  notes: Note[];
  /** per-class validation metrics written to RUN/eval/val.json (absent when evaluation failed: see evalError) */
  evaluation?: RunEvaluation;
  evalError?: string;
}

export interface TrainEstimate {
  method: string;
  methodOptions: Record<string, unknown>;
  trainable: number;
  methodParams: number;
  headParams: number;
  /** backbone + head (+ method unless full) */
  total: number;
  trainableFraction: number;
  /** lowest block with trainable parameters (blocks below run once and are reused) */
  lowestBlock: number;
  layers: number;
  /** the trainer's memory accounting (engine/train/memory-estimate.ts) */
  memory: MemoryEstimate;
  batchSize: number;
  maxLength: number;
  sequences?: number;
}

export interface PredictedSs {
  /** the class letters in probability order, e.g. 'GHIEBTSC' */
  states: string;
  ss8?: string;
  /** SS8 runs: the SS8 call mapped to 3 states (what Q3 scores); SS3 runs: the argmax of p3 */
  ss3: string;
  /** SS8 runs: the argmax of p3 (it can differ from ss3, which follows the SS8 call) */
  ss3Argmax?: string;
  /** [length x 8] row-major; absent for SS3 runs */
  p8?: number[];
  /** [length x 3] row-major, H E C */
  p3: number[];
}

export interface PredictedSp {
  kingdom: string | null;
  /** where the kingdom came from: a SignalP-style header, the chosen one, or none */
  kingdomSource: 'header' | 'chosen' | 'none';
  prediction: string;
  typeProbabilities: Record<string, number>;
  /** 1-based last residue of the signal peptide; null without one inside the window */
  cleavageSite: number | null;
  /** probability that the signal peptide ends at cleavageSite; null without one */
  cleavageSiteProbability: number | null;
  /** [predictedResidues]: probability that the signal peptide ends after each residue */
  csProbs: number[];
  /** what is uncertain about this call (decode.ts) */
  flags: { code: string; message: string }[];
  /** type of the single most probable region path (flagged when it differs from `prediction`) */
  bestPathType: string;
  /** residues read (the first 70) */
  predictedResidues: number;
  /** Viterbi region letters (S L T P I M O), one per predicted residue */
  regions: string;
  /** region letters in the order of regionProbs' columns */
  regionLetters: string;
  /** [predictedResidues x regionLetters.length]: posterior probability of each region letter */
  regionProbs: number[];
  /** per-position probability of each region state that reaches 0.01 somewhere (SignalP 6.0's plot) */
  regionCurves: { state: string; type: string; region: string; label: string; probs: number[] }[];
}

export interface PredictedSequence {
  id: string;
  sequence: string;
  ss?: PredictedSs;
  sp?: PredictedSp;
}

export interface PredictResult {
  run: string;
  /** the run's display name */
  runName?: string;
  createdAt: string;
  /** the label given with the request */
  name?: string;
  /** what the sequences were (a file name) */
  inputName?: string;
  task: 'secondary-structure' | 'signal-peptide';
  runTask: string;
  /** the prediction JSON (what `export` reads) */
  json: string;
  /** every file written (PREFIX.residues.csv, PREFIX.json, ...) */
  files: string[];
  notes: Note[];
  sequences: PredictedSequence[];
  seconds: number;
}

/** One prediction kept under <home>/predictions (predictions.list). */
export interface PredictionSummary {
  json: string;
  createdAt: string;
  run: string;
  runName?: string;
  task: PredictResult['task'];
  runTask: string;
  sequences: number;
  /** the first few sequence ids */
  ids: string[];
  files: string[];
  seconds: number;
  name?: string;
  inputName?: string;
}

export interface AttentionResult {
  id: string;
  sequence: string;
  source: { kind: 'model' | 'run'; model: string; run?: string; method?: string };
  layers: number;
  heads: number;
  /** tokens: <cls>, residues, <eos> */
  tokens: string[];
  /** the requested head's map [T, T], T = length + 2, quantised: value = byte / 255 * scale */
  map: { layer: number; head: number; shape: [number, number]; scale: number; base64: string };
  /** every head's largest value, [L * H] (index l * H + h) */
  headMax: number[];
  /** every head's thumbnail: [L, H, size, size] block means, quantised per head: value = byte / 255 * scale[l * H + h] */
  thumbnails: { size: number; scale: number[]; base64: string };
  /** [length x length] float32, little-endian */
  contacts: { shape: [number, number]; base64: string };
  provider: string;
}

export interface ExportedFile {
  format: (typeof EXPORT_FORMATS)[number];
  path: string;
  bytes: number;
  /** the content, for files up to 4 MiB (the browser offers them as downloads) */
  text?: string;
}

export interface ExportResult {
  files: ExportedFile[];
  /** what the structure annotation did (pdb) */
  structureSummary?: string;
  /** pdb: the annotated chain's residues and the sequence position each one shows (for the 3D view) */
  structure?: {
    sequenceId: string;
    chain: string;
    format: 'pdb' | 'mmcif';
    residues: { resSeq: string; iCode: string; resName: string; /** 1-based; null: no position of the sequence */ position: number | null }[];
  };
}

export interface ClassScore {
  /** SS: the state letter; SP: KINGDOM/TYPE */
  label: string;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  support: number;
  /** SP rows: MCC2 */
  mcc?: number;
}

export interface RunEvaluation {
  id: string;
  task: 'ss' | 'sp';
  /** SS: SS8 classes (SS3 for SS3 runs); SP: one row per kingdom and type */
  classes: ClassScore[];
  /** SS: the SS3 classes of an SS8 run */
  classes3?: ClassScore[];
  summary: Record<string, number>;
}

export interface RunsEvaluationResult {
  runs: { id: string; evaluation?: RunEvaluation; missing?: string }[];
}

export interface JobKinds {
  train: TrainRequest;
  'train.resume': TrainResumeRequest;
  'train.estimate': TrainEstimateRequest;
  predict: PredictRequest;
  attention: AttentionRequest;
  export: ExportRequest;
  'runs.evaluation': RunsEvaluationRequest;
  'data.download': DataDownloadRequest;
  'runs.import-peft': ImportPeftRequest;
}

export interface JobResults {
  train: TrainResult;
  'train.resume': TrainResult;
  'train.estimate': TrainEstimate;
  predict: PredictResult;
  attention: AttentionResult;
  export: ExportResult;
  'runs.evaluation': RunsEvaluationResult;
  'data.download': InstalledDataset;
  'runs.import-peft': ImportPeftResult;
}
