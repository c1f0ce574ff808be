// `plmw bench`: inference and training throughput on a model (by default the t6-shape fixture,
// the esm2_t6_8M shape), as ratios to the PyTorch 1.13 CPU reference measured on this class of
// machine (2 threads, fp32; see the README). Random sequences and labels: speed does not depend
// on the weights' values.

import { createScratchDir } from './atomic.js';
import { tmpdir } from 'node:os';
import * as ort from 'onnxruntime-node';
import { Esm2Runner } from './esm2/infer.js';
import { loadModel } from './esm2/model.js';
import type { ProviderName } from './runtime/index.js';
import { ssTask } from './tasks/secondary-structure/task.js';
import { stream } from './train/rng.js';
import { type LabelledSequence, TRAINER_DEFAULTS, train } from './train/trainer.js';

export const PYTORCH_REFERENCE = {
  inference: { '64x70': 3050, '8x256': 2180, '1x1000': 906 } as Record<string, number>,
  training: { all: 10.5, top2: 18.2 },
};

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  reference: number;
  ratio: number;
}

const AA = 'LAGVSERTIDPKQNFYMHWC';
function randomSequences(n: number, len: number, seed: number): string[] {
  const r = stream(seed, 'bench');
  return Array.from({ length: n }, () => Array.from({ length: len }, () => AA[Math.floor(r() * 20)]).join(''));
}

export async function benchInference(modelDir: string, o: { threads?: number; providers?: ProviderName[]; repeats?: number; log?: (s: string) => void }): Promise<BenchResult[]> {
  const model = loadModel(modelDir);
  const runner = await Esm2Runner.create(model, ['logits'], { threads: o.threads, providers: o.providers });
  const out: BenchResult[] = [];
  for (const [B, L] of [[64, 70], [8, 256], [1, 1000]]) {
    const seqs = randomSequences(B, L, L);
    const enc = model.tokenizer.encodeBatch(seqs, 'int64');
    const feeds = { tokens: new ort.Tensor('int64', enc.ids, [B, enc.maxLen]) };
    await runner.session.run(feeds); // warm-up
    const n = o.repeats ?? 5;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await runner.session.run(feeds);
    const rate = (B * L * n) / ((performance.now() - t0) / 1000);
    const ref = PYTORCH_REFERENCE.inference[`${B}x${L}`];
    out.push({ name: `inference ${B} x ${L}`, value: rate, unit: 'residues/s', reference: ref, ratio: rate / ref });
    o.log?.(`inference ${B} x ${L}: ${rate.toFixed(0)} residues/s (${(rate / ref).toFixed(2)}x PyTorch ${ref})`);
  }
  await runner.release();
  return out;
}

/** LoRA r=8 on q,k,v,o + linear head, AdamW, batch 16 x 70: all blocks, and the top 2 with frozen outputs reused (epochs after the first). */
export async function benchTraining(modelDir: string, o: { threads?: number; providers?: ProviderName[]; sequences?: number; log?: (s: string) => void }): Promise<BenchResult[]> {
  const n = o.sequences ?? 96;
  const r = stream(7, 'bench-labels');
  const seqs = randomSequences(n, 70, 70);
  const data: LabelledSequence[] = seqs.map((s, i) => ({ id: `b${i}`, sequence: s, labels: Int32Array.from(s, () => Math.floor(r() * 8)) }));
  const out: BenchResult[] = [];
  for (const [label, topK, ref] of [['all blocks', undefined, PYTORCH_REFERENCE.training.all], ['top 2 blocks, reuse', 2, PYTORCH_REFERENCE.training.top2]] as const) {
    const scratch = createScratchDir(tmpdir(), 'plmw-bench');
    const dir = scratch.path;
    try {
      let rate = 0;
      await train(dir, {
        ...TRAINER_DEFAULTS, model: modelDir, task: 'ss-ss8', method: 'lora',
        methodOptions: { r: 8, alpha: 8, dropout: 0.1, targets: ['query', 'key', 'value', 'attn_out'], ...(topK ? { topK } : {}) },
        epochs: 2, batchSize: 16, patience: 0, threads: o.threads, providers: o.providers,
      }, ssTask('ss8'), { train: data, val: data.slice(0, 16) }, {
        onMetrics: (row) => {
          if (row.split === 'train' && row.epoch === 1) rate = Number(row.sequences_per_s);
        },
      });
      out.push({ name: `training LoRA 16 x 70, ${label}`, value: rate, unit: 'sequences/s', reference: ref, ratio: rate / ref });
      o.log?.(`training LoRA r=8 q,k,v,o 16 x 70, ${label}: ${rate.toFixed(1)} sequences/s (${(rate / ref).toFixed(2)}x PyTorch ${ref})`);
    } finally {
      scratch.remove();
    }
  }
  return out;
}
