import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UserError } from '../command.js';
import { sweepStaleTemporaries } from '../../engine/atomic.js';
import { InputError, formatNote } from '../../engine/data/errors.js';
import { KINGDOMS, type Kingdom } from '../../engine/data/signalp.js';
import { PredictInputError, predictRun, prefixDir } from '../../engine/tasks/predict.js';
import { parseProviders, numberOption } from '../options.js';

const usage = `usage: plmw predict --run RUN_DIR --fasta FILE --out PREFIX [options]

Predicts every sequence of FILE with a trained run's best checkpoint. Files (each written
atomically):
  PREFIX.residues.csv   id,position,residue, then per residue
                          SS8 runs: ss8, ss3_from_ss8 (the SS8 call in 3 states, what Q3 scores),
                            ss3_argmax_p3 (the most probable 3-state class), p_G..p_C, p3_H,p3_E,p3_C
                          SS3 runs: ss3, p3_H,p3_E,p3_C
                          SP runs: region letter and the 37 region-state probabilities
  PREFIX.summary.csv    SP runs: id,kingdom,kingdom_source,prediction,p_NO_SP..p_PILIN,
                          cs_position,cs_probability,flags (what is uncertain)
  PREFIX.gff3           SP runs: SignalP 6.0's output.gff3 layout (one line per signal peptide)
  PREFIX.mature.fasta   SP runs: sequences with the signal peptide removed (others unchanged)
  PREFIX.json           all of it, with the run's metadata and the versions

options:
  --fasta FILE     sequences: any FASTA (plain, UniProt and SignalP-style headers, mixed; ids kept
                   whole), or a labelled file (LIFT_SS, NetSurfP CSV, FLIP)
  --kingdom K      SP runs: ${KINGDOMS.join(', ')} or unknown, for records whose header names none
                   (a SignalP-style header's kingdom is used for its record)
  --gff-source S   GFF3 source column (default SignalP-6.0, for tools that filter on it)
  --model DIR      the model folder, when the one recorded in run.json has moved
  --batch N        sequences per batch (default 16)
  --provider LIST --threads N`;

export const predictCommand: Command = {
  name: 'predict',
  summary: 'annotate sequences with a trained run (CSV, SignalP-style GFF3, mature FASTA, JSON)',
  usage,
  async run(argv) {
    const { values: a } = parseArgs({
      args: argv,
      strict: true,
      options: {
        run: { type: 'string' }, fasta: { type: 'string' }, out: { type: 'string' }, kingdom: { type: 'string' }, 'gff-source': { type: 'string' },
        model: { type: 'string' }, batch: { type: 'string' }, provider: { type: 'string' }, threads: { type: 'string' },
      },
    });
    if (!a.run || !a.fasta || !a.out) throw new UserError(`--run, --fasta and --out are required\n\n${usage}`, 2);
    const int = (k: 'batch' | 'threads') => numberOption(k, a[k], { whole: true, min: 1 });
    let kingdom: Kingdom | 'unknown' | undefined;
    if (a.kingdom !== undefined) {
      const k = a.kingdom.toUpperCase();
      if (k !== 'UNKNOWN' && !(KINGDOMS as readonly string[]).includes(k)) throw new UserError(`--kingdom must be one of ${KINGDOMS.join(', ')} or unknown, got '${a.kingdom}'`, 2);
      kingdom = k === 'UNKNOWN' ? 'unknown' : (k as Kingdom);
    }
    if (a['gff-source'] !== undefined && (a['gff-source'] === '' || /[\t\n\r]/.test(a['gff-source']))) throw new UserError('--gff-source must be non-empty text without tabs or line breaks', 2);
    mkdirSync(prefixDir(a.out), { recursive: true });
    sweepStaleTemporaries(prefixDir(a.out));
    try {
      const r = await predictRun(a.run, a.fasta, a.out, {
        kingdom, gffSource: a['gff-source'], batchSize: int('batch'), modelDir: a.model, runtime: { providers: parseProviders(a.provider), threads: int('threads') },
      });
      for (const n of r.notes) console.error(formatNote(n));
      console.error(`plmw predict: ${r.sequences} sequence(s); wrote ${r.files.join(', ')}`);
      return 0;
    } catch (err) {
      if (err instanceof PredictInputError || err instanceof InputError) throw new UserError(err.message);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError((err as Error).message);
      throw err;
    }
  },
};
