import { mkdirSync } from 'node:fs';
import { sweepStaleTemporaries } from '../../engine/atomic.js';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UserError } from '../command.js';
import { InputError } from '../../engine/data/errors.js';
import { writeJson } from '../../engine/export/json.js';
import { EvaluationInputError, evaluateRun, formatEvaluation } from '../../engine/tasks/evaluate.js';
import { currentVersions } from '../../engine/tasks/predict.js';
import { parseProviders, numberOption } from '../options.js';

const usage = `usage: plmw evaluate --run RUN_DIR --data FILE [--out metrics.json] [options]

Scores a trained run's best checkpoint on a labelled file and writes the metrics as JSON
(atomically) and a readable table on stdout.
  secondary structure (LIFT_SS, NetSurfP CSV, FLIP files): Q3 and Q8, pooled and per protein,
    per-class precision/recall/F1, confusion matrix, SOV'99 (Q3 of an SS8 model scores its
    SS8 prediction mapped to 3 states)
  signal peptides (SignalP 3-line files with labels): per kingdom and SP type MCC1, MCC2,
    cleavage-site recall and precision at windows 0..3 (science.md), first 70 residues

options:
  --run DIR        run directory (run.json, checkpoints/best.safetensors)
  --data FILE      labelled file (format detected from the content)
  --out FILE       metrics JSON (default RUN_DIR/eval/<data file name>.metrics.json)
  --model DIR      the model folder, when the one recorded in run.json has moved
  --batch N        sequences per batch (default 16)
  --provider LIST  execution providers (default cuda,webgpu,cpu) --threads N`;

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'score a trained run on a labelled file (Q3/Q8/SOV or MCC/cleavage sites)',
  usage,
  async run(argv) {
    const { values: a } = parseArgs({
      args: argv,
      strict: true,
      options: {
        run: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' }, model: { type: 'string' }, batch: { type: 'string' },
        provider: { type: 'string' }, threads: { type: 'string' },
      },
    });
    if (!a.run || !a.data) throw new UserError(`--run and --data are required\n\n${usage}`, 2);
    const int = (k: 'batch' | 'threads') => numberOption(k, a[k], { whole: true, min: 1 });
    const out = a.out ?? path.join(a.run, 'eval', `${path.basename(a.data)}.metrics.json`);
    let e;
    try {
      e = await evaluateRun(a.run, a.data, { batchSize: int('batch'), modelDir: a.model, runtime: { providers: parseProviders(a.provider), threads: int('threads') } });
    } catch (err) {
      if (err instanceof EvaluationInputError || err instanceof InputError) throw new UserError(err.message);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError((err as Error).message);
      throw err;
    }
    mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    sweepStaleTemporaries(path.dirname(path.resolve(out)));
    writeJson(out, { format: 'plmw-evaluation', formatVersion: 1, createdAt: new Date().toISOString(), producer: currentVersions(), ...e });
    process.stdout.write(formatEvaluation(e));
    console.error(`plmw evaluate: metrics written to ${out}`);
    return 0;
  },
};
