// The logic behind the views, outside a browser: TensorBoard-style curves from metrics rows (tags,
// live points, wall time, filters, CSV), sortable tables, the Train form's checks in its own
// words, and SignalP's cleavage-site wording.
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src-main/engine/export/csv.js';
import { kingdomHintOf } from '../../src-main/engine/tasks/kingdom-hint.js';
import { allTags, curvesCsv, curvesOf, matcher, xy } from '../../src-renderer/src/lib/curves.js';
import { csLabel } from '../../src-renderer/src/lib/format.js';
import { metricLabel, tagLabel } from '../../src-renderer/src/lib/metric-names.js';
import { compareValues, useSorted } from '../../src-renderer/src/lib/sorting.js';
import { defaultForm, formErrors, inFormWords, methodOptions } from '../../src-renderer/src/lib/train-form.js';
import { ref } from 'vue';

const ROWS = [
  { step: 1, epoch: 0, split: 'train' as const, loss: 2.0, lr: 1e-3, elapsed_s: 0.5 },
  { step: 2, epoch: 0, split: 'train' as const, loss: 1.5, lr: 1e-3, elapsed_s: 1.0 },
  { step: 2, epoch: 0, split: 'train' as const, loss: 1.75, elapsed_s: 1.0 }, // the epoch summary: no lr
  { step: 2, epoch: 0, split: 'val' as const, loss: 1.6, q8: 0.3, q3: 0.5, elapsed_s: 1.2, sequences_per_s: 10 },
];

describe('training curves', () => {
  it('names tags as TensorBoard does: per-step training loss, per-epoch validation metrics', () => {
    const c = curvesOf('r1', 'run one', ROWS);
    expect(allTags([c])).toEqual(['train/loss', 'val/loss', 'val/q3', 'val/q8']);
    expect(c.tags.get('train/loss')).toEqual([{ step: 1, wall: 0.5, value: 2 }, { step: 2, wall: 1, value: 1.5 }]);
    expect(c.tags.get('val/q8')).toEqual([{ step: 2, wall: 1.2, value: 0.3 }]);
    expect(tagLabel('val/q8')).toBe('validation Q8 (8-state accuracy)');
    expect(metricLabel('mcc2')).toMatch(/^MCC2/);
  });

  it('adds the steps progress events reported beyond the rows, and plots steps or wall time', () => {
    const c = curvesOf('r1', 'run one', ROWS, [[1, 9], [2, 9], [3, 1.2], [4, 1.1]]);
    expect(xy(c.tags.get('train/loss')!, 'step')).toEqual([[1, 2], [2, 1.5], [3, 1.2], [4, 1.1]]);
    // live points have no wall time yet: the wall-time axis leaves them out rather than guessing
    expect(xy(c.tags.get('train/loss')!, 'wall')).toEqual([[0.5, 2], [1, 1.5]]);
  });

  it('filters by regular expression, or by plain text when the filter is not one', () => {
    expect(['train/loss', 'val/q8', 'val/q3'].filter(matcher('q[38]$'))).toEqual(['val/q8', 'val/q3']);
    expect(['lora (r=8', 'ia3'].filter(matcher('lora (r'))).toEqual(['lora (r=8']);
    expect(['a', 'b'].filter(matcher('  '))).toEqual(['a', 'b']);
  });

  it('writes the plotted curves as CSV, every run and tag, quoted where needed', () => {
    const csv = parseCsv(curvesCsv([curvesOf('r1', 'run, one', ROWS), curvesOf('r2', 'two', ROWS.slice(0, 1))], ['train/loss', 'val/q8']));
    expect(csv).toEqual([
      ['run', 'tag', 'step', 'wall_time_s', 'value'],
      ['run, one', 'train/loss', '1', '0.5', '2'],
      ['run, one', 'train/loss', '2', '1', '1.5'],
      ['run, one', 'val/q8', '2', '1.2', '0.3'],
      ['two', 'train/loss', '1', '0.5', '2'],
    ]);
  });
});

describe('sortable tables', () => {
  it('sorts numbers as numbers and ids naturally, keeps missing values last both ways, and is stable', () => {
    expect(['P10', 'P2', 'p1'].sort(compareValues)).toEqual(['p1', 'P2', 'P10']);
    const rows = ref([{ id: 'a', v: 2 }, { id: 'b', v: null }, { id: 'c', v: 1 }, { id: 'd', v: 2 }]);
    const t = useSorted(rows, (r, k) => r[k as 'v']);
    t.toggle('v');
    expect(t.sorted.value.map((r) => r.id)).toEqual(['c', 'a', 'd', 'b']);
    expect(t.ariaSort('v')).toBe('ascending');
    t.toggle('v');
    expect(t.sorted.value.map((r) => r.id)).toEqual(['a', 'd', 'c', 'b']);
    expect(t.ariaSort('v')).toBe('descending');
    expect(t.ariaSort('id')).toBe('none');
  });
});

describe('the Train form', () => {
  it('checks the numbers in the words of the form', () => {
    expect(formErrors(defaultForm('tiny'))).toEqual({});
    const f = { ...defaultForm('tiny'), epochs: 0 as const, batchSize: 0 as const, lr: -0.01, seed: 1.5, r: '' as const };
    expect(formErrors(f)).toEqual({ epochs: 'must be at least 1', batchSize: 'must be at least 1', lr: 'must be more than 0', seed: 'must be a whole number', r: 'is required' });
    expect(formErrors({ ...defaultForm(''), method: 'ia3', ia3Targets: [] })).toEqual({ model: expect.stringMatching(/choose a model/), ia3Targets: 'choose at least one target' });
    // options a method does not read are not checked (nor sent)
    expect(formErrors({ ...defaultForm('tiny'), method: 'probe', r: '', topK: -1 })).toEqual({});
    expect(methodOptions({ ...defaultForm('tiny'), method: 'probe', topK: 2 })).toEqual({});
    expect(methodOptions({ ...defaultForm('tiny'), topK: 2 })).toEqual({ topK: 2, r: 8, alpha: 8, dropout: 0.1, targets: ['query', 'value'] });
  });

  it('says an engine message about a request field with the field\'s label', () => {
    expect(inFormWords('batchSize: must be at least 1, got 0', 'batchSize')).toBe('batch: must be at least 1, got 0');
    expect(inFormWords('options.r: must be a whole number')).toBe('rank r: must be a whole number');
    expect(inFormWords('lr: must be at most 10, got 20')).toBe('learning rate: must be at most 10, got 20');
    expect(inFormWords('the worker stopped')).toBe('the worker stopped');
  });
});

describe('words shared with SignalP 6.0', () => {
  it('writes a cleavage site the same way in the plot, the table and the report', () => {
    expect(csLabel(13)).toBe('CS pos: 13-14');
    expect(csLabel(22, 0.97654)).toBe('CS pos: 22-23. Pr: 0.9765');
  });

  it('reads the kingdom hint of a SignalP-style header as the engine does', () => {
    expect(kingdomHintOf('Q8U3V3|ARCHAEA|NO_SP|1')).toBe('ARCHAEA');
    expect(kingdomHintOf('x|unknown|SP|0')).toBeNull();
    expect(kingdomHintOf('sp|P61626|LYSC_HUMAN')).toBeNull();
  });
});
