// Gradients of every PEFT method's trainable tensors against central finite differences on the
// tiny fixture model (float64 verification mode), and LoRA against the fixture's reference
// gradients computed by fair-esm + PyTorch autograd.
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildEsm2 } from '../../src-main/engine/esm2/forward.js';
import { type LoadedModel, loadModel } from '../../src-main/engine/esm2/model.js';
import { readSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { Graph, evalDim, gradients, ops, serialize } from '../../src-main/engine/graph/index.js';
import { createMethod } from '../../src-main/engine/peft/index.js';
import { linearHead } from '../../src-main/engine/train/head.js';
import { buildTaskGraph } from '../../src-main/engine/train/task-graph.js';
import { rng } from '../helpers/gradcheck.js';
import { fixtureModel } from '../helpers/paths.js';

ort.env.logLevel = 'fatal';
const model: LoadedModel = await loadModel(fixtureModel('tiny'));

describe('LoRA against the fixture reference gradients', () => {
  it('matches loss and the A and B gradients of every layer to 1e-4 relative', async () => {
    const ref = readSafetensors(path.join(fixtureModel('tiny'), 'reference.safetensors'));
    const g = new Graph('lora-check');
    const params = new Map<string, ReturnType<typeof g.input>>();
    const r = 4;
    const ctx = {
      param: (name: string) => params.get(name)!,
    };
    const names: string[] = [];
    for (let l = 0; l < model.config.numLayers; l++)
      for (const site of ['query', 'value'])
        for (const part of ['A', 'B']) {
          const t = ref.tensors.get(`lora.layer.${l}.${site}.${part}`)!;
          params.set(`${l}.${site}.${part}`, g.input(`lora.layer.${l}.${site}.${part}`, 'float32', t.shape));
          names.push(`lora.layer.${l}.${site}.${part}`);
        }
    const esm = buildEsm2(g, model.config, model.source, {
      differentiable: true,
      hooks: {
        linear(call) {
          if (call.site !== 'query' && call.site !== 'value') return call.base();
          const A = ctx.param(`${call.layer}.${call.site}.A`);
          const B = ctx.param(`${call.layer}.${call.site}.B`);
          const delta = ops.matmul(ops.matmul(call.x, ops.transpose(A, [1, 0])), ops.transpose(B, [1, 0]));
          return ops.add(call.base(), ops.mul(delta, 8 / r));
        },
      },
    });
    const R = g.input('R', 'float32', ['B', 'T', model.config.hiddenSize]);
    const notPad = ops.unsqueeze(ops.cast(ops.not(esm.padding), 'float32'), [2]);
    const loss = ops.sumAll(ops.mul(ops.mul(esm.final, R), notPad));
    const grads = gradients(loss, names.map((n) => params.get(n.replace('lora.layer.', ''))!));
    const s = await ort.InferenceSession.create(serialize(g, { outputs: { loss, ...Object.fromEntries(names.map((n, i) => [`${n}.grad`, grads[i]])) } }).model, {
      extra: { session: { model_external_initializers_file_folder_path: model.weightsDir } },
    });
    const feeds: Record<string, ort.Tensor> = {};
    const tok = ref.tensors.get('tokens')!;
    feeds.tokens = new ort.Tensor('int64', tok.read() as BigInt64Array, tok.shape);
    const Rt = ref.tensors.get('lora.R')!;
    feeds.R = new ort.Tensor('float32', Rt.toFloat32(), Rt.shape);
    for (const n of names) {
      const t = ref.tensors.get(n)!;
      feeds[n] = new ort.Tensor('float32', t.toFloat32(), t.shape);
    }
    const out = await s.run(feeds);
    const refLoss = ref.tensors.get('lora.loss')!.toFloat32()[0];
    expect(Math.abs(Number(out.loss.data[0]) - refLoss) / Math.abs(refLoss)).toBeLessThanOrEqual(1e-4);
    let worst = 0;
    for (const n of names) {
      const want = ref.tensors.get(`${n}.grad`)!.toFloat32();
      const got = out[`${n}.grad`].data as Float32Array;
      const scale = Math.max(...Array.from(want, Math.abs));
      expect(scale).toBeGreaterThan(0);
      let m = 0;
      for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]));
      worst = Math.max(worst, m / scale);
    }
    console.log(`LoRA reference gradients: worst relative difference ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-4);
  });
});

interface MethodCase {
  label: string;
  method: string;
  options: Record<string, unknown>;
}

const cases: MethodCase[] = [
  { label: 'LoRA on every linear site, with dropout', method: 'lora', options: { r: 2, alpha: 4, dropout: 0.1, targets: ['query', 'key', 'value', 'attn_out', 'ffn_in', 'ffn_out'] } },
  { label: 'DoRA', method: 'dora', options: { r: 2, alpha: 2, targets: ['query', 'ffn_out'] } },
  { label: 'IA3', method: 'ia3', options: {} },
  { label: 'Houlsby adapters', method: 'adapter', options: { variant: 'houlsby', size: 4 } },
  { label: 'Pfeiffer adapter, tanh, top 1 block', method: 'adapter', options: { variant: 'pfeiffer', size: 4, activation: 'tanh', topK: 1 } },
  { label: 'parallel adapter', method: 'adapter', options: { variant: 'parallel', size: 4, scale: 2 } },
  { label: 'prompt tuning', method: 'prompt', options: { tokens: 3 } },
  { label: 'deep prompt tuning in the top block', method: 'prompt', options: { tokens: 2, deep: true, topK: 2 } },
  { label: 'prefix tuning', method: 'prefix', options: { tokens: 3 } },
  { label: 'frozen-feature probe', method: 'probe', options: {} },
  { label: 'full fine-tuning of the top block', method: 'full', options: { topK: 1 } },
];

describe('every method against central finite differences (float64)', () => {
  for (const c of cases) {
    it(c.label, async () => {
      const method = createMethod(c.method, model.config, c.options, model.source, [...model.weights.tensors.keys()]);
      const head = linearHead(3, model.config.hiddenSize);
      const tg = buildTaskGraph(model, method, head, { training: true, precision: 'float64' });
      const s = await ort.InferenceSession.create(tg.model);
      const r = rng(17);
      const seqs = ['MKTAYIAKQRQISFVKSH', 'MAGVL'];
      const enc = model.tokenizer.encodeBatch(seqs, 'int64');
      const T = enc.maxLen;
      const feeds: Record<string, ort.Tensor> = { tokens: new ort.Tensor('int64', enc.ids, [2, T]) };
      Object.assign(feeds, head.labelFeeds({ labels: seqs.map((q) => Int32Array.from(q, () => Math.floor(r() * 3))) }, T, 'float64'));
      const values = new Map<string, Float64Array>();
      for (const p of tg.params) {
        const n = p.shape.reduce((a, b) => a * b, 1);
        // random values everywhere (zero-initialised tensors would hide gradients of their partners)
        const base = p.init.kind === 'computed' ? Float64Array.from(p.init.compute(model.source, r)) : new Float64Array(n);
        values.set(p.name, base.map((v) => v + 0.3 * (2 * r() - 1)));
      }
      const maskFeeds = Object.fromEntries(
        tg.masks.map((m) => {
          const shape = m.shape.map((d) => evalDim(d, { B: 2, T }));
          const n = shape.reduce((a, b) => a * b, 1);
          return [`mask.${m.name}`, new ort.Tensor('float64', Float64Array.from({ length: n }, () => (r() < m.p ? 0 : 1 / (1 - m.p))), shape)];
        }),
      );
      const run = async (vals: Map<string, Float64Array>) =>
        s.run({ ...feeds, ...maskFeeds, ...Object.fromEntries(tg.params.map((p) => [`param.${p.name}`, new ort.Tensor('float64', vals.get(p.name)!, p.shape)])) });
      const base = await run(values);
      const h = 1e-5;
      let worst = 0;
      let where = '';
      let checked = 0;
      for (const p of tg.params) {
        const v = values.get(p.name)!;
        const grad = base[`grad.${p.name}`].data as Float64Array;
        const picks = v.length <= 6 ? [...v.keys()] : Array.from({ length: 4 }, () => Math.floor(r() * v.length));
        for (const j of picks) {
          const plus = new Map(values);
          const minus = new Map(values);
          plus.set(p.name, Float64Array.from(v, (x, i) => (i === j ? x + h : x)));
          minus.set(p.name, Float64Array.from(v, (x, i) => (i === j ? x - h : x)));
          const fd = (Number((await run(plus)).loss.data[0]) - Number((await run(minus)).loss.data[0])) / (2 * h);
          const err = Math.abs(grad[j] - fd) / (1e-8 + 1e-5 * Math.max(Math.abs(fd), Math.abs(grad[j])));
          checked++;
          if (err > worst) [worst, where] = [err, `${p.name}[${j}]: analytic ${grad[j]}, finite difference ${fd}`];
        }
      }
      expect(checked).toBeGreaterThan(0);
      expect(worst, where).toBeLessThanOrEqual(1);
    });
  }
});
