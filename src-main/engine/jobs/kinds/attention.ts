// `attention`: attention maps [L, H, T, T] (T = length + 2, with <cls> and <eos>) and the contact
// map of one sequence, from a model (the graph `plmw infer --emit attentions,contacts` runs) or
// from a run: the same backbone with the run's PEFT method applied with its best checkpoint, so
// the base model and a fine-tuned one can be compared. Attentions are sent quantised to one byte
// per value, scaled per head (value = byte / 255 * scale[l, h]): they are for looking at;
// contacts go as float32.
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { AttentionRequest, AttentionResult } from '../../../api/contract.js';
import type { JobContext } from '../../../api/job-kinds.js';
import { parseFasta } from '../../data/fasta.js';
import { buildEsm2 } from '../../esm2/forward.js';
import { Esm2Runner } from '../../esm2/infer.js';
import { loadModel } from '../../esm2/model.js';
import { Graph, serialize } from '../../graph/index.js';
import { createSession } from '../../runtime/index.js';
import { openRun } from '../../train/predictor.js';
import { hookContext } from '../../train/task-graph.js';
import { resolveModelArg } from '../infer-job.js';
import { resolveRunsRoot } from './common.js';

export function quantiseAttentions(data: Float32Array, L: number, H: number, T: number): { scale: number[]; bytes: Uint8Array } {
  const n = T * T;
  const scale: number[] = [];
  const bytes = new Uint8Array(L * H * n);
  for (let lh = 0; lh < L * H; lh++) {
    let max = 0;
    for (let i = lh * n; i < (lh + 1) * n; i++) if (data[i] > max) max = data[i];
    scale.push(max);
    if (max > 0) for (let i = lh * n; i < (lh + 1) * n; i++) bytes[i] = Math.round((255 * Math.max(0, data[i])) / max);
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
  let attn: Float32Array;
  let contacts: Float32Array;
  let L: number;
  let H: number;
  let provider: string;
  let source: AttentionResult['source'];
  if (req.model !== undefined) {
    const dir = resolveModelArg(req.model, ctx.home);
    const model = await loadModel(dir);
    const runner = await Esm2Runner.create(model, ['attentions', 'contacts']);
    try {
      ctx.progress({ phase: 'inference', done: 0, total: 1 });
      const batch = await runner.runBatch([seq]);
      const out = runner.unpad(batch, 0, n);
      const a = out.find((t) => t.name === 'attentions')!;
      [L, H] = a.shape;
      attn = a.data;
      contacts = out.find((t) => t.name === 'contacts')!.data;
      provider = runner.session.report.provider;
    } finally {
      await runner.release();
    }
    source = { kind: 'model', model: model.config.name ?? path.basename(dir) };
  } else {
    const runDir = path.join(resolveRunsRoot(req.root, ctx.home), req.run!);
    const run = await openRun(runDir);
    const { model, method } = run;
    const g = new Graph('attention-of-run');
    const { ctx: hctx, tensors: used } = hookContext(g, model.config, method.params, { dtype: 'float32', training: false });
    const esm = buildEsm2(g, model.config, model.source, { hooks: method.hooks(hctx), outputs: { attentions: true, contacts: true } });
    const m = serialize(g, { outputs: { attentions: esm.attentions!, contacts: esm.contacts! } });
    const session = await createSession(m.model, { weightsDir: model.weightsDir });
    try {
      ctx.progress({ phase: 'inference', done: 0, total: 1 });
      const enc = model.tokenizer.encodeBatch([seq], 'int64');
      const feeds: Record<string, ort.Tensor> = { tokens: new ort.Tensor('int64', enc.ids, [1, enc.maxLen]) };
      for (const [name] of used) {
        const t = run.params.get(name);
        if (!t) throw new Error(`${runDir}: the checkpoint has no tensor '${name}'`);
        feeds[`param.${name}`] = new ort.Tensor('float32', t.data, t.shape);
      }
      const out = await session.run(feeds);
      const dims = out.attentions.dims as number[];
      [, L, H] = dims;
      attn = (out.attentions.data as Float32Array).slice();
      contacts = (out.contacts.data as Float32Array).slice();
      provider = session.report.provider;
    } finally {
      await session.release();
    }
    source = { kind: 'run', model: model.config.name ?? path.basename(model.dir), run: req.run, method: method.name };
  }
  const T = n + 2;
  if (attn.length !== L * H * T * T) throw new Error(`attention: ${attn.length} values, expected ${L}x${H}x${T}x${T}`);
  if (contacts.length !== n * n) throw new Error(`contacts: ${contacts.length} values, expected ${n}x${n}`);
  const q = quantiseAttentions(attn, L, H, T);
  return {
    id: req.sequence.id, sequence: seq, source, layers: L, heads: H, tokens: ['<cls>', ...seq, '<eos>'],
    attentions: { shape: [L, H, T, T], scale: q.scale, base64: b64(q.bytes) },
    contacts: { shape: [n, n], base64: b64(contacts) }, provider,
  };
}
