// The `infer` job: ESM-2 over a FASTA file or inline sequences, written as the same safetensors
// file `plmw infer` writes (same tensor names, same metadata, same bytes: the writer sorts the
// tensors and the metadata holds nothing that varies between runs, no timestamp).
//
// Neither input nor outputs are kept in memory: the FASTA file is read in groups of records
// (shards/input.ts; each group sorted by length into batches), and each sequence's tensors go to
// a spool file as its batch completes (SafetensorsSpool), so a job's memory does not grow with
// the number of sequences (apart from the file's index of tensor names, which safetensors keeps
// in one header) and many jobs in a row do not pile up garbage in the worker.
//
// `shard` (plmw infer --shard I/N) runs whole groups of the file only (shards/shard.ts) and adds
// a `shard` metadata entry; plmw merge joins the N files into the bytes of one unsharded run.
//
// The worker keeps the last model + session warm: consecutive jobs on the same model, outputs
// and runtime settings reuse it instead of reloading the checkpoint and recompiling the graph.
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import pkg from '../../../package.json' with { type: 'json' };
import type { InferRequest, InferResult } from '../../api/contract.js';
import type { JobContext } from '../../api/job-kinds.js';
import { sweepStaleTemporaries } from '../atomic.js';
import { formatNote, type Note } from '../data/errors.js';
import { type EmitKind, Esm2Runner, inferSequences, reprLayers } from '../esm2/infer.js';
import { loadModel } from '../esm2/model.js';
import { modelDir } from '../models/store.js';
import { RUN_ID_PATTERN, runsRoot } from '../runs/store.js';
import type { ProviderName } from '../runtime/providers.js';
import { type RecordInput, openInput, textInput } from '../shards/input.js';
import { type ShardSpec, formatShard, shardInfo } from '../shards/shard.js';
import { SafetensorsSpool } from './safetensors-spool.js';

const require = createRequire(import.meta.url);
const ORT_VERSION: string = require('onnxruntime-node/package.json').version;
/** `plmw infer`'s default outputs. */
export const DEFAULT_EMIT: readonly EmitKind[] = ['logits', 'representations'];
/** Records per group: sorted by length into batches together; shards take whole groups. */
export const INFER_GROUP = 1024;

/** A model folder as given, or the folder of a model installed in the store at `home`. */
export function resolveModelArg(arg: string, home: string): string {
  if (existsSync(arg) && statSync(arg).isDirectory()) return arg;
  if (/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(arg)) {
    const dir = modelDir(arg, { home });
    if (existsSync(dir)) return dir;
    throw new Error(`model '${arg}' is neither a folder nor an installed model (looked in ${dir})`);
  }
  throw new Error(`model folder '${arg}' does not exist`);
}

/** The safetensors metadata `plmw infer` writes, in its key order. */
export function inferMetadata(model: { dir: string; sha256: string }, emit: readonly EmitKind[], provider: string, layers?: readonly number[]): Record<string, string> {
  return {
    producer: 'plm-workbench',
    version: pkg.version,
    onnxruntime: ORT_VERSION,
    model: model.dir,
    model_sha256: model.sha256,
    emit: emit.join(','),
    ...(emit.includes('representations') && layers ? { repr_layers: layers.join(',') } : {}),
    provider,
  };
}

let warm: { key: string; runner: Esm2Runner } | undefined;

/** What runs: a model folder, or a run folder (its fine-tuned model). */
type InferSource = { model: string } | { run: string };

async function runnerFor(src: InferSource, emit: readonly EmitKind[], providers: readonly ProviderName[] | undefined, threads: number | undefined, layers?: readonly number[]): Promise<Esm2Runner> {
  const file = 'model' in src ? path.join(src.model, 'model.safetensors') : path.join(src.run, 'checkpoints', 'best.safetensors');
  const st = statSync(file, { throwIfNoEntry: false });
  const key = JSON.stringify([src, st?.size, st?.mtimeMs, [...emit].sort(), providers ?? null, threads ?? null, layers ?? null]);
  if (warm?.key === key) return warm.runner;
  if (warm) {
    const old = warm.runner;
    warm = undefined;
    await old.release();
  }
  let runner: Esm2Runner;
  if ('model' in src) runner = await Esm2Runner.create(await loadModel(src.model), emit, { providers, threads }, undefined, { reprLayers: layers });
  else {
    // the trainer's side of the engine loads only when a run is asked for
    const [{ openRun }, { adaptation }] = await Promise.all([import('../train/predictor.js'), import('../train/adapted.js')]);
    const run = await openRun(src.run);
    runner = await Esm2Runner.create(run.model, emit, { providers, threads }, adaptation(run.model.config, run.method, run.head, run.params), { reprLayers: layers });
  }
  warm = { key, runner };
  return runner;
}

