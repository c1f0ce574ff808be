// The trainer: seeded, resumable, honest about cost. One optimizer step = forward and backward
// over `accumulate` micro-batches (training graph), then one optimizer-step graph run. Frozen
// blocks below the method's lowest block run once per sequence when reuse is on. Checkpoints
// (trainable tensors, moments, loop position) are written atomically at every epoch end and,
// optionally, every N steps, and recorded with their sha256 in run.json (checkpoint.ts); a
// killed run resumes from the newest intact one and, because every random draw is derived from
// (seed, purpose, position), ends exactly as an uninterrupted run would. One trainer per run
// folder: a lock (RUN/.lock, engine/lock.ts) refuses a second one while the first lives.

import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Esm2Config } from '../esm2/config.js';
import { type LoadedModel, loadModel } from '../esm2/model.js';
import { PEFT_EXPORTABLE, baseModelId, exportPeft } from '../export/hf-peft.js';
import { esm2ParameterCount } from '../esm2/weights.js';
import { type OptimizerConfig, buildOptimizerGraph, evalDim, serialize } from '../graph/index.js';
import { createMethod } from '../peft/index.js';
import { overFrozenAdapter } from '../peft/frozen.js';
import { openBackbone } from './predictor.js';
import { HEARTBEAT_STALE_MS } from '../runs/store.js';
import { type PeftMethod, type TrainableSpec, parameterCount } from '../peft/method.js';
import { type ProviderName, createSession } from '../runtime/index.js';
import { sweepStaleTemporaries } from '../atomic.js';
import { type Lock, acquireLock, describeHolder } from '../lock.js';
import type { CheckpointRecord } from '../runs/types.js';
import { BEST_CHECKPOINT, type LoopState, type TensorMap, keepNewest, loadBestCheckpoint, removeUnrecorded, resumeFrom, stepCheckpointFile, writeCheckpoint } from './checkpoint.js';
import { FeatureCache } from './features.js';
import type { Head } from './head.js';
import { bernoulliMask, normal, shuffled, stream } from './rng.js';
import { RunDir, type RunRecord, hardware } from './run-dir.js';
import { type ScheduleKind, learningRate } from './schedule.js';
import { buildFeatureGraph, buildTaskGraph } from './task-graph.js';
import type { TaskSpec } from './task.js';

const require = createRequire(import.meta.url);

export interface TrainerConfig {
  model: string;
  task: string;
  method: string;
  methodOptions: Record<string, unknown>;
  epochs: number;
  batchSize: number;
  accumulate: number;
  optimizer: 'adamw' | 'adamax';
  lr: number;
  weightDecay: number;
  maxGradNorm: number;
  warmupSteps: number;
  schedule: ScheduleKind;
  /** epochs without validation improvement before stopping; 0 = never stop early */
  patience: number;
  seed: number;
  /** reuse outputs of frozen blocks across epochs */
  reuse: boolean;
  featureCacheBytes: number;
  /** optimizer steps between extra checkpoints inside an epoch; 0 = epoch ends only */
  checkpointEvery: number;
  /** optimizer steps between train-loss lines; 0 = epoch ends only */
  logEvery: number;
  threads?: number;
  providers?: ProviderName[];
  name?: string;
  /** a run folder whose adapter stays frozen under the new head (method probe) */
  backbone?: string;
}

export const TRAINER_DEFAULTS: Omit<TrainerConfig, 'model' | 'task' | 'method' | 'methodOptions'> = {
  epochs: 3, batchSize: 16, accumulate: 1, optimizer: 'adamw', lr: 1e-3, weightDecay: 0.01, maxGradNorm: 1.0,
  warmupSteps: 0, schedule: 'linear', patience: 5, seed: 1, reuse: true, featureCacheBytes: 2 ** 31, checkpointEvery: 0, logEvery: 0,
};

export interface LabelledSequence {
  id: string;
  sequence: string;
  labels: Int32Array;
}

export interface TrainProgress {
  phase: 'features' | 'train' | 'validate';
  epoch: number;
  step: number;
  done: number;
  total: number;
  sequencesPerSecond: number;
  loss?: number;
  metric?: number;
}

