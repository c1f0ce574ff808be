// One `plmw bench` case, measured in a process of its own (so its peak RSS is that of one job,
// as a user running `plmw infer` or `plmw train` would see it). Inference runs the Esm2Runner
// that `plmw infer` uses; training runs the trainer itself and times its optimizer steps.
// Run as a script: `node --import tsx bench-case.ts '{"model": DIR, "case": {...}, ...}'`
// prints one JSON line (CaseResult).

import { createScratchDir } from './atomic.js';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Esm2Runner } from './esm2/infer.js';
import { loadModel } from './esm2/model.js';
import type { ProviderName } from './runtime/index.js';
import { ssTask } from './tasks/secondary-structure/task.js';
import { stream } from './train/rng.js';
import { parameterCount } from './peft/method.js';
import { estimateTrainingMemory } from './train/memory-estimate.js';
import { type LabelledSequence, TRAINER_DEFAULTS, type TrainerConfig, prepare, train } from './train/trainer.js';

export type BenchCase =
  | { kind: 'inference'; batch: number; length: number }
  /** LoRA r=8, alpha 8, dropout 0.1 on q,k,v,o + a linear SS8 head, AdamW; topK: only the top k blocks, frozen outputs reused */
  | { kind: 'training'; batch: number; length: number; topK?: number };

export interface CaseRequest {
  model: string;
  case: BenchCase;
  /** timed runs after the first (warm-up) one */
  repeats: number;
  threads: number;
  providers?: ProviderName[];
  seed?: number;
}

export interface CaseResult {
  /** model load until ready to run (for training: not measured, 0) */
  loadSeconds: number;
  /** the first run (inference: first batch, which also pages the weights in; training: first step) */
  firstSeconds: number;
  /** each timed run */
  seconds: number[];
  /** sequences per run */
  items: number;
  rssAfterLoad: number;
  /** VmHWM of the whole process at the end */
  peakRss: number;
  /** training: the trainer's memory estimate for this run (train.estimate's accounting) */
  estimateBytes?: number;
  versions?: Record<string, unknown>;
}

export const BENCH_AA = 'LAGVSERTIDPKQNFYMHWC';
export function randomSequences(n: number, len: number, seed: number): string[] {
  const r = stream(seed, 'bench');
  return Array.from({ length: n }, () => Array.from({ length: len }, () => BENCH_AA[Math.floor(r() * 20)]).join(''));
}

export function procStatusBytes(key: 'VmRSS' | 'VmHWM'): number {
  const m = readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) * 1024 : 0;
}

export async function runCase(req: CaseRequest): Promise<CaseResult> {
  const c = req.case;
  const seed = req.seed ?? 1;
  if (c.kind === 'inference') {
    const t0 = performance.now();
    const model = await loadModel(req.model);
    const runner = await Esm2Runner.create(model, ['logits'], { threads: req.threads, providers: req.providers });
    const loadSeconds = (performance.now() - t0) / 1000;
    const rssAfterLoad = procStatusBytes('VmRSS');
    const seqs = randomSequences(c.batch, c.length, seed);
    const times: number[] = [];
    for (let i = 0; i <= req.repeats; i++) {
      const t = performance.now();
      await runner.runBatch(seqs);
      times.push((performance.now() - t) / 1000);
    }
    await runner.release();
    return { loadSeconds, firstSeconds: times[0], seconds: times.slice(1), items: c.batch, rssAfterLoad, peakRss: procStatusBytes('VmHWM') };
  }
  const r = stream(seed, 'bench-labels');
  // step 1 has no measured start (it follows loading and, for top-k, the frozen blocks' pass):
  // steps 2.. are timed from one step's end to the next
  const steps = req.repeats + 2;
  const data: LabelledSequence[] = randomSequences(steps * c.batch, c.length, seed).map((s, i) => ({
    id: `b${i}`, sequence: s, labels: Int32Array.from(s, () => Math.floor(r() * 8)),
  }));
  const config: TrainerConfig = {
    ...TRAINER_DEFAULTS, model: req.model, task: 'ss-ss8', method: 'lora',
    methodOptions: { r: 8, alpha: 8, dropout: 0.1, targets: ['query', 'key', 'value', 'attn_out'], ...(c.topK ? { topK: c.topK } : {}) },
    epochs: 1, batchSize: c.batch, patience: 0, threads: req.threads, providers: req.providers, seed,
  };
  const task = ssTask('ss8');
  const estimateBytes = await (async () => {
    const model = await loadModel(req.model);
    const { method, params } = prepare(config, task, model);
    return estimateTrainingMemory({
      config: model.config, tensors: model.weights.tensors, lowestBlock: method.lowestBlock, reuse: config.reuse, batchSize: c.batch,
      tokens: c.length + 2, trainable: parameterCount(params), lengths: data.map((s) => s.sequence.length).concat(c.length), featureCacheLimit: config.featureCacheBytes,
    }).totalBytes;
  })();
  const scratch = createScratchDir(tmpdir(), 'plmw-bench');
  const dir = scratch.path;
  const stepEnds: number[] = [];
  try {
    await train(dir, config, task, { train: data, val: data.slice(0, 1) }, {
      onProgress: (p) => {
        if (p.phase === 'train') stepEnds.push(performance.now());
      },
    });
  } finally {
    scratch.remove();
  }
  const seconds = stepEnds.slice(1).map((t, i) => (t - stepEnds[i]) / 1000);
  return {
    loadSeconds: 0, firstSeconds: seconds[0] ?? 0, seconds: seconds.slice(1), items: c.batch, rssAfterLoad: 0, peakRss: procStatusBytes('VmHWM'), estimateBytes,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runCase(JSON.parse(process.argv[2]) as CaseRequest).then(
    (res) => console.log(JSON.stringify(res)),
    (e) => {
      console.error(e instanceof Error ? e.stack ?? e.message : e);
      process.exitCode = 1;
    },
  );
}
