// `plmw infer`: a thin front over the same job the workbench and the browser mode run, so all
// three write the same bytes, and outputs go to disk as sequences complete (bounded memory).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UserError } from '../command.js';
import { InputError, formatNote } from '../../engine/data/errors.js';
import { readEsm2Config } from '../../engine/esm2/config.js';
import { EMIT_KINDS, type EmitKind, reprLayers as reprLayersOf } from '../../engine/esm2/infer.js';
import { DEFAULT_EMIT, releaseWarmRunner, resolveRunArg, runInferJob } from '../../engine/jobs/infer-job.js';
import { runsRoot } from '../../engine/runs/store.js';
import type { RunRecord } from '../../engine/train/run-dir.js';
import { plmwHome } from '../../engine/models/store.js';
import { type ShardSpec, parseShard } from '../../engine/shards/shard.js';
import { parseProviders, progressLine, resolveModelDir, numberOption } from '../options.js';

const usage = `usage: plmw infer (--model DIR | --run RUN) --fasta FILE --out FILE.safetensors [options]

Runs ESM-2 (or, with --run, a trained or imported run's fine-tuned model: its PEFT method
applied) on every record of FILE and writes one float32 tensor per sequence and output,
named <fasta-id>/<output>, unpadded, positions including <cls> and <eos>:
  logits              [len+2, vocab]; with --run of a run whose head is one Linear per residue
                      (linear SS head, signal-peptide emissions without the kingdom term, an
                      imported token classifier): that classifier's scores, [len+2, labels]
  representations.K   [len+2, d] for the layers K of --repr-layers (0 = scaled embeddings,
                      L = after the final LayerNorm; default L only)
  attentions          [L, H, len+2, len+2]
  contacts            [len, len]

options:
  --model DIR          Hugging Face ESM-2 checkpoint folder, or the name of an installed model
  --run RUN            a run folder, or the id of a run in --root
  --root DIR           the runs folder for --run ID (default $PLMW_HOME/runs)
  --fasta FILE         input sequences
  --out FILE           output .safetensors (written atomically)
  --emit LIST          comma-separated: ${EMIT_KINDS.join(',')} (default logits,representations)
  --repr-layers LIST   representations to write, as fair-esm's repr_layers: comma-separated
                       layers 0..L, negative from the end (-1 = L), or all (default: -1)
  --provider LIST      execution providers in order of preference (default cuda,webgpu,cpu)
  --threads N          intra-op threads (default: all cores)
  --token-budget N     padded tokens per batch (default 16384)
  --window N           residues per window for long sequences (default 1022)
  --overlap N          residues shared by consecutive windows (default 256)
  --skip-invalid       run the valid records when some are rejected (default: stop)
  --shard I/N          run only part I of N of FILE (whole groups of records by their number in
                       the file); \`plmw merge\` joins the N files into the bytes of one run`;

/** `all`, or comma-separated layer numbers (negative from the end), checked against the model's depth L. */
function parseReprLayers(text: string, L: number): number[] {
  if (text.trim() === 'all') return Array.from({ length: L + 1 }, (_, k) => k);
  const layers = text.split(',').map((t) => t.trim());
  if (layers.some((t) => !/^-?\d+$/.test(t))) throw new UserError(`--repr-layers: expected all or comma-separated layer numbers, got '${text}'`, 2);
  try {
    return reprLayersOf(L, layers.map(Number));
  } catch (e) {
    throw new UserError(`--repr-layers: ${(e as Error).message}`, 2);
  }
}

/** The number of layers of the model that --model or --run names (a run records its model's config). */
function depthOf(v: { model?: string; run?: string; root?: string }): number {
  if (v.model !== undefined) return readEsm2Config(resolveModelDir(v.model)).numLayers;
  let record: RunRecord;
  try {
    const dir = resolveRunArg(v.run!, path.resolve(v.root ?? runsRoot(plmwHome())));
    record = JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')) as RunRecord;
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  return Number(record.model.config.numLayers);
}

export const inferCommand: Command = {
  name: 'infer',
  summary: 'run ESM-2 on a FASTA file and write logits, representations, attentions, contacts',
  usage,
  async run(argv) {
    const { values: v } = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' }, run: { type: 'string' }, root: { type: 'string' }, fasta: { type: 'string' }, out: { type: 'string' }, emit: { type: 'string' },
        provider: { type: 'string' }, threads: { type: 'string' }, 'token-budget': { type: 'string' },
        window: { type: 'string' }, overlap: { type: 'string' }, 'skip-invalid': { type: 'boolean' }, shard: { type: 'string' }, 'repr-layers': { type: 'string' },
      },
      strict: true,
    });
    if (!v.fasta || !v.out || (v.model === undefined) === (v.run === undefined)) throw new UserError(`one of --model or --run, and --fasta and --out are required\n\n${usage}`, 2);
    const emit = v.emit ? (v.emit.split(',').map((s) => s.trim()).filter(Boolean) as EmitKind[]) : [...DEFAULT_EMIT];
    for (const e of emit) if (!EMIT_KINDS.includes(e)) throw new UserError(`--emit: unknown output '${e}' (choose from ${EMIT_KINDS.join(', ')})`, 2);
    const int = (name: string, s: string | undefined, min = 0) => numberOption(name, s, { whole: true, min });
    const reprLayers = v['repr-layers'] === undefined ? undefined : parseReprLayers(v['repr-layers'], depthOf(v));
    let shard: ShardSpec | undefined;
    try {
      shard = v.shard === undefined ? undefined : parseShard(v.shard);
    } catch (e) {
      throw new UserError((e as Error).message, 2);
    }
    // A signal ends the command at once (cli/signals.ts): the output is not written yet and its
    // spool is removed with the process's other temporaries.
    const ctrl = new AbortController();
    try {
      const r = await runInferJob(
        {
          ...(v.run !== undefined ? { run: v.run, root: v.root } : { model: resolveModelDir(v.model!) }), fasta: v.fasta, out: v.out, emit, reprLayers, providers: parseProviders(v.provider), threads: int('threads', v.threads, 1),
          tokenBudget: int('token-budget', v['token-budget'], 1), window: int('window', v.window, 1), overlap: int('overlap', v.overlap), skipInvalid: v['skip-invalid'],
        },
        {
          signal: ctrl.signal, home: plmwHome(), jobId: 'cli',
          progress: (p) => progressLine(`${p.phase}${p.total ? ` ${p.done}/${p.total}` : ''}${p.rate ? `, ${p.rate.toFixed(0)} residues/s` : ''}`),
        },
        { shard },
      );
      progressLine('');
      for (const n of r.notes) console.error(formatNote(n));
      for (const id of r.longSequences) console.error(`plmw infer: ${id} ran as overlapping windows (the rule is stored in the file's metadata as ${id}/long_sequence)`);
      console.error(`plmw infer: ${r.sequences} sequences (${r.residues} residues) on ${r.provider} in ${r.seconds.toFixed(1)} s; wrote ${r.tensors} tensors to ${r.out}`);
      return 0;
    } catch (e) {
      progressLine('');
      const msg = (e as Error).message ?? String(e);
      if (/record\(s\) rejected|no sequences to run|^model |^run '|changed while it was read/.test(msg) || e instanceof InputError) throw new UserError(msg);
      throw e;
    } finally {
      await releaseWarmRunner();
    }
  },
};
