// Sessions over compiled graphs: model files on disk (weights as external data beside them),
// provider choice with fallback, thread settings, and a typed run() that feeds only the inputs
// the pruned graph kept.

import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { AtomicFile, writeFileAtomic } from '../atomic.js';
import type { SerializedModel } from '../graph/onnx.js';
import { type ProviderName, type ProviderReport, announceProvider, providerOrder, providerPrecheck, shortError } from './providers.js';

// A refused provider is reported through ProviderReport; onnxruntime's own console line for it is noise.
ort.env.logLevel = 'fatal';

export interface RuntimeOptions {
  /** Providers in order of preference; cpu is always appended as the last resort. */
  providers?: readonly ProviderName[];
  /** Intra-op threads (default: all cores). */
  threads?: number;
  /** let idle worker threads spin between kernels (default false: they sleep) */
  spinning?: boolean;
  /** onnxruntime graph optimisation level (default 'all'). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Called once per refused provider, before the next one is tried. */
  onFallback?: (provider: ProviderName, reason: string) => void;
  /**
   * The folder the model's external initializers are relative to (e.g. the checkpoint folder
   * holding model.safetensors). onnxruntime maps those files itself: weights are read in place,
   * wherever they live and whether or not the folder is writable, never through JavaScript.
   */
  weightsDir?: string;
}

export interface Session {
  readonly ort: ort.InferenceSession;
  readonly report: ProviderReport;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, ort.Tensor>, fetch?: readonly string[]): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

function sessionOptions(provider: ProviderName, o: RuntimeOptions): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    intraOpNumThreads: o.threads ?? defaultThreads(),
    interOpNumThreads: 1,
    graphOptimizationLevel: o.optimization ?? 'all',
    // onnxruntime's memory pattern plans one block per input shape for all intermediates; with
    // batches of varying length it holds far more than the arena alone (measured: ESM-2 150M LoRA
    // training peak RSS 6.3 GB with it, 4.9 GB without; inference 5-8 % lower).
    enableMemPattern: false,
    logSeverityLevel: 3,
    extra: {
      session: {
        // Worker threads sleep between kernels instead of spinning: a training step is thousands
        // of small kernels, and spinning workers fight the calling thread and every other process
        // for the cores (measured on the shared 2-core machines here, under load: top-2 LoRA steps
        // 2.5-5x faster, inference within noise). The peer in `plmw bench` waits passively too.
        ...(o.spinning ? {} : { 'intra_op.allow_spinning': '0', 'inter_op.allow_spinning': '0' }),
        // Weights given by folder are mapped by onnxruntime from the checkpoint itself. Prepacking
        // would copy every MatMul/Gemm weight into a packed buffer per session; without it all
        // sessions of a model (training, evaluation, frozen features) read the same page-cache
        // copy, and the first run pages the weights in instead of session creation copying them.
        ...(o.weightsDir ? { model_external_initializers_file_folder_path: path.resolve(o.weightsDir), disable_prepacking: '1' } : {}),
      },
    },
  };
}

/** Providers that failed to initialise in this process, with the reason: not tried again. */
const refused = new Map<ProviderName, string>();

/** Opens a session on the first provider that initialises. `model` is a .onnx path (external data resolved beside it) or bytes. */
export async function createSession(model: string | Uint8Array, o: RuntimeOptions = {}): Promise<Session> {
  const fallbacks: ProviderReport['fallbacks'] = [];
  for (const provider of providerOrder(o.providers)) {
    const known = refused.get(provider) ?? (await providerPrecheck(provider));
    if (known) {
      fallbacks.push({ provider, error: known });
      o.onFallback?.(provider, known);
      continue;
    }
    try {
      const opts = sessionOptions(provider, o);
      const s = typeof model === 'string' ? await ort.InferenceSession.create(model, opts) : await ort.InferenceSession.create(model, opts);
      return wrap(s, { provider, fallbacks });
    } catch (e) {
      const reason = shortError(e);
      if (provider === 'cpu') throw new Error(`could not create a session${typeof model === 'string' ? ` for ${model}` : ''}: ${reason}`);
      // Only environment failures are remembered; a model the provider cannot run may still run elsewhere.
      if (/Failed to (load|get|create)|adapter|shared library/i.test(reason)) refused.set(provider, reason);
      fallbacks.push({ provider, error: reason });
      o.onFallback?.(provider, reason);
    }
  }
  throw new Error('unreachable: cpu is always tried');
}

function wrap(s: ort.InferenceSession, report: ProviderReport): Session {
  announceProvider(report);
  return {
    ort: s,
    report,
    inputNames: s.inputNames,
    outputNames: s.outputNames,
    // Feeds may carry inputs the pruned graph dropped; only the kept ones are passed on.
    async run(feeds, fetch) {
      const kept: Record<string, ort.Tensor> = {};
      for (const name of s.inputNames) {
        const t = feeds[name];
        if (!t) throw new Error(`missing input '${name}' (model inputs: ${s.inputNames.join(', ')})`);
        kept[name] = t;
      }
      return fetch ? s.run(kept, fetch as string[]) : s.run(kept);
    },
    release: () => s.release(),
  };
}

/** Writes model.onnx (+ its external data file) into dir through the atomic writer; returns the .onnx path. */
export async function saveModel(dir: string, baseName: string, m: SerializedModel): Promise<string> {
  await mkdir(dir, { recursive: true });
  const onnxPath = path.join(dir, `${baseName}.onnx`);
  if (m.externalData && m.externalDataFile) {
    const data = AtomicFile.create(path.join(dir, m.externalDataFile));
    for (const c of m.externalData) data.write(c);
    data.commit();
  }
  writeFileAtomic(onnxPath, m.model);
  return onnxPath;
}
