// A run's fine-tuned model for inference (`plmw infer --run`): its PEFT method with the run's
// tensors as graph constants, and its per-residue classifier when the head has one.
//
// The classifier: the head's Linear over the final representations (`head.weight`, `head.bias`),
// i.e. the linear secondary-structure head's logits or the signal-peptide head's CRF emissions
// without the kingdom term (which needs a kingdom per sequence). This is what Hugging Face's
// EsmForTokenClassification returns as `logits` for the exported adapter. A CNN head has no
// such layer; runs with it (and runs without a head) emit the MLM head's logits instead.
import type { Esm2Config } from '../esm2/config.js';
import type { Adaptation } from '../esm2/infer.js';
import { ops } from '../graph/index.js';
import type { PeftMethod } from '../peft/method.js';
import type { TensorMap } from './checkpoint.js';
import type { Head } from './head.js';
import { hookContext } from './task-graph.js';

/** Whether a head's scores are one Linear over the final representations (head.weight, head.bias). */
export const hasLinearClassifier = (head: Pick<Head, 'name'>) => head.name === 'linear' || head.name === 'crf';

export function adaptation(cfg: Esm2Config, method: PeftMethod, head: Pick<Head, 'name'> | null, params: TensorMap): Adaptation {
  const constants = new Map([...(method.constants ?? []), ...params]);
  return {
    hooks: (g) => method.hooks(hookContext(g, cfg, [], { dtype: 'float32', training: false, constants }).ctx),
    classifier:
      head && hasLinearClassifier(head) && params.has('head.weight') && params.has('head.bias')
        ? (g, final) => {
            const w = params.get('head.weight')!;
            const b = params.get('head.bias')!;
            const W = g.initializer('const.head.weight', 'float32', w.shape, { data: w.data });
            const B = g.initializer('const.head.bias', 'float32', b.shape, { data: b.data });
            return ops.add(ops.matmul(final, ops.transpose(W, [1, 0])), B);
          }
        : undefined,
  };
}
