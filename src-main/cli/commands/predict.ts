import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UserError } from '../command.js';
import { sweepStaleTemporaries } from '../../engine/atomic.js';
import { InputError, formatNote } from '../../engine/data/errors.js';
import { KINGDOMS, type Kingdom } from '../../engine/data/signalp.js';
import { InputChangedError } from '../../engine/shards/input.js';
import { type ShardSpec, ShardSpecError, formatShard, parseShard } from '../../engine/shards/shard.js';
import { DEFAULT_BATCH, GROUP_BATCHES, PredictInputError, predictRun, prefixDir } from '../../engine/tasks/predict.js';
import { parseProviders, numberOption, progressLine } from '../options.js';

const usage = `usage: plmw predict --run RUN_DIR --fasta FILE --out PREFIX [options]

Predicts every sequence of FILE with a trained run's best checkpoint, reading and writing as it
goes (memory is bounded by a group of batches, not by the file). Files (published together when
the run completes; nothing is left at PREFIX when it fails or is cancelled):
  PREFIX.residues.csv   id,position,residue, then per residue
                          SS8 runs: ss8, ss3_from_ss8 (the SS8 call in 3 states, what Q3 scores),
                            ss3_argmax_p3 (the most probable 3-state class), p_G..p_C, p3_H,p3_E,p3_C
                          SS3 runs: ss3, p3_H,p3_E,p3_C
                          SP runs: region letter and the 37 region-state probabilities
  PREFIX.summary.csv    SP runs: id,kingdom,kingdom_source,prediction,p_NO_SP..p_PILIN,
                          cs_position,cs_probability,flags (what is uncertain)
  PREFIX.gff3           SP runs: SignalP 6.0's output.gff3 layout (one line per signal peptide)
  PREFIX.mature.fasta   SP runs: sequences with the signal peptide removed (others unchanged)
  PREFIX.json           all of it, with the run's metadata, the provider and the versions
  PREFIX.counts.json    sequences per SP type and kingdom (SP runs), residues per state (SS runs)

options:
  --fasta FILE     sequences: any FASTA (plain, UniProt and SignalP-style headers, mixed; ids kept
                   whole), or a labelled file (LIFT_SS, NetSurfP CSV, FLIP)
  --kingdom K      SP runs: ${KINGDOMS.join(', ')} or unknown, for records whose header names none
                   (a SignalP-style header's kingdom is used for its record)
  --gff-source S   GFF3 source column (default SignalP-6.0, for tools that filter on it)
  --model DIR      the model folder, when the one recorded in run.json has moved
  --batch N        sequences per batch (default ${DEFAULT_BATCH}); records are read in groups of
                   ${GROUP_BATCHES} batches, each group sorted by length
  --shard I/N      predict only part I of N of FILE: whole groups of records by their number in
                   the file; \`plmw merge\` joins the N parts into the bytes of one run
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
        model: { type: 'string' }, batch: { type: 'string' }, provider: { type: 'string' }, threads: { type: 'string' }, shard: { type: 'string' },
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
    let shard: ShardSpec | undefined;
    try {
      shard = a.shard === undefined ? undefined : parseShard(a.shard);
    } catch (e) {
      throw new UserError((e as Error).message, 2);
    }
    mkdirSync(prefixDir(a.out), { recursive: true });
    sweepStaleTemporaries(prefixDir(a.out));
    try {
      const r = await predictRun(a.run, a.fasta, a.out, {
        kingdom, gffSource: a['gff-source'], batchSize: int('batch'), modelDir: a.model, runtime: { providers: parseProviders(a.provider), threads: int('threads') }, shard,
        onNote: (n) => console.error(formatNote(n)),
        onProgress: (p) => progressLine(`${p.phase} ${p.done}/${p.total}`),
      });
      progressLine('');
      const part = !shard
        ? ''
        : r.range.end > r.range.first
          ? ` (shard ${formatShard(shard)}: records ${r.range.first + 1}-${r.range.end} of ${r.total})`
          : ` (shard ${formatShard(shard)}: none of the ${r.total} records; the other shards hold them)`;
      const t = r.seconds;
      console.error(`plmw predict: model and run loaded in ${t.load.toFixed(2)} s, graph and session built in ${t.build.toFixed(2)} s, predicted in ${t.predict.toFixed(2)} s`);
      console.error(`plmw predict: ${r.sequences} sequence(s)${part} on ${r.provider}; wrote ${r.files.join(', ')}`);
      return 0;
    } catch (err) {
      progressLine('');
      if (err instanceof PredictInputError || err instanceof InputError || err instanceof ShardSpecError || err instanceof InputChangedError) throw new UserError(err.message);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError((err as Error).message);
      throw err;
    }
  },
};
