// `plmw merge`: the outputs of `plmw predict --shard I/N` or `plmw infer --shard I/N` runs joined
// into the files one unsharded run writes (engine/shards/merge.ts).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UserError } from '../command.js';
import { sweepStaleTemporaries } from '../../engine/atomic.js';
import { SafetensorsError } from '../../engine/esm2/safetensors.js';
import { MergeError, mergePredictions, mergeSafetensors } from '../../engine/shards/merge.js';
import { ShardSpecError } from '../../engine/shards/shard.js';

const usage = `usage: plmw merge --out PREFIX SHARD_PREFIX...
       plmw merge --out FILE.safetensors SHARD.safetensors...

Joins the N parts of a sharded run, given in any order, into the files one unsharded run writes,
byte for byte:
  predictions (plmw predict --shard): PREFIX.residues.csv, .json, .counts.json and, for signal
    peptides, .summary.csv, .gff3, .mature.fasta; the run, model, provider and versions are
    recorded once, and must be the same in every part
  safetensors (plmw infer --shard): every part's tensors in one file, the shared metadata once
Every part must be there once (the parts record which records of which file they hold); nothing
is written when one is missing, cut short or from another run. Output files are written
atomically.`;

export const mergeCommand: Command = {
  name: 'merge',
  summary: 'join the outputs of predict/infer --shard runs into the files of one run',
  usage,
  async run(argv) {
    const { values: a, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: { out: { type: 'string' } } });
    if (!a.out || positionals.length === 0) throw new UserError(`--out and at least one part are required\n\n${usage}`, 2);
    const tensors = positionals.filter((p) => p.endsWith('.safetensors'));
    if (tensors.length && tensors.length !== positionals.length) throw new UserError('give either .safetensors files or prediction prefixes, not both', 2);
    if (tensors.length && !a.out.endsWith('.safetensors')) throw new UserError('--out: the merged file of .safetensors parts must end in .safetensors', 2);
    mkdirSync(path.dirname(path.resolve(a.out)), { recursive: true });
    sweepStaleTemporaries(path.dirname(path.resolve(a.out)));
    try {
      const r = tensors.length ? mergeSafetensors(tensors, a.out) : mergePredictions(positionals.map((p) => p.replace(/\.json$/, '')), a.out);
      console.error(`plmw merge: ${r.shards} part(s); wrote ${r.files.join(', ')}`);
      return 0;
    } catch (e) {
      if (e instanceof MergeError || e instanceof ShardSpecError || e instanceof SafetensorsError) throw new UserError(e.message);
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError((e as Error).message);
      throw e;
    }
  },
};
