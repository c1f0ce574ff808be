// What the trainer tests share: the tiny LoRA configuration, metrics.jsonl compared without its
// timing columns, and labelled sequences written back as a LIFT_SS file for `plmw train`.
import { readFileSync, writeFileSync } from 'node:fs';
import { encodeSs, SS8_STATES } from '../../src-main/engine/data/labels-ss.js';
import { type LabelledSequence, TRAINER_DEFAULTS, type TrainerConfig } from '../../src-main/engine/train/trainer.js';
import { fixtureModel } from './paths.js';

export const TINY = fixtureModel('tiny');

/** LoRA r=4 on query and value of the tiny model, one CPU thread. */
export const tinyLora = (over: Partial<TrainerConfig> = {}): TrainerConfig => ({
  ...TRAINER_DEFAULTS, model: TINY, task: 'ss-ss8', method: 'lora', methodOptions: { r: 4, alpha: 8, dropout: 0.1, targets: ['query', 'value'] },
  epochs: 3, batchSize: 8, lr: 5e-3, threads: 1, providers: ['cpu'], ...over,
});

/** The lines of a metrics.jsonl without the columns that measure time. */
export const withoutTiming = (file: string): string[] =>
  readFileSync(file, 'utf8').trim().split('\n').map((l) => {
    const { elapsed_s: _e, sequences_per_s: _s, ...rest } = JSON.parse(l);
    return JSON.stringify(rest);
  });

/** Labelled sequences as a LIFT_SS file (unlabelled positions as coil). */
export function writeSsFile(file: string, seqs: readonly LabelledSequence[]): string {
  writeFileSync(file, seqs.map((s) => `>${s.id}\n${s.sequence}\n${encodeSs(Array.from(s.labels, (c) => (c < 0 ? 7 : c)), SS8_STATES).replace(/C/g, 'L')}\n`).join(''));
  return file;
}
