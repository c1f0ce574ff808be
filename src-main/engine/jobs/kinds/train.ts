// The `train` and `train.resume` jobs: `plmw train` for the UI. The request's data (text or
// paths) is copied into the run directory (RUN/data/train.txt, val.txt) and the request is saved
// as RUN/ui-train.json, so an interrupted run can be resumed with exactly what it started with.
// Progress: every optimizer step reports its loss (phase 'train'), each validation its selection
// metric; the metrics rows themselves land in RUN/metrics.jsonl (logEvery defaults to 1), which
// `runs.get` returns while the run is going. After training, the best checkpoint is evaluated on
// the validation data (per-class scores, RUN/eval/val.json).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RunEvaluation, TrainRequest, TrainResult, TrainResumeRequest } from '../../../api/contract.js';
import { ApiError } from '../../../api/errors.js';
import type { JobContext } from '../../../api/job-kinds.js';
import type { Note } from '../../data/errors.js';
import { copyFileAtomic, writeFileAtomic, writeJsonAtomic } from '../../atomic.js';
import type { RunRecord } from '../../train/run-dir.js';
import { TRAINER_DEFAULTS, type TrainerConfig, train } from '../../train/trainer.js';
import { resolveModelArg } from '../infer-job.js';
import { loadLabelled, methodOptionsOf, resolveRunsRoot, taskOf } from './common.js';
import { evaluationOf } from './evaluation.js';

export const UI_TRAIN_FILE = 'ui-train.json';

function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** The request as saved in the run: data copied into RUN/data and referred to by path. */
function saveRequest(dir: string, req: TrainRequest, id: string, root: string): TrainRequest {
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  const keep = (d: TrainRequest['train'], which: 'train' | 'val') => {
    const file = path.join(dir, 'data', `${which}.txt`);
    if (d.text !== undefined) writeFileAtomic(file, d.text);
    else copyFileAtomic(d.path!, file);
    return { path: file, name: d.name ?? (d.path !== undefined ? path.basename(d.path) : `<${which}>`) };
  };
  const saved: TrainRequest = { ...req, id, root, train: keep(req.train, 'train'), val: keep(req.val, 'val') };
  writeFileAtomic(path.join(dir, UI_TRAIN_FILE), `${JSON.stringify(saved, null, 2)}\n`);
  return saved;
}

export async function runTrainJob(req: TrainRequest, ctx: JobContext): Promise<TrainResult> {
  const root = resolveRunsRoot(req.root, ctx.home);
  const id = req.id ?? `${req.method}-${req.task}-${stamp()}`;
  const dir = path.join(root, id);
  if (existsSync(path.join(dir, 'run.json')) || existsSync(path.join(dir, UI_TRAIN_FILE))) {
    throw new ApiError('conflict', `run '${id}' already exists in ${root}: choose another id (or resume it with train.resume)`, 'id');
  }
  // Read the data before anything is written: a bad file leaves no run behind.
  ctx.progress({ phase: 'reading data', done: 0, total: 2 });
  const data = { train: await loadLabelled(req.train, 'train', req), val: await loadLabelled(req.val, 'val', req) };
  mkdirSync(dir, { recursive: true });
  const saved = saveRequest(dir, req, id, root);
  return runTraining(saved, dir, ctx, data);
}

