// The job worker thread: runs one job at a time as the queue sends them, with an AbortSignal per
// job, throttled progress, and the job's memory figures. Everything blocking (onnxruntime's
// session.run, file writes of results) happens here, never on the main thread.
//
// How this file is started: see workerEntry() in ./queue.ts (TypeScript source under tsx/vitest,
// a separate bundle file in the electron-vite build).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import type { JobMemory } from '../../api/contract.js';
import { getJobKind, type ProgressUpdate } from '../../api/job-kinds.js';
import { watchTemporaries } from '../atomic.js';
import './kinds.js';
import { type FromWorker, type ToWorker, type WorkerConfig, WorkerControl } from './protocol.js';

if (!parentPort) throw new Error('src-main/engine/jobs/worker: must be started as a worker thread by the job queue');
const port = parentPort;
const config: WorkerConfig = { progressIntervalMs: 100, ...(workerData as Partial<WorkerConfig> | undefined) };
const running = new Map<string, AbortController>();
const control = new Int32Array(config.control ?? new SharedArrayBuffer(4 * WorkerControl.SLOTS));

/** What the queue asked through the shared slots, read at a point where no native call runs. */
function obeyControl(seq: number, ctrl: AbortController): void {
  if (Atomics.load(control, WorkerControl.EXIT) === 1) process.exit(0);
  if (Atomics.load(control, WorkerControl.CANCEL_SEQ) === seq && !ctrl.signal.aborted) ctrl.abort(new DOMException('job cancelled', 'AbortError'));
}

const send = (m: FromWorker) => port.postMessage(m);

// The queue learns of every temporary this thread opens, so that a worker it terminates (forced
// cancel) or that crashes leaves no half-written file: it removes what was still open.
watchTemporaries((file, open) => send({ type: 'temporary', file, open }));

/**
 * A full garbage collection, run between jobs: a finished job's buffers (model outputs, batch
 * tensors) are garbage at that point, and collecting them before the next job starts keeps the
 * worker's footprint flat over many jobs instead of letting V8 pick its moment. `--expose-gc`
 * cannot be given to a worker (V8 flags are per process), hence setFlagsFromString + vm.
 */
const collectGarbage: () => void = (() => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

class MemorySampler {
  private peak = process.memoryUsage.rss();
  private readonly timer = setInterval(() => this.sample(), 50);
  sample(): void {
    const r = process.memoryUsage.rss();
    if (r > this.peak) this.peak = r;
  }
  end(): JobMemory {
    clearInterval(this.timer);
    this.sample();
    collectGarbage();
    return { rssPeakBytes: this.peak, rssEndBytes: process.memoryUsage.rss(), heapUsedBytes: process.memoryUsage().heapUsed };
  }
}

/** Progress with rate and ETA filled in, sent at most once per interval (the latest wins). */
class ProgressThrottle {
  private last = 0;
  private pending: Extract<FromWorker, { type: 'progress' }> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private phase = '';
  private phaseStart = performance.now();

  constructor(private readonly jobId: string) {}

  push(p: ProgressUpdate): void {
    const now = performance.now();
    if (p.phase !== this.phase) {
      this.phase = p.phase;
      this.phaseStart = now;
    }
    const secs = (now - this.phaseStart) / 1000;
    const rate = p.rate ?? (secs > 0 ? p.done / secs : 0);
    const eta = p.etaSeconds !== undefined ? p.etaSeconds : p.done > 0 && p.total >= p.done ? (secs * (p.total - p.done)) / p.done : null;
    const progress: Extract<FromWorker, { type: 'progress' }>['progress'] = {
      phase: p.phase, done: p.done, total: p.total, rate, rateUnit: p.rateUnit ?? 'items/s', etaSeconds: eta,
    };
    if (p.loss !== undefined) progress.loss = p.loss;
    if (p.metric !== undefined) progress.metric = p.metric;
    this.pending = { type: 'progress', jobId: this.jobId, progress };
    if (now - this.last >= config.progressIntervalMs) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), config.progressIntervalMs - (now - this.last));
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending) return;
    send(this.pending);
    this.pending = undefined;
    this.last = performance.now();
  }
}

async function run(m: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  const ctrl = new AbortController();
  running.set(m.jobId, ctrl);
  const mem = new MemorySampler();
  const progress = new ProgressThrottle(m.jobId);
  try {
    const kind = getJobKind(m.kind);
    if (!kind) throw new Error(`unknown job kind '${m.kind}' in the job worker`);
    // Validated again here: the worker trusts no caller.
    const request = kind.validate(m.request);
    const result = await kind.run(request, {
      signal: ctrl.signal,
      home: m.home,
      jobId: m.jobId,
      progress: (p) => {
        obeyControl(m.seq, ctrl);
        mem.sample();
        progress.push(p);
      },
    });
    progress.flush();
    // Measured here, off the main thread: the queue keeps results within a byte budget.
    const resultBytes = result === undefined ? 0 : Buffer.byteLength(JSON.stringify(result) ?? '');
    send({ type: 'done', jobId: m.jobId, result, memory: mem.end(), resultBytes });
  } catch (e) {
    progress.flush();
    const memory = mem.end();
    if (ctrl.signal.aborted) send({ type: 'cancelled', jobId: m.jobId, memory });
    else send({ type: 'failed', jobId: m.jobId, message: e instanceof Error ? e.message : String(e), memory });
  } finally {
    running.delete(m.jobId);
  }
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'run') void run(m);
  else if (m.type === 'cancel') running.get(m.jobId)?.abort(new DOMException('job cancelled', 'AbortError'));
  else if (m.type === 'exit') process.exit(0);
});