/** A run folder as given, or the folder of a run id in the runs root. */
export function resolveRunArg(arg: string, root: string): string {
  if (existsSync(path.join(arg, 'run.json'))) return arg;
  if (RUN_ID_PATTERN.test(arg) && existsSync(path.join(root, arg, 'run.json'))) return path.join(root, arg);
  throw new Error(`run '${arg}' is neither a run folder nor a run in ${root}`);
}

/** Release the warm session (tests, shutdown). */
export async function releaseWarmRunner(): Promise<void> {
  const w = warm;
  warm = undefined;
  await w?.runner.release();
}

async function readInput(req: InferRequest, shard: ShardSpec | undefined, groupSize: number): Promise<RecordInput> {
  const o = { groupSize, shard, format: 'fasta' as const, allowRejected: req.skipInvalid === true };
  if (req.fasta !== undefined) return openInput(req.fasta, o);
  // Inline sequences go through the same parser and policy as files (case, '*', alphabet, duplicates).
  return textInput(req.sequences!.map((s) => `>${s.id}\n${s.sequence}\n`).join(''), '<request>', o);
}

export interface InferJobOptions {
  /** run only part I of N of the input (plmw infer --shard) */
  shard?: ShardSpec;
  /** records per group (default INFER_GROUP); the parts of one sharded run must agree */
  groupSize?: number;
}

export async function runInferJob(req: InferRequest, ctx: JobContext, o: InferJobOptions = {}): Promise<InferResult> {
  const emit = req.emit ?? DEFAULT_EMIT;
  ctx.progress({ phase: 'reading input', done: 0, total: 1 });
  const groupSize = o.groupSize ?? INFER_GROUP;
  const input = await readInput(req, o.shard, groupSize);
  if (input.rejected.count && !req.skipInvalid) {
    const where = o.shard ? ` among records ${input.range.first + 1}-${input.range.end} (shard ${formatShard(o.shard)})` : '';
    throw new Error(`${input.rejected.count} record(s) rejected in ${input.file}${where} (first: ${formatNote(input.rejected.first[0])}); fix them or set skipInvalid`);
  }
  if (input.total - input.rejectedInFile === 0) throw new Error(`${input.file}: no sequences to run`);
  if (ctx.signal.aborted) throw new DOMException('inference cancelled', 'AbortError');

  ctx.progress({ phase: 'loading model', done: 0, total: 1 });
  const src: InferSource = req.run !== undefined ? { run: resolveRunArg(req.run, path.resolve(req.root ?? runsRoot(ctx.home))) } : { model: resolveModelArg(req.model!, ctx.home) };
  const runner = await runnerFor(src, emit, req.providers, req.threads, req.reprLayers);
  const layers = reprLayers(runner.model.config.numLayers, req.reprLayers);
  const metadata = inferMetadata(runner.model, emit, runner.session.report.provider, layers);
  if ('run' in src) Object.assign(metadata, { run: path.resolve(src.run), logits: runner.adapted?.classifier ? 'the run\'s classifier' : 'the MLM head' });
  if (o.shard) metadata.shard = JSON.stringify(shardInfo(o.shard, groupSize, input.total, input.range));
  const longSequences: string[] = [];
  const notes: Note[] = [];
  const total = input.range.end - input.range.first;
  let tensors = 0;
  let sequences = 0;
  let residues = 0;

  const t0 = performance.now();
  ctx.progress({ phase: 'inference', done: 0, total, rate: 0, rateUnit: 'tokens/s' });
  // A writer that died here (SIGKILL) left its spool: removed now that its owner is gone.
  sweepStaleTemporaries(path.dirname(path.resolve(req.out)));
  const spool = await SafetensorsSpool.create(req.out);
  try {
    for await (const group of input.groups()) {
      notes.push(...group.notes);
      for await (const r of inferSequences(runner, group.records, {
        tokenBudget: req.tokenBudget,
        window: req.window,
        overlap: req.overlap,
        signal: ctx.signal,
        onProgress: (p) => {
          const dt = (performance.now() - t0) / 1000;
          ctx.progress({ phase: 'inference', done: sequences + p.done, total, rate: dt > 0 ? (residues + p.residues) / dt : 0, rateUnit: 'tokens/s' });
        },
      })) {
        for (const t of r.tensors) await spool.add(`${r.id}/${t.name}`, 'F32', t.shape, t.data);
        tensors += r.tensors.length;
        if (r.windows) {
          metadata[`${r.id}/long_sequence`] = JSON.stringify(r.windows);
          longSequences.push(r.id);
        }
      }
      sequences += group.records.length;
      residues += group.records.reduce((a, r) => a + r.sequence.length, 0);
    }
    if (ctx.signal.aborted) throw new DOMException('inference cancelled', 'AbortError');
    ctx.progress({ phase: 'writing', done: total, total });
    await spool.finish(metadata);
  } catch (e) {
    await spool.abort();
    throw e;
  }
  return {
    out: req.out,
    sequences,
    residues,
    tensors,
    provider: runner.session.report.provider,
    seconds: (performance.now() - t0) / 1000,
    notes,
    longSequences,
  };
}