export interface TrainHooks {
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  /** after each metrics line is written */
  onMetrics?: (row: Record<string, unknown>) => void;
  /** what the user must be told about the run's state: a resume point, a damaged checkpoint passed over, a lock taken over */
  onNote?: (message: string) => void;
}

type Values = Map<string, ort.Tensor>;

function initialValues(specs: readonly TrainableSpec[], seed: number, model: LoadedModel): Values {
  const out: Values = new Map();
  for (const p of specs) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const r = stream(seed, 'init', p.name);
    let data: Float32Array;
    switch (p.init.kind) {
      case 'zeros': data = new Float32Array(n); break;
      case 'ones': data = new Float32Array(n).fill(1); break;
      case 'normal': { const z = normal(r); const std = p.init.std; data = Float32Array.from({ length: n }, () => std * z()); break; }
      case 'uniform': { const b = p.init.bound; data = Float32Array.from({ length: n }, () => (2 * r() - 1) * b); break; }
      case 'computed': data = Float32Array.from(p.init.compute(model.source, r)); break;
    }
    if (data.length !== n) throw new Error(`initial value of '${p.name}' has ${data.length} elements, shape needs ${n}`);
    out.set(p.name, new ort.Tensor('float32', data, p.shape));
  }
  return out;
}

const toMap = (v: Values): TensorMap => new Map([...v].map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]));
const fromMap = (m: TensorMap): Values => new Map([...m].map(([k, t]) => [k, new ort.Tensor('float32', t.data, t.shape)]));

export interface PreparedRun {
  method: PeftMethod;
  head: Head;
  params: TrainableSpec[];
  backbone?: RunRecord['backbone'];
}

/** Builds the method and head and counts parameters, without running anything (for estimates). */
export function prepare(cfg: TrainerConfig, task: TaskSpec, model: LoadedModel): PreparedRun {
  const head = task.head(model.config);
  if (cfg.backbone !== undefined) {
    if (cfg.method !== 'probe') throw new Error(`a backbone run takes a new head only (method probe), not '${cfg.method}'`);
    const bb = openBackbone(cfg.backbone, model);
    if (bb.record.model.sha256 !== model.sha256) throw new Error(`${cfg.backbone}: its adapter was made for a model with sha256 ${bb.record.model.sha256}, not ${model.dir} (${model.sha256})`);
    const method = overFrozenAdapter(model.config, bb.method, bb.params);
    const backbone = { dir: path.resolve(cfg.backbone), id: bb.record.id, method: bb.record.method, checkpointSha256: bb.checkpointSha256 };
    return { method, head, params: [...head.params], backbone };
  }
  const method = createMethod(cfg.method, model.config, cfg.methodOptions, model.source, [...model.weights.tensors.keys()]);
  return { method, head, params: [...method.params, ...head.params] };
}

/** The best checkpoint in the Hugging Face PEFT layout, for the methods PEFT has. */
async function exportAdapter(run: RunDir, record: RunRecord, config: Esm2Config): Promise<RunRecord['adapter']> {
  if (!(PEFT_EXPORTABLE as readonly string[]).includes(record.method.name)) return { exported: false, reason: `Hugging Face PEFT has no ${record.method.name} layout` };
  try {
    const { params } = loadBestCheckpoint(run.dir, record);
    await exportPeft(path.join(run.dir, 'adapter'), { method: record.method, head: record.head, task: record.task, config, baseModel: baseModelId(record.model.dir, config), params });
    return { exported: true, dir: 'adapter' };
  } catch (e) {
    return { exported: false, reason: (e as Error).message };
  }
}

/** The lock file of a run folder: one trainer at a time (a second train or resume is refused). */
export const RUN_LOCK = '.lock';

