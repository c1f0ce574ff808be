// `predict`: a run's predictions for sequences, through the same code as `plmw predict`
// (tasks/predict.ts predictRun: it writes PREFIX.residues.csv, PREFIX.json and, for signal
// peptides, summary.csv, gff3 and mature.fasta). The job returns the JSON's content in a compact
// column form for plotting, and keeps the files: at `out` when given, else in
// <home>/predictions/<time>-<run>/ (what `export` reads and copies from), with the input as
// PREFIX.input.fasta.
import { mkdirSync, readFileSync } from 'node:fs';
import { sweepStaleTemporaries, writeFileAtomic } from '../../atomic.js';
import path from 'node:path';
import type { PredictRequest, PredictResult, PredictedSequence } from '../../../api/contract.js';
import { ApiError } from '../../../api/errors.js';
import type { JobContext } from '../../../api/job-kinds.js';
import type { Note } from '../../data/errors.js';
import { PredictInputError, predictRun } from '../../tasks/predict.js';
import { REGION_STATES } from '../../tasks/signal-peptide/regions.js';
import { resolveRunsRoot } from './common.js';

interface SsJson {
  task: 'secondary-structure';
  states: string | readonly string[];
  notes: Note[];
  sequences: { id: string; ss8?: string; ss3: string; residues: { residue: string; p8?: number[]; p3: number[] }[] }[];
}
interface SpJson {
  task: 'signal-peptide';
  states: readonly string[];
  notes: Note[];
  sequences: {
    id: string; kingdom: string | null; prediction: string; typeProbabilities: Record<string, number>; cleavageSite: number | null;
    predictedResidues: number; regions: string; marginals: number[][];
  }[];
}

function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** Region letters in REGION_STATES order, and each state's column among them. */
const REGION_LETTERS = [...new Set(REGION_STATES.map((s) => s.letter))].join('');
const STATE_COLUMN = REGION_STATES.map((s) => REGION_LETTERS.indexOf(s.letter));

export async function runPredictJob(req: PredictRequest, ctx: JobContext): Promise<PredictResult> {
  const root = resolveRunsRoot(req.root, ctx.home);
  const runDir = path.join(root, req.run);
  const prefix = path.resolve(req.out ?? path.join(ctx.home, 'predictions', `${stamp()}-${req.run}`, req.run));
  mkdirSync(path.dirname(prefix), { recursive: true });
  sweepStaleTemporaries(path.dirname(prefix));
  // The input is kept beside the outputs (PREFIX.input.fasta): export reads full sequences from it.
  const input = `${prefix}.input.fasta`;
  writeFileAtomic(input, req.sequences.map((s) => `>${s.id}\n${s.sequence}\n`).join(''));
  const t0 = performance.now();
  ctx.progress({ phase: 'predicting', done: 0, total: req.sequences.length });
  let files: string[];
  try {
    const r = await predictRun(runDir, input, prefix, { kingdom: req.kingdom });
    files = [input, ...r.files];
  } catch (e) {
    if (e instanceof PredictInputError) throw new ApiError('bad_request', e.message.split(input).join('<sequences>'));
    throw e;
  }
  ctx.progress({ phase: 'predicting', done: req.sequences.length, total: req.sequences.length });
  const jsonFile = `${prefix}.json`;
  const j = JSON.parse(readFileSync(jsonFile, 'utf8')) as SsJson | SpJson;
  const bySeq = new Map(req.sequences.map((s) => [s.id, s.sequence]));
  let sequences: PredictedSequence[];
  if (j.task === 'secondary-structure') {
    sequences = j.sequences.map((s) => {
      const sequence = s.residues.map((r) => r.residue).join('');
      const has8 = s.residues.length > 0 && s.residues[0].p8 !== undefined;
      return {
        id: s.id, sequence,
        ss: { states: typeof j.states === 'string' ? j.states : j.states.join(''), ...(s.ss8 ? { ss8: s.ss8 } : {}), ss3: s.ss3, ...(has8 ? { p8: s.residues.flatMap((r) => r.p8!) } : {}), p3: s.residues.flatMap((r) => r.p3) },
      };
    });
  } else {
    sequences = j.sequences.map((s) => {
      const W = REGION_LETTERS.length;
      const regionProbs = new Array<number>(s.predictedResidues * W).fill(0);
      s.marginals.forEach((row, k) => row.forEach((p, st) => (regionProbs[k * W + STATE_COLUMN[st]] += p)));
      return {
        id: s.id, sequence: bySeq.get(s.id) ?? '',
        sp: {
          kingdom: s.kingdom, prediction: s.prediction, typeProbabilities: s.typeProbabilities, cleavageSite: s.cleavageSite,
          predictedResidues: s.predictedResidues, regions: s.regions, regionLetters: REGION_LETTERS, regionProbs: regionProbs.map((x) => Math.round(x * 1e6) / 1e6),
        },
      };
    });
  }
  const run = JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8')) as { task: string };
  return {
    run: req.run, task: j.task, runTask: run.task, json: jsonFile, files, notes: j.notes,
    sequences, seconds: (performance.now() - t0) / 1000,
  };
}
