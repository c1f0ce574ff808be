// `attention`: what the attention view shows for one sequence, from a model or from a run (the
// same backbone with the run's PEFT method applied with its best checkpoint, so the base model
// and a fine-tuned one can be compared): one chosen layer x head map [T, T] (T = length + 2,
// with <cls> and <eos>), each head's maximum and thumbnail, and the contact map. The graph
// computes only these (esm2/attention-view.ts), so memory stays at one layer's attention; a
// different head is another job. Maps go quantised to one byte per value (value = byte / 255
// x scale): they are for looking at; contacts go as float32.
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { AttentionRequest, AttentionResult } from '../../../api/contract.js';
import { ApiError } from '../../../api/errors.js';
import type { JobContext } from '../../../api/job-kinds.js';
import { parseFasta } from '../../data/fasta.js';
import { THUMBNAIL_MAX, buildAttentionView, headGroupFor, poolingMatrix, unpackAttentionView } from '../../esm2/attention-view.js';
import type { Esm2Hooks } from '../../esm2/forward.js';
import { type LoadedModel, loadModel } from '../../esm2/model.js';
import { Graph, serialize } from '../../graph/index.js';
import { createSession } from '../../runtime/index.js';
import type { TensorMap } from '../../train/checkpoint.js';
import { openRun } from '../../train/predictor.js';
import { hookContext } from '../../train/task-graph.js';
import { resolveModelArg } from '../infer-job.js';
import { resolveRunsRoot } from './common.js';

/** `blocks` equal blocks of `data`, each scaled to bytes by its own maximum (value = byte / 255 x scale[k]). */
export function quantiseBlocks(data: Float32Array, blocks: number): { scale: number[]; bytes: Uint8Array } {
  const n = data.length / blocks;
  const scale: number[] = [];
  const bytes = new Uint8Array(data.length);
  for (let b = 0; b < blocks; b++) {
    let max = 0;
    for (let i = b * n; i < (b + 1) * n; i++) if (data[i] > max) max = data[i];
    scale.push(max);
    if (max > 0) for (let i = b * n; i < (b + 1) * n; i++) bytes[i] = Math.round((255 * Math.max(0, data[i])) / max);
  }
  return { scale, bytes };
}

const b64 = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

export async function runAttentionJob(req: AttentionRequest, ctx: JobContext): Promise<AttentionResult> {
  // The sequence goes through the FASTA policy like every input (case, '*', alphabet).
  const parsed = parseFasta(`>${req.sequence.id}\n${req.sequence.sequence}\n`, { file: '<sequence>' });
  const rejected = parsed.notes.find((n) => n.kind === 'rejected');
  if (rejected || parsed.records.length !== 1) throw new Error(`sequence '${req.sequence.id}': ${rejected?.message ?? 'not a protein sequence'}`);
  const seq = parsed.records[0].sequence;
  const n = seq.length;
  ctx.progress({ phase: 'loading model', done: 0, total: 1 });

  let model: LoadedModel;
  let source: AttentionResult['source'];
  let hooks: ((g: Graph) => { hooks: Esm2Hooks; used: () => string[] }) | undefined;
  let params: TensorMap | undefined;
  if (req.model !== undefined) {
    const dir = resolveModelArg(req.model, ctx.home);
    model = await loadModel(dir);
    source = { kind: 'model', model: model.config.name ?? path.basename(dir) };
  } else {
    const runDir = path.join(resolveRunsRoot(req.root, ctx.home), req.run!);
    const run = await openRun(runDir);
    model = run.model;
    params = run.params;
    hooks = (g) => {
      const h = hookContext(g, run.model.config, run.method.params, { dtype: 'float32', training: false, constants: run.method.constants });
      return { hooks: run.method.hooks(h.ctx), used: () => [...h.tensors.keys()] };
    };
    source = { kind: 'run', model: model.config.name ?? path.basename(model.dir), run: req.run, method: run.method.name };
  }
  const { numLayers: L, numHeads: H } = model.config;
  const layer = req.layer ?? 0;
  const head = req.head ?? 0;
  if (layer >= L) throw new ApiError('bad_request', `layer ${layer}: the model has ${L} layers (0 to ${L - 1})`, 'layer');
  if (head >= H) throw new ApiError('bad_request', `head ${head}: the model has ${H} heads per layer (0 to ${H - 1})`, 'head');

  const T = n + 2;
  const S = Math.min(T, THUMBNAIL_MAX);
  const headGroup = headGroupFor(H, T);
  const g = new Graph('attention-view');
  const peft = hooks?.(g);
  const tok = model.tokenizer;
  const view = buildAttentionView(g, model.config, model.source, S, { layer, head, special: { cls: tok.clsId, eos: tok.eosId, pad: tok.padId }, hooks: peft?.hooks, headGroup });
  const m = serialize(g, { outputs: { view: view.view } });
  const session = await createSession(m.model, { weightsDir: model.weightsDir });
  let out: Record<string, ort.Tensor>;
  try {
    ctx.progress({ phase: 'inference', done: 0, total: 1 });
    const enc = tok.encodeBatch([seq], 'int64');
    const feeds: Record<string, ort.Tensor> = {
      tokens: new ort.Tensor('int64', enc.ids, [1, enc.maxLen]),
      pool: new ort.Tensor('float32', poolingMatrix(T, S), [S, T]),
    };
    for (const name of peft?.used() ?? []) {
      const t = params!.get(name);
      if (!t) throw new Error(`${source.run}: the checkpoint has no tensor '${name}'`);
      feeds[`param.${name}`] = new ort.Tensor('float32', t.data, t.shape);
    }
    out = await session.run(feeds);
  } finally {
    await session.release();
  }
  const bias = model.source.read('contact_head.regression.bias')[0];
  const { map, headMax, thumbnails, contacts } = unpackAttentionView(out.view.data as Float32Array, model.config, T, S, { layer, head, bias, headGroup });
  const q = quantiseBlocks(map, 1);
  const qt = quantiseBlocks(thumbnails, L * H);
  return {
    id: req.sequence.id, sequence: seq, source, layers: L, heads: H, tokens: ['<cls>', ...seq, '<eos>'],
    map: { layer, head, shape: [T, T], scale: q.scale[0], base64: b64(q.bytes) },
    headMax: Array.from(headMax),
    thumbnails: { size: S, scale: qt.scale, base64: b64(qt.bytes) },
    contacts: { shape: [n, n], base64: b64(contacts) }, provider: session.report.provider,
  };
}
