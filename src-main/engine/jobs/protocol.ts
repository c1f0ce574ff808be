// Messages between the job queue (main thread) and the job worker thread.
import type { JobMemory, JobProgress } from '../../api/contract.js';

export type ToWorker =
  | { type: 'run'; jobId: string; kind: string; request: unknown; home: string }
  | { type: 'cancel'; jobId: string };

export type FromWorker =
  | { type: 'progress'; jobId: string; progress: Omit<JobProgress, 'jobId' | 'kind'> }
  | { type: 'done'; jobId: string; result: unknown; memory: JobMemory; resultBytes: number }
  | { type: 'failed'; jobId: string; message: string; memory: JobMemory }
  | { type: 'cancelled'; jobId: string; memory: JobMemory };

export interface WorkerConfig {
  /** minimum milliseconds between two progress messages of a job */
  progressIntervalMs: number;
}
