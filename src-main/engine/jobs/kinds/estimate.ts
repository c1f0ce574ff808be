// `train.estimate`: what a training run will cost before it starts. Parameter counts come from
// the trainer's own `prepare` (the numbers run.json will record); memory is an estimate:
//   weights      model.safetensors, held in memory for onnxruntime
//   optimizer    4 float32 copies of the trainable tensors (values, gradients, AdamW's m and v)
//   activations  per trained block, what the backward pass keeps for one batch B x T (T = longest
//                sequence + 2, + prompt tokens): about 10 d + 2 ffn + 2 H T floats per token
//                (LayerNorm, q, k, v, context, residuals, FFN before/after GELU, attention
//                scores and probabilities), plus the head's d + C per token
//   features     with frozen blocks below the method, their outputs ([len+2, d] float32 per
//                sequence) are kept for reuse up to the cache limit (then spilled to disk)
import { statSync } from 'node:fs';
import path from 'node:path';
import type { TrainEstimate, TrainEstimateRequest } from '../../../api/contract.js';
import type { JobContext } from '../../../api/job-kinds.js';
import { loadModel } from '../../esm2/model.js';
import { esm2ParameterCount } from '../../esm2/weights.js';
import { parameterCount } from '../../peft/method.js';
import { TRAINER_DEFAULTS, prepare } from '../../train/trainer.js';
import { resolveModelArg } from '../infer-job.js';
import { loadLabelled, methodOptionsOf, taskOf } from './common.js';

export const ESTIMATE_FORMULA =
  'weights (checkpoint bytes) + 16 bytes per trainable parameter (value, gradient, 2 optimizer moments) + ' +
  'activations of one batch in each trained block: B x T x (10 d + 2 ffn + 2 H T) x 4 bytes, plus the head ' +
  '+ reused frozen-block outputs ((len + 2) x d x 4 bytes per sequence, at most the 2 GiB cache)';

export async function runEstimateJob(req: TrainEstimateRequest, ctx: JobContext): Promise<TrainEstimate> {
  ctx.progress({ phase: 'loading model', done: 0, total: 1 });
  const dir = resolveModelArg(req.model, ctx.home);
  const model = await loadModel(dir);
  const task = taskOf(req);
  const methodOptions = methodOptionsOf(req);
  const batchSize = req.batchSize ?? TRAINER_DEFAULTS.batchSize;
  const { method, head, params } = prepare({ ...TRAINER_DEFAULTS, model: dir, task: task.name, method: req.method, methodOptions }, task, model);
  let maxLength = req.maxLength ?? 512;
  let lengths: number[] | undefined;
  if (req.train) {
    const data = await loadLabelled(req.train, 'train', req);
    lengths = data.items.map((s) => s.sequence.length);
    maxLength = Math.max(...lengths);
  }
  const c = model.config;
  const trainable = parameterCount(params);
  const methodParams = parameterCount(method.params);
  const headParams = parameterCount(head.params);
  const total = esm2ParameterCount(c) + headParams + (method.name === 'full' ? 0 : methodParams);
  const tokens = Number(method.options.tokens ?? 0);
  const T = maxLength + 2 + (method.name === 'prompt' ? tokens : 0);
  const trainedBlocks = c.numLayers - Math.min(method.lowestBlock, c.numLayers);
  const perToken = 10 * c.hiddenSize + 2 * c.intermediateSize + 2 * c.numHeads * T;
  const activationBytes = batchSize * T * (trainedBlocks * perToken + c.hiddenSize + head.numClasses) * 4;
  const cached = method.lowestBlock > 0 && lengths ? lengths.reduce((a, n) => a + (n + 2) * c.hiddenSize * 4, 0) : 0;
  const featureCacheBytes = Math.min(cached, TRAINER_DEFAULTS.featureCacheBytes);
  const weightsBytes = statSync(path.join(dir, 'model.safetensors')).size;
  const optimizerBytes = trainable * 16;
  return {
    method: method.name, methodOptions: method.options, trainable, methodParams, headParams, total, trainableFraction: trainable / total,
    lowestBlock: method.lowestBlock, layers: c.numLayers,
    memory: { weightsBytes, optimizerBytes, activationBytes, featureCacheBytes, totalBytes: weightsBytes + optimizerBytes + activationBytes + featureCacheBytes, formula: ESTIMATE_FORMULA },
    batchSize, maxLength, ...(lengths ? { sequences: lengths.length } : {}),
  };
}
