// `train.estimate`: what a training run will cost before it starts. Parameter counts come from
// the trainer's own `prepare` (the numbers run.json will record); memory from the trainer's
// accounting (train/memory-estimate.ts), checked against measured peaks.
import type { TrainEstimate, TrainEstimateRequest } from '../../../api/contract.js';
import type { JobContext } from '../../../api/job-kinds.js';
import { loadModel } from '../../esm2/model.js';
import { esm2ParameterCount } from '../../esm2/weights.js';
import { parameterCount } from '../../peft/method.js';
import { estimateTrainingMemory } from '../../train/memory-estimate.js';
import { TRAINER_DEFAULTS, prepare } from '../../train/trainer.js';
import { resolveModelArg } from '../infer-job.js';
import { loadLabelled, methodOptionsOf, taskOf } from './common.js';

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
  const memory = estimateTrainingMemory({
    config: c, tensors: model.weights.tensors, lowestBlock: method.lowestBlock, reuse: TRAINER_DEFAULTS.reuse, batchSize, tokens: T,
    trainable, lengths, featureCacheLimit: TRAINER_DEFAULTS.featureCacheBytes,
  });
  return {
    method: method.name, methodOptions: method.options, trainable, methodParams, headParams, total, trainableFraction: trainable / total,
    lowestBlock: method.lowestBlock, layers: c.numLayers,
    memory,
    batchSize, maxLength, ...(lengths ? { sequences: lengths.length } : {}),
  };
}
