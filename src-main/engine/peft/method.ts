// What every PEFT method provides: its trainable tensors (with their initialisation), the
// forward hooks that use them, and the lowest block it touches (blocks below are frozen and
// their outputs can be computed once and reused).

import type { Esm2Config } from '../esm2/config.js';
import type { Esm2Hooks, WeightSource } from '../esm2/forward.js';
import type { Graph, Tensor } from '../graph/index.js';

export type Init =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'normal'; std: number }
  /** uniform in [-bound, bound] */
  | { kind: 'uniform'; bound: number }
  /** computed from the frozen backbone (e.g. DoRA magnitudes, vocabulary-initialised prompts) */
  | { kind: 'computed'; compute: (weights: WeightSource, random: () => number) => Float32Array };

export interface TrainableSpec {
  name: string;
  shape: number[];
  init: Init;
  /** decoupled weight decay applies (default true; off for norms and magnitudes) */
  decay?: boolean;
}

/** What hooks may ask of the graph being built. */
export interface HookContext {
  graph: Graph;
  cfg: Esm2Config;
  /** the graph tensor of a trainable parameter */
  param(name: string): Tensor;
  /** an inverted-dropout mask input shaped like x ([B, T, n]), values 0 or 1/(1-p); null when not training or p = 0 */
  dropoutMask(name: string, like: Tensor, p: number): Tensor | null;
  /** first block the graph runs (> 0: it starts from reused hidden states of the blocks below) */
  fromLayer: number;
}

export interface PeftMethod {
  /** method id, as in `--method` */
  name: string;
  options: Record<string, unknown>;
  params: TrainableSpec[];
  /** lowest block with trainable parameters or hooks; cfg.numLayers when the backbone is untouched */
  lowestBlock: number;
  hooks(ctx: HookContext): Esm2Hooks;
  /**
   * fixed tensors the hooks read through ctx.param like trainable ones, but which are not
   * trained (a frozen adapter under a new head): graph constants, never inputs
   */
  constants?: ReadonlyMap<string, { shape: number[]; data: Float32Array }>;
}

/** Blocks a method applies to: all, or the top k (the "lightweight" setting). */
export function blocksFor(cfg: Esm2Config, topK?: number): number[] {
  const L = cfg.numLayers;
  const k = topK === undefined ? L : topK;
  if (!Number.isInteger(k) || k < 0 || k > L) throw new Error(`--top-k must be between 0 and ${L}, got ${topK}`);
  return Array.from({ length: k }, (_, i) => L - k + i);
}

export function parameterCount(params: readonly TrainableSpec[]): number {
  return params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
}

/** Reads an option with a default, checking its type; errors name the method and option. */
export function option<T extends number | string | boolean | string[]>(method: string, o: Record<string, unknown>, key: string, dflt: T): T {
  const v = o[key];
  if (v === undefined) return dflt;
  if (Array.isArray(dflt) ? !Array.isArray(v) : typeof v !== typeof dflt) throw new Error(`${method}: option '${key}' must be ${Array.isArray(dflt) ? 'a list' : `a ${typeof dflt}`}, got ${JSON.stringify(v)}`);
  return v as T;
}
