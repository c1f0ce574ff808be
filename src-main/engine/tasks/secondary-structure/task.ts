// Secondary structure as a training task: a per-residue head over SS8 (SS3 derived from its
// predictions) or over SS3 directly; validation reports Q8 and/or Q3 over scored residues.
// Heads: 'linear' (one Linear per residue, task names ss-ss8 / ss-ss3) or 'cnn' (Conv1d over
// the residue axis then a Linear, cnn-head.ts; task names ss-ss8-cnn / ss-ss3-cnn).
import type { Esm2Config } from '../../esm2/config.js';
import { SS3_STATES, SS8_STATES, SS8_TO_SS3, type SsRecord } from '../../data/labels-ss.js';
import { linearHead } from '../../train/head.js';
import { type CnnHeadOptions, cnnHead } from './cnn-head.js';
import type { TaskSpec } from '../../train/task.js';
import type { LabelledSequence } from '../../train/trainer.js';
import { evaluateSs } from './metrics.js';

export type SsLabels = 'ss8' | 'ss3';
export type SsHeadKind = 'linear' | 'cnn';

export interface SsHeadOptions extends CnnHeadOptions {
  head?: SsHeadKind;
}

/** SS records as labelled sequences (-1 where the residue is not scored). */
export function ssLabelled(records: readonly SsRecord[], labels: SsLabels): LabelledSequence[] {
  return records.map((r) => {
    const src = labels === 'ss8' ? r.ss8 : r.ss3;
    if (!src) throw new Error(`${r.loc.file}:${r.loc.line} (record '${r.id}'): no 8-state labels in this file; use --labels ss3`);
    return { id: r.id, sequence: r.sequence, labels: Int32Array.from(src, (c, i) => (r.mask[i] && c >= 0 ? c : -1)) };
  });
}

function argmaxRows(p: Float32Array, n: number, C: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (p[(i + 1) * C + c] > p[(i + 1) * C + best]) best = c;
    out[i] = best;
  }
  return out;
}

export function ssTask(labels: SsLabels, o: SsHeadOptions = {}): TaskSpec {
  const C = labels === 'ss8' ? SS8_STATES.length : SS3_STATES.length;
  const kind = o.head ?? 'linear';
  if (kind !== 'linear' && kind !== 'cnn') throw new Error(`secondary structure: unknown head '${kind}' (linear, cnn)`);
  return {
    name: kind === 'linear' ? `ss-${labels}` : `ss-${labels}-${kind}`,
    head: (cfg: Esm2Config) => (kind === 'cnn' ? cnnHead(C, cfg.hiddenSize, { kernel: o.kernel, channels: o.channels }) : linearHead(C, cfg.hiddenSize)),
    selectMetric: labels === 'ss8' ? 'q8' : 'q3',
    metrics(val, probs): Record<string, number> {
      const pairs = val.map((s, i) => ({ truth: s.labels, pred: argmaxRows(probs[i], s.sequence.length, C) }));
      if (labels === 'ss3') return { q3: evaluateSs(pairs, SS3_STATES, { sov: false }).accuracy ?? 0 };
      const to3 = (a: ArrayLike<number>) => Int32Array.from(a as ArrayLike<number>, (c) => (c < 0 ? -1 : SS8_TO_SS3[c]));
      return {
        q8: evaluateSs(pairs, SS8_STATES, { sov: false }).accuracy ?? 0,
        q3: evaluateSs(pairs.map((p) => ({ truth: to3(p.truth), pred: to3(p.pred) })), SS3_STATES, { sov: false }).accuracy ?? 0,
      };
    },
  };
}
