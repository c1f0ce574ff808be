// The registry of job kinds: what a job request looks like (validate, used by every front in
// the main process before the job is queued) and what running it does (run, called in the job
// worker thread, never on the main thread). Built-in kinds are registered in
// src-main/engine/jobs/kinds.ts; the trainer/tasks code registers `train`, `evaluate`,
// `predict` and `export` the same way (see the EXTENSION POINT notes in ./contract.ts).
//
// Pure: no Node imports. `run` implementations should import their engine code lazily
// (`await import(...)`) so the main process, which only validates, does not load it.
import type { JobKinds, JobResults } from './contract.js';
import { ApiError } from './errors.js';

/** What a job reports while it runs; the queue adds jobId/kind and fills rate/ETA when absent. */
export interface ProgressUpdate {
  phase: string;
  done: number;
  total: number;
  /** items per second in rateUnit; default: done per second since the phase began */
  rate?: number;
  /** default 'items/s'; models use 'tokens/s' or 'sequences/s' */
  rateUnit?: string;
  etaSeconds?: number | null;
  loss?: number;
  metric?: { name: string; value: number };
}

export interface JobContext {
  /** aborted when the job is cancelled: check it between steps and stop with an AbortError */
  signal: AbortSignal;
  /** report progress (throttled before it reaches the main thread) */
  progress(p: ProgressUpdate): void;
  /** store root for models (settings' model folder, else $PLMW_HOME) */
  home: string;
  jobId: string;
}

export interface JobKind<Req = unknown, Res = unknown> {
  /** a diagnostic kind (tests, health checks): accepted only by a queue made with `diagnostics` */
  diagnostic?: boolean;
  /** check an untrusted request and return it typed; throw ApiError('bad_request') naming the field */
  validate(request: unknown): Req;
  /** do the work (in the job worker); the resolved value is the job's result (JSON) */
  run(request: Req, ctx: JobContext): Promise<Res>;
}

type Known = keyof JobKinds;
type ResultOf<K> = K extends keyof JobResults ? JobResults[K] : unknown;

const kinds = new Map<string, JobKind>();

/** Register a job kind; it becomes an API method of the same name answering { jobId }. */
export function registerJobKind<K extends Known>(name: K, kind: JobKind<JobKinds[K], ResultOf<K>>): void;
export function registerJobKind(name: string, kind: JobKind): void;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function registerJobKind(name: string, kind: JobKind<any, any>): void {
  if (!/^[a-z][a-z0-9.-]*$/.test(name)) throw new Error(`invalid job kind name '${name}'`);
  if (kinds.has(name)) throw new Error(`job kind '${name}' is already registered`);
  kinds.set(name, kind as JobKind);
}

export function getJobKind(name: string): JobKind | undefined {
  return kinds.get(name);
}

/** Registered kind names; diagnostic kinds only when asked for. */
export function jobKindNames(o: { diagnostics?: boolean } = {}): string[] {
  return [...kinds].filter(([, k]) => o.diagnostics || !k.diagnostic).map(([name]) => name);
}

/** Validate a job request of a registered kind (a diagnostic kind only with `diagnostics`). */
export function validateJobRequest(kind: string, request: unknown, o: { diagnostics?: boolean } = {}): unknown {
  const k = kinds.get(kind);
  if (!k || (k.diagnostic && !o.diagnostics)) throw new ApiError('unknown_method', `unknown job kind '${kind}' (known: ${jobKindNames(o).join(', ')})`);
  return k.validate(request ?? {});
}
