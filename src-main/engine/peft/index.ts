// The PEFT methods by name.
import type { Esm2Config } from '../esm2/config.js';
import type { WeightSource } from '../esm2/forward.js';
import { adapter } from './adapter.js';
import { dora } from './dora.js';
import { full } from './full.js';
import { ia3 } from './ia3.js';
import { lora } from './lora.js';
import type { PeftMethod } from './method.js';
import { prefix } from './prefix.js';
import { probe } from './probe.js';
import { prompt } from './prompt.js';

export const METHOD_NAMES = ['lora', 'dora', 'ia3', 'adapter', 'prompt', 'prefix', 'probe', 'full'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

export function createMethod(name: string, cfg: Esm2Config, options: Record<string, unknown>, weights: WeightSource, weightNames: readonly string[]): PeftMethod {
  switch (name as MethodName) {
    case 'lora': return lora(cfg, options);
    case 'dora': return dora(cfg, options);
    case 'ia3': return ia3(cfg, options);
    case 'adapter': return adapter(cfg, options);
    case 'prompt': return prompt(cfg, options);
    case 'prefix': return prefix(cfg, options);
    case 'probe': return probe(cfg);
    case 'full': return full(cfg, options, weights, weightNames);
    default: throw new Error(`unknown method '${name}' (choose from ${METHOD_NAMES.join(', ')})`);
  }
}

export * from './method.js';
