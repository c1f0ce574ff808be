// A seeded mutational fuzz test over real files of every format the product reads (see
// mutate.ts for the operators, targets.ts for the formats and readers). For each format,
// PLMW_FUZZ_INPUTS inputs (default 2000) made from PLMW_FUZZ_SEED (default below); every input
// must be answered with a result or an InputError, in under 2 s. A failing input is written to
// a file and named by (seed, format, index), which is all it takes to make it again.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { tsxBootstrap } from '../../src-main/engine/jobs/queue.js';
import { mutateInput } from './mutate.js';
import { TARGETS } from './targets.js';
import type { FuzzJob, FuzzMessage } from './worker.js';

const INPUTS = Number(process.env.PLMW_FUZZ_INPUTS ?? 2000);
const SEED = Number(process.env.PLMW_FUZZ_SEED ?? 20261201);
/** An input that has not returned after this long is a hang (the 2 s budget, with room for a loaded machine's startup). */
const HANG_MS = 10_000;
const SLOW_MS = 2000;

interface Outcome {
  accepted: number;
  inputErrors: number;
  internal: Extract<FuzzMessage, { type: 'internal' }>[];
  slow: Extract<FuzzMessage, { type: 'slow' }>[];
  hung?: number;
  maxMs: number;
  slowest: number;
  totalMs: number;
}

function fuzz(format: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const job: FuzzJob = { format, seed: SEED, from: 0, count: INPUTS };
    const w = new Worker(tsxBootstrap(new URL('./worker.ts', import.meta.url)), { eval: true, workerData: job });
    const out: Outcome = { accepted: 0, inputErrors: 0, internal: [], slow: [], maxMs: 0, slowest: -1, totalMs: 0 };
    let current = -1;
    let last = performance.now();
    const watchdog = setInterval(() => {
      // Before the first input the worker is still loading (tsx, the engine): give it longer.
      if (performance.now() - last > (current < 0 ? 6 * HANG_MS : HANG_MS)) {
        clearInterval(watchdog);
        out.hung = current;
        void w.terminate().then(() => resolve(out));
      }
    }, 250);
    w.on('message', (m: FuzzMessage) => {
      last = performance.now();
      if (m.type === 'start') current = m.index;
      else if (m.type === 'internal') out.internal.push(m);
      else if (m.type === 'slow') out.slow.push(m);
      else {
        clearInterval(watchdog);
        Object.assign(out, { accepted: m.accepted, inputErrors: m.inputErrors, maxMs: m.maxMs, slowest: m.slowest, totalMs: m.totalMs });
        void w.terminate().then(() => resolve(out));
      }
    });
    w.on('error', (e) => {
      clearInterval(watchdog);
      reject(e);
    });
  });
}

/** Keep the inputs that failed, so they can be opened and re-run. */
function keep(format: string, indices: number[]): string {
  const dir = path.join(os.tmpdir(), `plmw-fuzz-failures-${SEED}`, format);
  mkdirSync(dir, { recursive: true });
  const seeds = TARGETS[format].seeds();
  for (const i of indices.slice(0, 20)) writeFileSync(path.join(dir, `input-${i}`), mutateInput(seeds, SEED, format, i, TARGETS[format].mutate).bytes);
  return dir;
}

describe(`fuzzing the readers (${INPUTS} inputs per format, seed ${SEED})`, () => {
  for (const format of Object.keys(TARGETS)) {
    it(`${format}: only InputError, each input under ${SLOW_MS / 1000} s`, async () => {
      const o = await fuzz(format);
      const bad = [...o.internal.map((m) => m.index), ...o.slow.map((m) => m.index), ...(o.hung !== undefined ? [o.hung] : [])];
      const where = bad.length ? ` (inputs kept in ${keep(format, bad)})` : '';
      console.log(
        `fuzz ${format}: ${o.hung === undefined ? INPUTS : `${o.hung} of ${INPUTS}`} inputs, ${o.accepted} accepted, ${o.inputErrors} InputError, ` +
          `${o.internal.length} internal exceptions, ${o.slow.length + (o.hung === undefined ? 0 : 1)} over ${SLOW_MS / 1000} s or hung; ` +
          `slowest ${o.maxMs.toFixed(0)} ms (input ${o.slowest}), ${(o.totalMs / 1000).toFixed(1)} s in all${where}`,
      );
      const report = (m: { index: number; ops: string[] }, what: string) => `input ${m.index} [${m.ops.join('; ')}]: ${what}`;
      expect(o.hung, o.hung === undefined ? '' : report({ index: o.hung, ops: mutateInput(TARGETS[format].seeds(), SEED, format, o.hung, TARGETS[format].mutate).ops }, 'did not return')).toBeUndefined();
      expect(o.internal.slice(0, 5).map((m) => report(m, m.stack.split('\n').slice(0, 4).join(' | ')))).toEqual([]);
      expect(o.slow.slice(0, 5).map((m) => report(m, `${m.ms.toFixed(0)} ms`))).toEqual([]);
      expect(o.accepted + o.inputErrors).toBe(INPUTS);
    }, 600_000);
  }
});
