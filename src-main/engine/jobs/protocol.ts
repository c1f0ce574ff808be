// Messages between the job queue (main thread) and the job worker thread.
import type { JobMemory, JobProgress } from '../../api/contract.js';

export type ToWorker =
  | { type: 'run'; jobId: string; kind: string; request: unknown; home: string; seq: number }
  | { type: 'cancel'; jobId: string }
  /** finish nothing more: exit at the next safe point (see WorkerControl) */
  | { type: 'exit' };

export type FromWorker =
  | { type: 'progress'; jobId: string; progress: Omit<JobProgress, 'jobId' | 'kind'> }
  | { type: 'done'; jobId: string; result: unknown; memory: JobMemory; resultBytes: number }
  | { type: 'failed'; jobId: string; message: string; memory: JobMemory }
  | { type: 'cancelled'; jobId: string; memory: JobMemory }
  /** a temporary file the worker opened (open) or committed/removed: the queue removes what a dead worker left open */
  | { type: 'temporary'; file: string; open: boolean };

export interface WorkerConfig {
  /** minimum milliseconds between two progress messages of a job */
  progressIntervalMs: number;
  /** shared with the queue: WorkerControl slots (an Int32Array view) */
  control?: SharedArrayBuffer;
}

/**
 * Slots of the shared control buffer. A job that is inside onnxruntime's session.run holds its
 * thread until the call returns, so a cancel message waits for the next event-loop turn, which
 * a chain of awaited runs may not take. The worker reads these slots synchronously at every
 * progress report instead (after each batch or step): CANCEL_SEQ = the sequence number of the
 * job to cancel; EXIT = 1 asks the worker to end itself there. Ending a worker that way, at a
 * point where no native call is under way, is what makes a forced cancel safe: terminating a
 * thread in the middle of session.run can abort the whole process (onnxruntime-node then throws
 * a C++ Napi::Error that nothing catches).
 */
export const WorkerControl = { CANCEL_SEQ: 0, EXIT: 1, SLOTS: 2 } as const;
