// Learning-rate schedules: linear warmup, then constant, linear or cosine decay to zero.
export type ScheduleKind = 'constant' | 'linear' | 'cosine';

export interface Schedule {
  kind: ScheduleKind;
  lr: number;
  warmupSteps: number;
  totalSteps: number;
}

/** Learning rate for optimizer step `step` (1-based). */
export function learningRate(s: Schedule, step: number): number {
  if (s.warmupSteps > 0 && step <= s.warmupSteps) return (s.lr * step) / s.warmupSteps;
  if (s.kind === 'constant') return s.lr;
  const span = Math.max(1, s.totalSteps - s.warmupSteps);
  const progress = Math.min(1, (step - s.warmupSteps) / span);
  return s.kind === 'linear' ? s.lr * (1 - progress) : s.lr * 0.5 * (1 + Math.cos(Math.PI * progress));
}
