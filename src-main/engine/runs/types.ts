// The run directory format (written by the trainer, read by the run store) and what the store
// returns. Types only: the API contract and the renderer import them.
//
//   RUN/run.json        RunRecord below, rewritten atomically by the trainer (heartbeat: updatedAt)
//   RUN/metrics.jsonl   one MetricRecord per line, appended; a crash may leave a torn last line
//   RUN/checkpoints/    trainable parameters only (safetensors): the last two step-N files to
//                       resume from and best.safetensors, each with its sha256 in run.json
//   RUN/.lock           the live trainer's lock (engine/lock.ts)
//   RUN/adapter/        Hugging Face PEFT export (optional)
//   RUN/eval/           evaluation results

export type RunStatus = 'running' | 'completed' | 'interrupted' | 'failed' | 'cancelled';

/** One checkpoint as run.json records it: the file (relative to the run folder) and its sha256. */
export interface CheckpointRecord {
  file: string;
  sha256: string;
  bytes: number;
  /** the loop position it holds: optimizer steps taken, next epoch, metrics lines written */
  step: number;
  epoch: number;
  metricsLines: number;
}

/** run.json as the trainer writes it (the one definition of the format). */
export interface RunRecord {
  format: 1;
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  status: RunStatus;
  pid: number;
  hostname: string;
  task: string;
  method: { name: string } & Record<string, unknown>;
  head: { name: string } & Record<string, unknown>;
  model: { dir: string; sha256: string; name?: string; config: Record<string, unknown> };
  params: { trainable: number; total: number };
  config: Record<string, unknown>;
  seed: number;
  versions: Record<string, string>;
  provider: string;
  hardware: Record<string, unknown>;
  wallSeconds: number;
  peakRssBytes: number;
  best?: { metric: string; value: number; epoch: number };
  final?: Record<string, number>;
  /** the checkpoints a resume may start from, newest first (the last two kept) */
  checkpoints?: CheckpointRecord[];
  /** the best checkpoint (checkpoints/best.safetensors): what predict, evaluate and export use */
  bestCheckpoint?: CheckpointRecord;
  /** the Hugging Face PEFT export in `adapter/`, or why there is none */
  adapter?: { exported: true; dir: string } | { exported: false; reason: string };
  error?: string;
  /** a run made from a Hugging Face PEFT adapter (plmw runs import-peft) rather than trained here */
  imported?: ImportedFrom;
  /** a run that trained a new head over another run's frozen adapter (plmw train --backbone) */
  backbone?: { dir: string; id: string; method: { name: string } & Record<string, unknown>; checkpointSha256: string };
}

/** What a token-classification adapter's labels are, when the user says so on import. */
export type ImportTask = 'ss8' | 'ss3' | 'sp';

export interface ImportedFrom {
  kind: 'peft';
  /** the folder or Hub repository id given */
  source: string;
  hub?: { repo: string; revision: string; commit?: string; endpoint: string };
  peftType: string;
  taskType: string | null;
  /** the transformers class the adapter was made on (EsmModel, EsmForTokenClassification, EsmForMaskedLM) */
  baseClass: string;
  /** adapter_config.json base_model_name_or_path */
  baseModel: string | null;
  /** what the import assumed or did not use, in words */
  notes: string[];
}

/** The fields every run.json must have; readers accept files with any of the others missing. */
type RunCore = 'format' | 'id' | 'name' | 'createdAt' | 'updatedAt' | 'status';

/**
 * run.json as the run store reads it: RunRecord with everything but the core fields optional
 * (one level deep), for runs written by older versions or other tools.
 */
export type RunJson = Pick<RunRecord, RunCore> & {
  [K in Exclude<keyof RunRecord, RunCore>]?: RunRecord[K] extends object ? Partial<RunRecord[K]> : RunRecord[K];
};

export interface MetricRecord {
  step?: number;
  epoch?: number;
  split?: 'train' | 'val';
  loss?: number;
  elapsed_s?: number;
  sequences_per_s?: number;
  [metric: string]: unknown;
}

/** One run as listed: the status is the effective one (a dead "running" run is "interrupted"). */
export interface RunSummary {
  /** the directory name (authoritative; run.json's id is reported when it differs) */
  id: string;
  dir: string;
  name: string;
  /** effective status; 'invalid' when run.json is missing or unreadable */
  status: RunStatus | 'invalid';
  /** status written in run.json, when it differs from the effective one */
  recordedStatus?: RunStatus;
  /** why the run is interrupted or invalid */
  reason?: string;
  task?: string;
  method?: string;
  model?: string;
  createdAt?: string;
  updatedAt?: string;
  wallSeconds?: number;
  best?: RunJson['best'];
  final?: Record<string, number>;
  error?: string;
}

export interface MetricsProblem {
  line: number;
  message: string;
}

export interface RunDetail extends RunSummary {
  run: RunJson;
  metrics: MetricRecord[];
  /** lines of metrics.jsonl that could not be used (a torn last line is reported as `tornTail`) */
  metricsProblems: MetricsProblem[];
  /** the last line of metrics.jsonl was cut off mid-write (crash) and was ignored */
  tornTail: boolean;
  checkpoints: { file: string; bytes: number }[];
  adapter?: { files: string[]; bytes: number };
  evalFiles: string[];
}

/** One row of a comparison table. */
export interface CompareRow {
  id: string;
  name: string;
  status: RunSummary['status'];
  task?: string;
  method?: string;
  /** method options other than the name, e.g. { r: 8, alpha: 16 } */
  methodOptions?: Record<string, unknown>;
  trainableParams?: number;
  totalParams?: number;
  /** trainable / total, 0..1 */
  trainableFraction?: number;
  /** bytes on disk of RUN/adapter/, else of the newest checkpoint (see adapterSource) */
  adapterBytes?: number;
  adapterSource?: 'adapter' | 'checkpoint';
  wallSeconds?: number;
  peakRssBytes?: number;
  best?: RunJson['best'];
  final: Record<string, number>;
}

export interface CompareTable {
  rows: CompareRow[];
  /** union of the final-metric names over the rows, sorted: the table's metric columns */
  metrics: string[];
}
