// The attention view graph (one head's map, every head's maximum and thumbnail, contacts summed
// layer by layer) against the stacked maps and the contact head of the full forward graph, on
// the tiny fixture, with and without PEFT methods that change which positions exist (prompt and
// prefix tuning) or the weights (LoRA). And its memory on a long sequence of the t6 shape.
import { spawnSync } from 'node:child_process';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildAttentionView, poolingMatrix, unpackAttentionView } from '../../src-main/engine/esm2/attention-view.js';
import { buildEsm2 } from '../../src-main/engine/esm2/forward.js';
import { loadModel } from '../../src-main/engine/esm2/model.js';
import { Graph, serialize } from '../../src-main/engine/graph/index.js';
import { createMethod } from '../../src-main/engine/peft/index.js';
import { hookContext } from '../../src-main/engine/train/task-graph.js';
import { rng } from '../helpers/gradcheck.js';
import { REPO, fixtureModel } from '../helpers/paths.js';

ort.env.logLevel = 'fatal';
const model = await loadModel(fixtureModel('tiny'));
const { numLayers: L, numHeads: H } = model.config;
const tok = model.tokenizer;

/** Runs one graph over the sequence with the method's parameters set to `values`. */
async function runGraph(build: (g: Graph, hooks: ReturnType<typeof hooksOf>['hooks']) => Record<string, ReturnType<Graph['input']>>, method: string | null, values: Map<string, Float32Array>, seq: string, extra: Record<string, ort.Tensor> = {}) {
  const g = new Graph('t');
  const h = hooksOf(g, method);
  const outputs = build(g, h.hooks);
  const s = await ort.InferenceSession.create(serialize(g, { outputs }).model, { extra: { session: { model_external_initializers_file_folder_path: model.weightsDir } } });
  const enc = tok.encodeBatch([seq], 'int64');
  const feeds: Record<string, ort.Tensor> = { tokens: new ort.Tensor('int64', enc.ids, [1, enc.maxLen]), ...extra };
  for (const name of h.used()) {
    const p = h.params.find((x) => x.name === name)!;
    feeds[`param.${name}`] = new ort.Tensor('float32', values.get(name)!, p.shape);
  }
  for (const k of Object.keys(feeds)) if (!s.inputNames.includes(k)) delete feeds[k];
  const out = await s.run(feeds);
  await s.release();
  return out;
}

const METHOD_OPTIONS: Record<string, Record<string, unknown>> = { prompt: { tokens: 3 }, prefix: { tokens: 2 }, lora: { r: 2, targets: ['query', 'value'] } };
function hooksOf(g: Graph, method: string | null) {
  if (!method) return { hooks: undefined, used: () => [] as string[], params: [] as { name: string; shape: number[] }[] };
  const m = createMethod(method, model.config, METHOD_OPTIONS[method], model.source, [...model.weights.tensors.keys()]);
  const h = hookContext(g, model.config, m.params, { dtype: 'float32', training: false });
  return { hooks: m.hooks(h.ctx), used: () => [...h.tensors.keys()], params: m.params as { name: string; shape: number[] }[] };
}

function randomValues(method: string | null): Map<string, Float32Array> {
  const values = new Map<string, Float32Array>();
  if (!method) return values;
  const m = createMethod(method, model.config, METHOD_OPTIONS[method], model.source, [...model.weights.tensors.keys()]);
  const r = rng(5);
  for (const p of m.params) values.set(p.name, Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, () => 0.5 * (2 * r() - 1)));
  return values;
}

describe('attention view', () => {
  const seq = 'MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ';
  const T = seq.length + 2;
  // headGroup 3 of the tiny model's 4 heads: groups of 3 and 1, the chosen head in the second
  for (const [method, headGroup] of [[null, undefined], ['prompt', undefined], ['prefix', undefined], ['lora', undefined], [null, 3], ['prefix', 3], ['lora', 1]] as const) {
    it(`agrees with the stacked maps and the contact head ${method ? `(${method})` : '(base model)'}${headGroup ? `, ${headGroup} head(s) at a time` : ''}`, async () => {
      const values = randomValues(method);
      const ref = await runGraph((g, hooks) => {
        const r = buildEsm2(g, model.config, model.source, { hooks, outputs: { attentions: true, contacts: true } });
        return { attentions: r.attentions!, contacts: r.contacts! };
      }, method, values, seq);
      const attn = ref.attentions.data as Float32Array;
      const S = 8;
      const [layer, head] = [1, headGroup === 3 ? 3 : 2];
      const got = await runGraph((g, hooks) => ({ view: buildAttentionView(g, model.config, model.source, S, { layer, head, special: { cls: tok.clsId, eos: tok.eosId, pad: tok.padId }, hooks, headGroup }).view }), method, values, seq, {
        pool: new ort.Tensor('float32', poolingMatrix(T, S), [S, T]),
      });
      const bias = model.source.read('contact_head.regression.bias')[0];
      const v = unpackAttentionView(got.view.data as Float32Array, model.config, T, S, { layer, head, bias, headGroup });
      const at = (lh: number, i: number, j: number) => attn[(lh * T + i) * T + j];
      for (let i = 0; i < T * T; i++) expect(Math.abs(v.map[i] - at(layer * H + head, Math.floor(i / T), i % T))).toBeLessThan(1e-6);
      for (let lh = 0; lh < L * H; lh++) {
        let max = 0;
        for (let i = 0; i < T * T; i++) max = Math.max(max, attn[lh * T * T + i]);
        expect(Math.abs(v.headMax[lh] - max)).toBeLessThan(1e-6);
        for (let si = 0; si < S; si++)
          for (let sj = 0; sj < S; sj++) {
            const [i0, i1, j0, j1] = [Math.floor((si * T) / S), Math.floor(((si + 1) * T) / S), Math.floor((sj * T) / S), Math.floor(((sj + 1) * T) / S)];
            let sum = 0;
            for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) sum += at(lh, i, j);
            expect(Math.abs(v.thumbnails[(lh * S + si) * S + sj] - sum / ((i1 - i0) * (j1 - j0)))).toBeLessThan(1e-6);
          }
      }
      const contacts = ref.contacts.data as Float32Array;
      let worst = 0;
      for (let i = 0; i < contacts.length; i++) worst = Math.max(worst, Math.abs(v.contacts[i] - contacts[i]));
      expect(worst).toBeLessThan(1e-5);
    });
  }

  it('holds one group of heads\' attention at a time: 2,000 residues on the t6 shape in under 1 GB', () => {
    // Child process, so that its peak RSS is the job's own. The stacked maps of the former job
    // needed 14 GB here (and its result could not even be encoded); computed all heads at once
    // with the mask added, one layer took 1.06-1.14 GB.
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/run-attention-job.ts', fixtureModel('t6-shape'), '2000', '5', '19'], { cwd: REPO, encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as { seconds: number; maxRssBytes: number; resultBytes: number; T: number };
    console.log(`attention job, 2,000 residues, t6 shape: ${m.seconds.toFixed(1)} s, peak RSS ${(m.maxRssBytes / 1e9).toFixed(2)} GB, result ${(m.resultBytes / 1e6).toFixed(1)} MB`);
    expect(m.T).toBe(2002);
    expect(m.maxRssBytes).toBeLessThan(1e9);
    expect(m.resultBytes).toBeLessThan(40e6);
  });
});
