// Prompt tuning (Lester et al. 2021; PEFT-SP): P soft tokens placed before <cls>, their
// positions dropped before the task head. Shallow: inserted at the embeddings (or, with top-k,
// at the first tuned block, so the blocks below stay those of the base model and reusable).
// Deep (P-tuning v2 style): every tuned block gets its own P vectors in place of the previous
// block's outputs at the prompt positions. Initialised from the embeddings of random residues.

import type { Esm2Config } from '../esm2/config.js';
import { END, ops } from '../graph/index.js';
import { type PeftMethod, type TrainableSpec, blocksFor, option } from './method.js';

const RESIDUE_IDS = Array.from({ length: 20 }, (_, i) => 4 + i); // L A G V S E R T I D P K Q N F Y M H W C

export function prompt(cfg: Esm2Config, o: Record<string, unknown> = {}): PeftMethod {
  const P = option('prompt', o, 'tokens', 20);
  const deep = option('prompt', o, 'deep', false);
  const blocks = blocksFor(cfg, o.topK as number | undefined);
  if (blocks.length === 0) throw new Error('prompt: --top-k 0 leaves no block for the prompt');
  const at = blocks[0];
  const D = cfg.hiddenSize;
  const fromVocab = (w: import('../esm2/forward.js').WeightSource, random: () => number) => {
    const E = w.read('embeddings.word_embeddings.weight');
    const out = new Float32Array(P * D);
    for (let i = 0; i < P; i++) {
      const id = RESIDUE_IDS[Math.floor(random() * RESIDUE_IDS.length)];
      out.set(E.subarray(id * D, (id + 1) * D), i * D);
    }
    return out;
  };
  const params: TrainableSpec[] = [{ name: 'prompt.embeddings', shape: [P, D], init: { kind: 'computed', compute: fromVocab } }];
  if (deep) for (const l of blocks.slice(1)) params.push({ name: `prompt.${l}`, shape: [P, D], init: { kind: 'normal', std: 0.02 } });
  return {
    name: 'prompt',
    options: { tokens: P, deep, topK: o.topK ?? cfg.numLayers },
    params,
    lowestBlock: at,
    hooks: (ctx) => ({
      prompt: () => ({ tokens: ctx.param('prompt.embeddings'), atLayer: at }),
      layerInput(layer, x) {
        if (!deep || layer <= at || !blocks.includes(layer)) return x;
        const rest = ops.slice(x, [P], [END], [1]);
        return ops.concat([ops.expand(ops.unsqueeze(ctx.param(`prompt.${layer}`), [0]), ['B', P, D]), rest], 1);
      },
    }),
  };
}
