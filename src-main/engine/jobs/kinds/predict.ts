// `predict`: a run's predictions for sequences, through the same code as `plmw predict`
// (tasks/predict.ts predictRun: it writes PREFIX.residues.csv, PREFIX.json and, for signal
// peptides, summary.csv, gff3 and mature.fasta). The job returns the JSON's content in a compact
// column form for plotting (predictions/store.ts), and keeps the files: at `out` when given, else
// in <home>/predictions/<time>-<run>/ with an index (prediction.json) that the predictions list
// reads after a reload, and the input as PREFIX.input.fasta.
import { mkdirSync, readFileSync } from 'node:fs';
import { sweepStaleTemporaries, writeFileAtomic } from '../../atomic.js';
import path from 'node:path';
import type { PredictRequest, PredictResult } from '../../../api/contract.js';
import { ApiError } from '../../../api/errors.js';
import type { JobContext } from '../../../api/job-kinds.js';
import { predictionResult, predictionsRoot, writePredictionIndex } from '../../predictions/store.js';
import { PredictInputError, predictRun } from '../../tasks/predict.js';
import { resolveRunsRoot } from './common.js';

function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

export async function runPredictJob(req: PredictRequest, ctx: JobContext): Promise<PredictResult> {
  const root = resolveRunsRoot(req.root, ctx.home);
  const runDir = path.join(root, req.run);
  const prefix = path.resolve(req.out ?? path.join(predictionsRoot(ctx.home), `${stamp()}-${req.run}`, req.run));
  mkdirSync(path.dirname(prefix), { recursive: true });
  sweepStaleTemporaries(path.dirname(prefix));
  // The input is kept beside the outputs (PREFIX.input.fasta): export reads full sequences from it.
  const input = `${prefix}.input.fasta`;
  writeFileAtomic(input, req.sequences.map((s) => `>${s.id}\n${s.sequence}\n`).join(''));
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const inputName = req.inputName ?? 'the selected sequences';
  let files: string[];
  try {
    const r = await predictRun(runDir, input, prefix, {
      kingdom: req.kingdom, headerKingdoms: req.headerKingdoms, inputName, signal: ctx.signal,
      onProgress: (p) => ctx.progress({ phase: p.phase, done: p.done, total: p.total, rateUnit: 'sequences/s', ...(p.phase === 'predicting' || p.phase.startsWith('decoding') ? {} : { etaSeconds: null }) }),
    });
    files = [input, ...r.files];
  } catch (e) {
    if (e instanceof PredictInputError) throw new ApiError('bad_request', e.message);
    throw e;
  }
  ctx.progress({ phase: 'preparing the plots', done: req.sequences.length, total: req.sequences.length, etaSeconds: null });
  const bySeq = new Map(req.sequences.map((s) => [s.id, s.sequence]));
  const result = await predictionResult(`${prefix}.json`, { files, seconds: (performance.now() - t0) / 1000, sequences: bySeq });
  const run = JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8')) as { task: string; name?: string };
  // The prediction files carry no time stamp (the same input gives the same bytes): the index
  // records when this job made them.
  const full: PredictResult = { ...result, createdAt: result.createdAt || startedAt, run: req.run, runName: run.name, runTask: run.task, ...(req.name ? { name: req.name } : {}), inputName };
  if (req.out === undefined) await writePredictionIndex(full);
  return full;
}