export async function train(runPath: string, cfg: TrainerConfig, task: TaskSpec, data: { train: LabelledSequence[]; val: LabelledSequence[] }, hooks: TrainHooks = {}): Promise<RunRecord> {
  if (data.train.length === 0) throw new Error('no training sequences');
  const run = new RunDir(runPath);
  // Leftovers of a writer that died here (a SIGKILL: spill files, half-written checkpoints), swept
  // before the lock is taken: only dead owners' files go, and taking the lock may itself fail (a
  // full disk), which must not leave them behind.
  for (const d of [runPath, path.join(runPath, 'checkpoints')]) sweepStaleTemporaries(d);
  const lock = acquireLock(path.join(runPath, RUN_LOCK), { purpose: 'a trainer', what: `run ${runPath}` });
  try {
    if (lock.tookOver) hooks.onNote?.(`took over the lock of ${runPath} from ${lock.tookOver.holder ? describeHolder(lock.tookOver.holder) : 'an unreadable lock file'}: ${lock.tookOver.reason}`);
    return await trainHolding(run, lock, cfg, task, data, hooks);
  } finally {
    lock.release();
  }
}

async function trainHolding(run: RunDir, lock: Lock, cfg: TrainerConfig, task: TaskSpec, data: { train: LabelledSequence[]; val: LabelledSequence[] }, hooks: TrainHooks): Promise<RunRecord> {
  const runPath = run.dir;
  const model = await loadModel(cfg.model);
  const { method, head, params, backbone } = prepare(cfg, task, model);
  const from = cfg.reuse ? method.lowestBlock : 0;
  const runtime = { providers: cfg.providers, threads: cfg.threads, weightsDir: model.weightsDir };

  // Resume or start.
  const previous = run.readRecord();
  const configJson = JSON.stringify(cfg);
  if (previous && previous.status === 'completed') throw new Error(`${runPath}: run already completed; choose another directory`);
  if (previous && JSON.stringify(previous.config) !== configJson) throw new Error(`${runPath}: holds a run with a different configuration; choose another directory`);
  let values = initialValues(params, cfg.seed, model);
  let m: Values = new Map([...values].map(([k, t]) => [k, new ort.Tensor('float32', new Float32Array(t.size), t.dims)]));
  let v: Values = new Map([...m].map(([k, t]) => [k, new ort.Tensor('float32', new Float32Array(t.size), t.dims)]));
  let state: LoopState = {
    step: 0, epoch: 0, batchInEpoch: 0, metricsLines: 0, elapsedSeconds: 0, best: null, epochsWithoutImprovement: 0, stopped: false,
    epochLoss: { sum: 0, count: 0 }, logLoss: { sum: 0, count: 0 },
  };
  // Never a silent restart: the newest intact checkpoint, a damaged one named, or a refusal.
  let checkpoints: CheckpointRecord[] = [];
  if (previous) {
    const point = resumeFrom(runPath, previous);
    for (const w of point.warnings) hooks.onNote?.(`warning: ${w}`);
    const rows = run.readMetrics().length;
    const c = point.checkpoint;
    if (c) {
      [values, m, v, state] = [fromMap(c.params), fromMap(c.m), fromMap(c.v), c.state];
      if (c.record) checkpoints = previous.checkpoints!.slice(previous.checkpoints!.findIndex((r) => r.file === c.record!.file));
    }
    const dropped = Math.max(0, rows - state.metricsLines);
    let where = c ? `resuming from ${c.file} (epoch ${state.epoch + 1}, step ${state.step})` : 'no checkpoint was written before the run stopped: starting it from the beginning';
    if (dropped) where += `; ${dropped} metrics row(s) ${c ? 'written after it ' : ''}removed from ${run.metricsFile}`;
    hooks.onNote?.(where);
  }
  run.truncateMetrics(state.metricsLines);

  const trainGraph = buildTaskGraph(model, method, head, { training: true, fromBlock: from });
  const taskMasks = trainGraph.masks;
  const trainSession = await createSession(trainGraph.model, runtime);
  const evalSession = await createSession(buildTaskGraph(model, method, head, { training: false, fromBlock: from }).model, runtime);
  const opt: OptimizerConfig = { kind: cfg.optimizer, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: cfg.weightDecay, maxGradNorm: cfg.maxGradNorm || undefined };
  const optGraph = buildOptimizerGraph(opt, params.map((p) => ({ name: p.name, shape: p.shape, weightDecay: p.decay === false ? 0 : undefined })));
  const optSession = await createSession(serialize(optGraph.graph, { outputs: optGraph.outputs }).model, { providers: cfg.providers, threads: cfg.threads });

  const record: RunRecord = {
    format: 1, id: previous?.id ?? path.basename(path.resolve(runPath)), name: previous?.name ?? cfg.name ?? path.basename(path.resolve(runPath)),
    createdAt: previous?.createdAt ?? new Date().toISOString(), updatedAt: new Date().toISOString(), status: 'running', pid: process.pid, hostname: os.hostname(),
    task: cfg.task, method: { name: method.name, ...method.options }, head: { name: head.name, ...head.options },
    model: { dir: path.resolve(cfg.model), sha256: model.sha256, name: model.config.name, config: { ...model.config } },
    params: { trainable: parameterCount(params), total: esm2ParameterCount(model.config) + parameterCount(head.params) + (method.name === 'full' ? 0 : parameterCount(method.params)) },
    config: JSON.parse(configJson), seed: cfg.seed,
    versions: { 'plm-workbench': require('../../../package.json').version, 'onnxruntime-node': require('onnxruntime-node/package.json').version, node: process.version },
    provider: trainSession.report.provider, hardware: hardware(), wallSeconds: state.elapsedSeconds, peakRssBytes: previous?.peakRssBytes ?? 0,
    checkpoints, ...(previous?.bestCheckpoint ? { bestCheckpoint: previous.bestCheckpoint } : {}),
    ...(backbone ? { backbone } : {}),
  };
  run.writeRecord(record);

  const t0 = performance.now() - state.elapsedSeconds * 1000;
  const elapsed = () => (performance.now() - t0) / 1000;
  const sampleRss = () => (record.peakRssBytes = Math.max(record.peakRssBytes, process.memoryUsage().rss));
  // run.json's updatedAt is the heartbeat the run store reads for runs on other hosts (a run
  // silent for HEARTBEAT_STALE_MS counts as interrupted): refresh it well inside that limit.
  let lastBeat = performance.now();
  const heartbeat = () => {
    lock.check();
    lock.beat();
    if (performance.now() - lastBeat < HEARTBEAT_STALE_MS / 4) return;
    lastBeat = performance.now();
    run.writeRecord({ ...record, updatedAt: new Date().toISOString(), wallSeconds: elapsed() });
  };
  const D = model.config.hiddenSize;

  // Frozen blocks run once.
  let trainCache: FeatureCache | null = null;
  let valCache: FeatureCache | null = null;
  if (from > 0) {
    const fs = await createSession(buildFeatureGraph(model, from, method), runtime);
    const progress = (done: number) => {
      heartbeat();
      hooks.onProgress?.({ phase: 'features', epoch: state.epoch, step: state.step, done, total: data.train.length + data.val.length, sequencesPerSecond: 0 });
    };
    trainCache = await FeatureCache.compute(fs, model.tokenizer, data.train.map((s) => s.sequence), D, { limitBytes: cfg.featureCacheBytes, spillFile: path.join(runPath, 'features-train.cache'), onProgress: progress });
    valCache = await FeatureCache.compute(fs, model.tokenizer, data.val.map((s) => s.sequence), D, { limitBytes: cfg.featureCacheBytes, spillFile: path.join(runPath, 'features-val.cache') });
    await fs.release();
    sampleRss();
  }

  const feedsFor = (seqs: LabelledSequence[], idx: number[], cache: FeatureCache | null, maskSeed: (string | number)[] | null) => {
    const batch = idx.map((i) => seqs[i]);
    const enc = model.tokenizer.encodeBatch(batch.map((s) => s.sequence), 'int64');
    const [B, T] = [enc.batch, enc.maxLen];
    const feeds: Record<string, ort.Tensor> = { tokens: new ort.Tensor('int64', enc.ids, [B, T]), ...head.labelFeeds({ labels: batch.map((s) => s.labels) }, T, 'float32') };
    if (cache) {
      const h = new Float32Array(B * T * D);
      idx.forEach((i, b) => h.set(cache.get(i), b * T * D));
      feeds.hidden = new ort.Tensor('float32', h, [B, T, D]);
    }
    if (maskSeed)
      for (const mk of taskMasks) {
        const shape = mk.shape.map((d) => evalDim(d, { B, T }));
        const n = shape.reduce((a, b) => a * b, 1);
        feeds[`mask.${mk.name}`] = new ort.Tensor('float32', bernoulliMask(n, mk.p, cfg.seed, 'mask', ...maskSeed, mk.name), shape);
      }
    return feeds;
  };
  const paramFeeds = () => Object.fromEntries([...values].map(([k, t]) => [`param.${k}`, t]));

  const evaluate = async () => {
    const probs: Float32Array[] = new Array(data.val.length);
    let lossSum = 0;
    let weight = 0;
    const order = data.val.map((_, i) => i).sort((a, b) => data.val[b].sequence.length - data.val[a].sequence.length || a - b);
    for (let k = 0; k < order.length; k += cfg.batchSize) {
      const idx = order.slice(k, k + cfg.batchSize);
      const out = await evalSession.run({ ...feedsFor(data.val, idx, valCache, null), ...paramFeeds() });
      const labelled = idx.reduce((a, i) => a + data.val[i].labels.filter((x) => x >= 0).length, 0);
      lossSum += Number(out.loss.data[0]) * labelled;
      weight += labelled;
      const [, T, C] = out.probs.dims as number[];
      idx.forEach((i, b) => (probs[i] = (out.probs.data as Float32Array).slice(b * T * C, (b * T + data.val[i].sequence.length + 2) * C)));
      hooks.onProgress?.({ phase: 'validate', epoch: state.epoch, step: state.step, done: Math.min(k + cfg.batchSize, order.length), total: order.length, sequencesPerSecond: 0 });
    }
    const trained = new Map([...values].map(([k, t]) => [k, t.data as Float32Array]));
    return { loss: weight ? lossSum / weight : 0, metrics: task.metrics(data.val, probs, head.numClasses, trained) };
  };

  const write = (row: Record<string, unknown>) => {
    run.appendMetrics(row);
    state.metricsLines++;
    hooks.onMetrics?.(row);
  };
  /** A resumable checkpoint, then its record in run.json (written in that order: see checkpoint.ts). */
  const checkpoint = async () => {
    state.elapsedSeconds = elapsed();
    const rec = await writeCheckpoint(runPath, stepCheckpointFile(state.step), toMap(values), { m: toMap(m), v: toMap(v) }, state);
    record.checkpoints = keepNewest(record.checkpoints, rec);
    Object.assign(record, { updatedAt: new Date().toISOString(), wallSeconds: elapsed() });
    run.writeRecord(record);
    removeUnrecorded(runPath, record.checkpoints);
  };
  const stepsPerEpoch = Math.ceil(Math.ceil(data.train.length / cfg.batchSize) / cfg.accumulate);
  const schedule = { kind: cfg.schedule, lr: cfg.lr, warmupSteps: cfg.warmupSteps, totalSteps: stepsPerEpoch * cfg.epochs };

  try {
    while (state.epoch < cfg.epochs && !state.stopped) {
      const order = shuffled(data.train.length, stream(cfg.seed, 'epoch', state.epoch));
      const micro: number[][] = [];
      for (let k = 0; k < order.length; k += cfg.batchSize) micro.push(order.slice(k, k + cfg.batchSize));
      const epochStart = performance.now();
      let seen = 0;
      for (let b = state.batchInEpoch * cfg.accumulate; b < micro.length; b += cfg.accumulate) {
        if (hooks.signal?.aborted) throw new DOMException('training cancelled', 'AbortError');
        const group = micro.slice(b, b + cfg.accumulate);
        const acc = new Map<string, Float32Array>();
        let stepLoss = 0;
        for (let u = 0; u < group.length; u++) {
          const out = await trainSession.run({ ...feedsFor(data.train, group[u], trainCache, [state.step, u]), ...paramFeeds() });
          stepLoss += Number(out.loss.data[0]) / group.length;
          for (const p of params) {
            const gr = out[`grad.${p.name}`].data as Float32Array;
            const a = acc.get(p.name);
            if (!a) acc.set(p.name, Float32Array.from(gr, (x) => x / group.length));
            else for (let j = 0; j < a.length; j++) a[j] += gr[j] / group.length;
          }
          seen += group[u].length;
        }
        state.step++;
        const feeds: Record<string, ort.Tensor> = {
          lr: new ort.Tensor('float32', Float32Array.of(learningRate(schedule, state.step)), []),
          step: new ort.Tensor('float32', Float32Array.of(state.step), []),
        };
        for (const p of params) {
          feeds[`param.${p.name}`] = values.get(p.name)!;
          feeds[`grad.${p.name}`] = new ort.Tensor('float32', acc.get(p.name)!, p.shape);
          feeds[`m.${p.name}`] = m.get(p.name)!;
          feeds[`v.${p.name}`] = v.get(p.name)!;
        }
        const upd = await optSession.run(feeds);
        for (const p of params) {
          values.set(p.name, upd[`param.${p.name}.new`]);
          m.set(p.name, upd[`m.${p.name}.new`]);
          v.set(p.name, upd[`v.${p.name}.new`]);
        }
        state.batchInEpoch++;
        state.epochLoss.sum += stepLoss;
        state.epochLoss.count++;
        state.logLoss.sum += stepLoss;
        state.logLoss.count++;
        sampleRss();
        heartbeat();
        const rate = seen / ((performance.now() - epochStart) / 1000);
        hooks.onProgress?.({ phase: 'train', epoch: state.epoch, step: state.step, done: Math.min(b + cfg.accumulate, micro.length), total: micro.length, sequencesPerSecond: rate, loss: stepLoss });
        if (cfg.logEvery && state.step % cfg.logEvery === 0) {
          write({ step: state.step, epoch: state.epoch, split: 'train', loss: state.logLoss.sum / state.logLoss.count, lr: learningRate(schedule, state.step), elapsed_s: elapsed(), sequences_per_s: rate });
          state.logLoss = { sum: 0, count: 0 };
        }
        if (cfg.checkpointEvery && state.step % cfg.checkpointEvery === 0 && state.batchInEpoch * cfg.accumulate < micro.length) await checkpoint();
      }
      const trainRate = seen / ((performance.now() - epochStart) / 1000);
      if (state.epochLoss.count) write({ step: state.step, epoch: state.epoch, split: 'train', loss: state.epochLoss.sum / state.epochLoss.count, elapsed_s: elapsed(), sequences_per_s: trainRate });
      state.epochLoss = { sum: 0, count: 0 };
      const val = await evaluate();
      const metric = val.metrics[task.selectMetric];
      write({ step: state.step, epoch: state.epoch, split: 'val', loss: val.loss, ...val.metrics, elapsed_s: elapsed(), sequences_per_s: trainRate });
      if (state.best === null || metric > state.best.value) {
        state.best = { value: metric, epoch: state.epoch };
        state.epochsWithoutImprovement = 0;
        record.bestCheckpoint = await writeCheckpoint(runPath, BEST_CHECKPOINT, toMap(values), null, state);
        run.writeRecord(record);
      } else if (cfg.patience > 0 && ++state.epochsWithoutImprovement >= cfg.patience) {
        state.stopped = true;
      }
      state.epoch++;
      state.batchInEpoch = 0;
      Object.assign(record, {
        best: { metric: task.selectMetric, value: state.best.value, epoch: state.best.epoch },
        final: { loss: val.loss, ...val.metrics },
      });
      await checkpoint();
    }
    record.adapter = await exportAdapter(run, record, model.config);
    Object.assign(record, { status: 'completed', updatedAt: new Date().toISOString(), wallSeconds: elapsed() });
    run.writeRecord(record);
    return record;
  } catch (e) {
    const cancelled = e instanceof DOMException && e.name === 'AbortError';
    Object.assign(record, { status: cancelled ? 'cancelled' : 'failed', error: cancelled ? undefined : String((e as Error).message ?? e), updatedAt: new Date().toISOString(), wallSeconds: elapsed() });
    // A run whose lock was taken over belongs to its new trainer: leave its run.json alone.
    if (!lock.lost) {
      try {
        run.writeRecord(record);
      } catch {
        // the disk that failed the run may refuse this too; the run then reads as interrupted
      }
    }
    throw e;
  } finally {
    trainCache?.close();
    valCache?.close();
    await Promise.all([trainSession.release(), evalSession.release(), optSession.release()]);
  }
}
