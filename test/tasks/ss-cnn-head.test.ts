// The CNN head for secondary structure: batch invariance (its convolution sees residues only),
// the task names it gets, and gradients of its tensors against finite differences.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src-main/engine/esm2/model.js';
import { createMethod } from '../../src-main/engine/peft/index.js';
import { cnnHead } from '../../src-main/engine/tasks/secondary-structure/cnn-head.js';
import { ssTask } from '../../src-main/engine/tasks/secondary-structure/task.js';
import { taskFor } from '../../src-main/engine/train/predictor.js';
import { buildTaskGraph } from '../../src-main/engine/train/task-graph.js';
import { rng } from '../helpers/gradcheck.js';
import { fixtureModel } from '../helpers/paths.js';

ort.env.logLevel = 'fatal';
const model = await loadModel(fixtureModel('tiny'));

async function session(training: boolean) {
  const method = createMethod('probe', model.config, {}, model.source, []);
  const head = cnnHead(8, model.config.hiddenSize, { kernel: 5, channels: 6 });
  const tg = buildTaskGraph(model, method, head, { training });
  const s = await ort.InferenceSession.create(tg.model, { extra: { session: { model_external_initializers_file_folder_path: model.weightsDir } } });
  const r = rng(5);
  const values = new Map(tg.params.map((p) => [p.name, Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, () => 0.3 * (2 * r() - 1))]));
  const run = (seqs: string[], labels: Int32Array[], vals = values) => {
    const enc = model.tokenizer.encodeBatch(seqs, 'int64');
    return s.run({
      tokens: new ort.Tensor('int64', enc.ids, [seqs.length, enc.maxLen]),
      ...head.labelFeeds({ labels }, enc.maxLen, 'float32'),
      ...Object.fromEntries(tg.params.map((p) => [`param.${p.name}`, new ort.Tensor('float32', vals.get(p.name)!, p.shape)])),
    });
  };
  return { tg, run, values };
}

describe('CNN head', () => {
  it('gives a sequence the same probabilities alone and inside a padded batch', async () => {
    const { run } = await session(false);
    const a = 'MKTAYIAKQRQISFVKSHFSRQ';
    const b = 'MAGVLK';
    const lab = (s: string) => new Int32Array(s.length).fill(-1);
    const alone = await run([b], [lab(b)]);
    const both = await run([a, b], [lab(a), lab(b)]);
    const T1 = b.length + 2;
    const T2 = a.length + 2;
    const p1 = alone.probs.data as Float32Array;
    const p2 = both.probs.data as Float32Array;
    let worst = 0;
    for (let t = 1; t <= b.length; t++) for (let c = 0; c < 8; c++) worst = Math.max(worst, Math.abs(p1[t * 8 + c] - p2[(T2 + t) * 8 + c]));
    expect(T1).toBe(8);
    expect(worst).toBeLessThan(1e-5);
  });

  it('gets gradients for its convolution and linear tensors that match finite differences', async () => {
    const { tg, run, values } = await session(true);
    const seqs = ['MKTAYIAKQRQISF', 'MAGVLKE'];
    const r = rng(2);
    const labels = seqs.map((s) => Int32Array.from(s, () => Math.floor(r() * 8)));
    const base = await run(seqs, labels);
    const h = 1e-2;
    let worst = 0;
    let where = '';
    for (const p of tg.params) {
      const v = values.get(p.name)!;
      const grad = base[`grad.${p.name}`].data as Float32Array;
      for (let k = 0; k < 4; k++) {
        const j = Math.floor(r() * v.length);
        const at = async (d: number) => {
          const vals = new Map(values);
          vals.set(p.name, Float32Array.from(v, (x, i) => (i === j ? x + d : x)));
          return Number((await run(seqs, labels, vals)).loss.data[0]);
        };
        const fd = ((await at(h)) - (await at(-h))) / (2 * h);
        const err = Math.abs(grad[j] - fd) / (2e-4 + 2e-2 * Math.max(Math.abs(fd), Math.abs(grad[j])));
        if (err > worst) [worst, where] = [err, `${p.name}[${j}]: analytic ${grad[j]}, finite difference ${fd}`];
      }
    }
    expect(worst, where).toBeLessThanOrEqual(1);
  });

  it('is selected by task name and rebuilt from a run record', () => {
    expect(ssTask('ss8', { head: 'cnn' }).name).toBe('ss-ss8-cnn');
    expect(ssTask('ss3').name).toBe('ss-ss3');
    const head = taskFor('ss-ss3-cnn', { classes: 3, kernel: 7, channels: 12 }).head(model.config);
    expect(head.name).toBe('cnn');
    expect(head.params.map((p) => [p.name, p.shape])).toEqual([
      ['head.conv.weight', [12, 64, 7]], ['head.conv.bias', [12]], ['head.weight', [3, 12]], ['head.bias', [3]],
    ]);
    expect(() => cnnHead(8, 64, { kernel: 4 })).toThrow(/odd/);
  });
});
