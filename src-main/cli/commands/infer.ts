import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import type { Command } from '../command.js';
import { UserError } from '../command.js';
import { formatNote } from '../../engine/data/errors.js';
import { readFastaFile } from '../../engine/data/fasta.js';
import { EMIT_KINDS, type EmitKind, Esm2Runner, inferSequences } from '../../engine/esm2/infer.js';
import { loadModel } from '../../engine/esm2/model.js';
import { type TensorToWrite, writeSafetensors } from '../../engine/esm2/safetensors.js';
import { describeReport } from '../../engine/runtime/index.js';
import { parseProviders, progressLine, resolveModelDir } from '../options.js';

const require = createRequire(import.meta.url);

const usage = `usage: plmw infer --model DIR --fasta FILE --out FILE.safetensors [options]

Runs ESM-2 on every record of FILE and writes one float32 tensor per sequence and output,
named <fasta-id>/<output>, unpadded, positions including <cls> and <eos>:
  logits              [len+2, vocab]
  representations.K   [len+2, d] for K = 0..L (0 = scaled embeddings, L = after the final LayerNorm)
  attentions          [L, H, len+2, len+2]
  contacts            [len, len]

options:
  --model DIR          Hugging Face ESM-2 checkpoint folder, or the name of an installed model
  --fasta FILE         input sequences
  --out FILE           output .safetensors (written atomically)
  --emit LIST          comma-separated: ${EMIT_KINDS.join(',')} (default logits,representations)
  --provider LIST      execution providers in order of preference (default cuda,webgpu,cpu)
  --threads N          intra-op threads (default: all cores)
  --token-budget N     padded tokens per batch (default 16384)
  --window N           residues per window for long sequences (default 1022)
  --overlap N          residues shared by consecutive windows (default 256)
  --skip-invalid       run the valid records when some are rejected (default: stop)`;

export const inferCommand: Command = {
  name: 'infer',
  summary: 'run ESM-2 on a FASTA file and write logits, representations, attentions, contacts',
  usage,
  async run(argv) {
    const { values: v } = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' }, fasta: { type: 'string' }, out: { type: 'string' }, emit: { type: 'string' },
        provider: { type: 'string' }, threads: { type: 'string' }, 'token-budget': { type: 'string' },
        window: { type: 'string' }, overlap: { type: 'string' }, 'skip-invalid': { type: 'boolean' },
      },
      strict: true,
    });
    if (!v.model || !v.fasta || !v.out) throw new UserError(`--model, --fasta and --out are required\n\n${usage}`, 2);
    const emit = (v.emit ?? 'logits,representations').split(',').map((s) => s.trim()).filter(Boolean) as EmitKind[];
    for (const e of emit) if (!EMIT_KINDS.includes(e)) throw new UserError(`--emit: unknown output '${e}' (choose from ${EMIT_KINDS.join(', ')})`, 2);
    const int = (name: string, s: string | undefined) => {
      if (s === undefined) return undefined;
      const n = Number(s);
      if (!Number.isInteger(n) || n < 0) throw new UserError(`--${name}: expected a whole number, got '${s}'`, 2);
      return n;
    };

    const fasta = await readFastaFile(v.fasta);
    const rejected = fasta.notes.filter((n) => n.kind === 'rejected');
    for (const n of fasta.notes) console.error(formatNote(n));
    if (rejected.length && !v['skip-invalid']) throw new UserError(`${rejected.length} record(s) rejected in ${v.fasta}; fix them or pass --skip-invalid`);
    if (fasta.records.length === 0) throw new UserError(`${v.fasta}: no sequences to run`);

    const model = loadModel(resolveModelDir(v.model));
    const runner = await Esm2Runner.create(model, emit, {
      providers: parseProviders(v.provider), threads: int('threads', v.threads),
    });
    console.error(`plmw infer: ${fasta.records.length} sequences, ${describeReport(runner.session.report)}`);
    const tensors: Record<string, TensorToWrite> = {};
    const metadata: Record<string, string> = {
      producer: 'plm-workbench',
      version: require('../../../package.json').version,
      onnxruntime: require('onnxruntime-node/package.json').version,
      model: model.dir,
      model_sha256: model.sha256,
      emit: emit.join(','),
      provider: runner.session.report.provider,
    };
    const t0 = performance.now();
    for await (const r of inferSequences(runner, fasta.records, {
      tokenBudget: int('token-budget', v['token-budget']), window: int('window', v.window), overlap: int('overlap', v.overlap),
      onProgress: (p) => progressLine(`${p.done}/${p.total} sequences, ${p.residuesPerSecond.toFixed(0)} residues/s`),
    })) {
      for (const t of r.tensors) tensors[`${r.id}/${t.name}`] = { dtype: 'F32', shape: t.shape, data: t.data };
      if (r.windows) {
        metadata[`${r.id}/long_sequence`] = JSON.stringify(r.windows);
        console.error(`\nplmw infer: ${r.id} (${r.length} residues) ran as ${r.windows.ranges.length} windows of ${r.windows.window}: ${r.windows.rule}`);
      }
    }
    await writeSafetensors(v.out, tensors, metadata);
    await runner.release();
    const dt = (performance.now() - t0) / 1000;
    const residues = fasta.records.reduce((a, r) => a + r.sequence.length, 0);
    progressLine('');
    console.error(`plmw infer: wrote ${Object.keys(tensors).length} tensors to ${v.out} (${residues} residues in ${dt.toFixed(1)} s)`);
    return 0;
  },
};
