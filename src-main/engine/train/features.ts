// Outputs of the frozen blocks, computed once per sequence and reused every epoch. Held in
// memory up to a byte limit, then spilled to a cache file in the run directory (read back by
// offset); either way the trainer sees the same Float32Array [length + 2, d] per sequence.

import path from 'node:path';
import { type AtomicFile, createScratchFile } from '../atomic.js';
import * as ort from 'onnxruntime-node';
import type { Session } from '../runtime/index.js';
import { pairBudgetRows, planBatches } from '../esm2/infer.js';
import type { EsmTokenizer } from '../esm2/tokenizer.js';

export class FeatureCache {
  private readonly memory = new Map<number, Float32Array>();
  private readonly onDisk = new Map<number, { offset: number; length: number }>();
  private bytesInMemory = 0;
  private spill: AtomicFile | null = null;

  constructor(
    readonly d: number,
    readonly limitBytes: number,
    readonly spillFile: string,
  ) {}

  get size(): number {
    return this.memory.size + this.onDisk.size;
  }

  put(i: number, h: Float32Array): void {
    if (this.bytesInMemory + h.byteLength <= this.limitBytes) {
      this.memory.set(i, h);
      this.bytesInMemory += h.byteLength;
      return;
    }
    // A scratch file under the writer's temporary naming: removed on close, on a signal, or by
    // the next start's sweep if this process dies; every write and read-back is checked.
    this.spill ??= createScratchFile(path.dirname(this.spillFile), path.basename(this.spillFile));
    const offset = this.spill.size;
    this.spill.write(new Uint8Array(h.buffer, h.byteOffset, h.byteLength));
    this.onDisk.set(i, { offset, length: h.length });
  }

  get(i: number): Float32Array {
    const m = this.memory.get(i);
    if (m) return m;
    const at = this.onDisk.get(i);
    if (!at || this.spill === null) throw new Error(`no cached features for sequence #${i}`);
    const out = new Float32Array(at.length);
    this.spill.readAt(new Uint8Array(out.buffer), at.offset);
    return out;
  }

  close(): void {
    this.spill?.abort();
    this.spill = null;
  }

  /** Runs the feature session over sequences (sorted by length, batched as inference batches them). */
  static async compute(session: Session, tokenizer: EsmTokenizer, seqs: readonly string[], d: number, o: { limitBytes: number; spillFile: string; tokenBudget?: number; onProgress?: (done: number) => void }): Promise<FeatureCache> {
    const cache = new FeatureCache(d, o.limitBytes, o.spillFile);
    let k = 0;
    for (const idx of planBatches(seqs.map((s) => s.length), o.tokenBudget ?? 8192, 64, pairBudgetRows)) {
      const enc = tokenizer.encodeBatch(idx.map((i) => seqs[i]), 'int64');
      const out = await session.run({ tokens: new ort.Tensor('int64', enc.ids, [enc.batch, enc.maxLen]) });
      const h = out.hidden.data as Float32Array;
      idx.forEach((i, b) => {
        const len = enc.lengths[b];
        cache.put(i, h.slice(b * enc.maxLen * d, (b * enc.maxLen + len) * d));
      });
      k += idx.length;
      o.onProgress?.(k);
    }
    return cache;
  }
}
