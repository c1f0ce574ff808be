// Runs the inputs of one format in a worker thread, so that an input that never returns can be
// stopped (the test terminates the worker) and named. Reports each input before running it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../../src-main/engine/data/errors.js';
import { mutateInput } from './mutate.js';
import { TARGETS } from './targets.js';

export interface FuzzJob {
  format: string;
  seed: number;
  from: number;
  count: number;
}

export type FuzzMessage =
  | { type: 'start'; index: number }
  | { type: 'internal'; index: number; ops: string[]; error: string; stack: string }
  | { type: 'slow'; index: number; ops: string[]; ms: number }
  | { type: 'done'; accepted: number; inputErrors: number; maxMs: number; slowest: number; totalMs: number };

const job = workerData as FuzzJob;
const port = parentPort!;
const target = TARGETS[job.format];
const seeds = target.seeds();
const scratch = mkdtempSync(path.join(os.tmpdir(), `plmw-fuzz-${job.format}-`));
const SLOW_MS = 2000;

async function main(): Promise<void> {
  let accepted = 0;
  let inputErrors = 0;
  let maxMs = 0;
  let slowest = -1;
  const t0 = performance.now();
  for (let index = job.from; index < job.from + job.count; index++) {
    const { bytes, ops, seed } = mutateInput(seeds, job.seed, job.format, index, target.mutate);
    port.postMessage({ type: 'start', index } satisfies FuzzMessage);
    const t = performance.now();
    try {
      await target.run(bytes, { strict: index % 2 === 1, scratch, pick: index >> 1, seed });
      accepted++;
    } catch (e) {
      if (e instanceof InputError) inputErrors++;
      else port.postMessage({ type: 'internal', index, ops, error: String(e), stack: (e as Error)?.stack ?? '' } satisfies FuzzMessage);
    }
    const ms = performance.now() - t;
    if (ms > maxMs) [maxMs, slowest] = [ms, index];
    if (ms > SLOW_MS) port.postMessage({ type: 'slow', index, ops, ms } satisfies FuzzMessage);
  }
  port.postMessage({ type: 'done', accepted, inputErrors, maxMs, slowest, totalMs: performance.now() - t0 } satisfies FuzzMessage);
}

main().finally(() => rmSync(scratch, { recursive: true, force: true }));