export async function runResumeJob(req: TrainResumeRequest, ctx: JobContext): Promise<TrainResult> {
  const root = resolveRunsRoot(req.root, ctx.home);
  const dir = path.join(root, req.id);
  const file = path.join(dir, UI_TRAIN_FILE);
  if (!existsSync(file)) throw new ApiError('not_found', `run '${req.id}' in ${root} was not started from the workbench (no ${UI_TRAIN_FILE}); resume it with the plmw train command it was started with`, 'id');
  const run = existsSync(path.join(dir, 'run.json')) ? (JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')) as RunRecord) : null;
  if (run?.status === 'completed') throw new ApiError('conflict', `run '${req.id}' has already completed`, 'id');
  const saved = JSON.parse(readFileSync(file, 'utf8')) as TrainRequest;
  ctx.progress({ phase: 'reading data', done: 0, total: 2 });
  const data = { train: await loadLabelled(saved.train, 'train', saved), val: await loadLabelled(saved.val, 'val', saved) };
  return runTraining(saved, dir, ctx, data);
}

async function runTraining(req: TrainRequest, dir: string, ctx: JobContext, data: { train: Awaited<ReturnType<typeof loadLabelled>>; val: Awaited<ReturnType<typeof loadLabelled>> }): Promise<TrainResult> {
  const task = taskOf(req);
  const cfg: TrainerConfig = {
    ...TRAINER_DEFAULTS,
    model: path.resolve(resolveModelArg(req.model, ctx.home)),
    task: task.name,
    method: req.method,
    methodOptions: methodOptionsOf(req),
    epochs: req.epochs,
    batchSize: req.batchSize ?? TRAINER_DEFAULTS.batchSize,
    lr: req.lr ?? TRAINER_DEFAULTS.lr,
    seed: req.seed ?? TRAINER_DEFAULTS.seed,
    patience: req.patience ?? TRAINER_DEFAULTS.patience,
    logEvery: req.logEvery ?? 1,
    providers: req.providers,
    threads: req.threads,
    name: req.name ?? req.id,
  };
  const stepsPerEpoch = Math.ceil(Math.ceil(data.train.items.length / cfg.batchSize) / cfg.accumulate);
  const totalSteps = stepsPerEpoch * cfg.epochs;
  const t0 = performance.now();
  let firstStep: { step: number; t: number } | undefined;
  const trainerNotes: Note[] = [];
  // the training ETA, repeated by the messages between steps (a validation's own phase has no rate to go on)
  let eta: number | null = null;
  const record = await train(dir, cfg, task, { train: data.train.items, val: data.val.items }, {
    signal: ctx.signal,
    onProgress: (p) => {
      const epoch = `epoch ${p.epoch + 1}/${cfg.epochs}`;
      if (p.phase === 'train') {
        firstStep ??= { step: p.step - 1, t: performance.now() };
        const secs = (performance.now() - firstStep.t) / 1000;
        const steps = p.step - firstStep.step;
        eta = steps > 0 && secs > 0 ? ((totalSteps - p.step) * secs) / steps : null;
        ctx.progress({ phase: `train · ${epoch}`, done: p.step, total: totalSteps, rate: p.sequencesPerSecond, rateUnit: 'sequences/s', etaSeconds: eta, loss: p.loss });
      } else ctx.progress({ phase: p.phase === 'features' ? 'computing frozen-block features' : `validate · ${epoch}`, done: p.done, total: p.total });
    },
    onNote: (message) => trainerNotes.push({ kind: 'warning', message, loc: { file: dir } }),
    onMetrics: (row) => {
      const v = row[task.selectMetric];
      if (row.split === 'val' && typeof v === 'number') {
        ctx.progress({ phase: `validated · epoch ${Number(row.epoch) + 1}/${cfg.epochs}`, done: Number(row.step), total: totalSteps, etaSeconds: eta, loss: Number(row.loss), metric: { name: task.selectMetric, value: v } });
      }
    },
  });
  const notes: Note[] = [...data.train.notes, ...data.val.notes, ...trainerNotes];
  const result: TrainResult = {
    id: path.basename(dir), dir, status: record.status, best: record.best, final: record.final, params: record.params,
    wallSeconds: record.wallSeconds ?? (performance.now() - t0) / 1000, notes,
  };
  // Per-class scores of the best checkpoint on the validation data (what Compare's bars show).
  try {
    ctx.progress({ phase: 'evaluating the best checkpoint', done: 0, total: 1 });
    const evaluation: RunEvaluation = await evaluationOf(dir, req.val.path!, cfg.providers, cfg.threads);
    mkdirSync(path.join(dir, 'eval'), { recursive: true });
    await writeJsonAtomic(path.join(dir, 'eval', 'val.json'), evaluation);
    result.evaluation = evaluation;
  } catch (e) {
    result.evalError = (e as Error).message;
  }
  return result;
}
