// Training curves as TensorBoard shows them: every run's metrics rows become scalar series named
// by tag ('train/loss' per optimizer step, 'val/<metric>' per epoch), with step or wall time on
// the x axis, and a CSV of exactly what is plotted.
import type { MetricRecord } from '../../../src-main/engine/runs/types.js';

export type XAxis = 'step' | 'wall';

export interface CurvePoint {
  step: number;
  /** seconds since the run started (the row's elapsed_s) */
  wall: number | null;
  value: number;
}

export interface RunCurves {
  id: string;
  name: string;
  /** tag -> points in step order */
  tags: Map<string, CurvePoint[]>;
}

const NOT_METRICS = new Set(['step', 'epoch', 'split', 'lr', 'elapsed_s', 'sequences_per_s']);

/** The tags of a run's metrics rows. Per-step training rows carry `lr`; epoch summaries do not. */
export function curvesOf(id: string, name: string, rows: readonly MetricRecord[], live: readonly [number, number][] = []): RunCurves {
  const tags = new Map<string, CurvePoint[]>();
  const add = (tag: string, p: CurvePoint) => {
    let list = tags.get(tag);
    if (!list) tags.set(tag, (list = []));
    list.push(p);
  };
  for (const r of rows) {
    const step = Number(r.step);
    if (!Number.isFinite(step)) continue;
    const wall = typeof r.elapsed_s === 'number' ? r.elapsed_s : null;
    if (r.split === 'train' && r.lr !== undefined && typeof r.loss === 'number') add('train/loss', { step, wall, value: r.loss });
    else if (r.split === 'val') {
      for (const [k, v] of Object.entries(r)) if (!NOT_METRICS.has(k) && typeof v === 'number' && Number.isFinite(v)) add(`val/${k}`, { step, wall, value: v });
    }
  }
  // steps already reported by the job's progress events but not yet read from the rows
  const train = tags.get('train/loss') ?? [];
  const last = train.at(-1)?.step ?? 0;
  for (const [step, value] of live) if (step > last) add('train/loss', { step, wall: null, value });
  return { id, name, tags };
}

/** Every tag of the runs, losses first, then in name order. */
export function allTags(runs: readonly RunCurves[]): string[] {
  const s = new Set<string>();
  for (const r of runs) for (const t of r.tags.keys()) s.add(t);
  return [...s].sort((a, b) => Number(!a.endsWith('/loss')) - Number(!b.endsWith('/loss')) || a.localeCompare(b));
}

/** A TensorBoard filter: a case-insensitive regular expression, or plain text when it is not one. */
export function matcher(filter: string): (s: string) => boolean {
  const f = filter.trim();
  if (!f) return () => true;
  try {
    const re = new RegExp(f, 'i');
    return (s) => re.test(s);
  } catch {
    const low = f.toLowerCase();
    return (s) => s.toLowerCase().includes(low);
  }
}

/** The points on the chosen x axis (wall time drops points without one). */
export function xy(points: readonly CurvePoint[], x: XAxis): [number, number][] {
  return x === 'step' ? points.map((p) => [p.step, p.value]) : points.filter((p) => p.wall !== null).map((p) => [p.wall!, p.value]);
}

/** CSV of the plotted curves: run, tag, step, wall time, value (TensorBoard's export columns). */
export function curvesCsv(runs: readonly RunCurves[], tags: readonly string[]): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = ['run,tag,step,wall_time_s,value'];
  for (const r of runs) for (const t of tags) for (const p of r.tags.get(t) ?? []) lines.push([q(r.name), q(t), p.step, p.wall ?? '', p.value].join(','));
  return `${lines.join('\n')}\n`;
}
