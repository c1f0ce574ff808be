// `plmw evaluate` end to end: `plmw train` (1 epoch) on files written here, then evaluate on a
// test file written here, then `plmw predict` on the same file; the metrics in the JSON must
// agree exactly with a separate, deliberately simple recomputation from the prediction files
// and the labels this test wrote (Q3/Q8 pooled and per protein, per-class precision/recall/F1;
// MCC1/MCC2 and cleavage-site recall/precision per kingdom and type).
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SignalPRecord } from '../../src-main/engine/data/signalp.js';
import { parseCsv } from '../../src-main/engine/export/csv.js';
import { MODEL_TINY, type SsSynthetic, plmw, signalpSplit, syntheticSs, writeLiftSs, writeSignalP } from '../tasks/helpers/task-files.js';

const dir = mkdtempSync(path.join(tmpdir(), 'plmw-evaluate-'));
const f = (n: string) => path.join(dir, n);
const common = ['--model', MODEL_TINY, '--method', 'lora', '--r', '4', '--epochs', '1', '--threads', '2', '--provider', 'cpu'];
let ssTest: SsSynthetic[];
let spTest: SignalPRecord[];

beforeAll(() => {
  writeLiftSs(f('ss-train.txt'), syntheticSs(24, 1, 'tr'));
  writeLiftSs(f('ss-val.txt'), syntheticSs(6, 2, 'va'));
  ssTest = syntheticSs(14, 3, 'te');
  writeLiftSs(f('ss-test.txt'), ssTest);
  const ss = plmw('train', '--task', 'ss', '--head', 'cnn', '--cnn-channels', '16', '--train', f('ss-train.txt'), '--val', f('ss-val.txt'), '--lr', '0.01', '--out', f('ss-run'), ...common);
  expect(ss.status, ss.stderr).toBe(0);
}, 120_000);

beforeAll(async () => {
  const split = await signalpSplit();
  spTest = split.test;
  writeSignalP(f('sp-train.fasta'), split.train);
  writeSignalP(f('sp-test.fasta'), spTest);
  const sp = plmw('train', '--task', 'sp', '--train', f('sp-train.fasta'), '--val', f('sp-test.fasta'), '--val-partitions', '1', '--lr', '0.02', '--batch', '8', '--out', f('sp-run'), ...common);
  expect(sp.status, sp.stderr).toBe(0);
  expect(JSON.parse(readFileSync(f('sp-run/run.json'), 'utf8'))).toMatchObject({ status: 'completed', task: 'sp', head: { name: 'crf', kingdom: true, maxLength: 70 } });
}, 120_000);

// ---------------------------------------------------------------- independent recomputation

const SS8 = 'GHIBESTC';
/** truth class per residue (-1 = masked), from the LIFT_SS letters, coil convention for P */
const ss8Of = (c: string) => (c === 'X' ? -1 : c === 'L' || c === 'P' || c === '-' || c === ' ' ? 7 : SS8.indexOf(c));
const to3 = (k: number) => (k < 0 ? -1 : k <= 2 ? 0 : k <= 4 ? 1 : 2);

interface Counts { correct: number; scored: number; perProtein: number[]; tp: number[]; pred: number[]; truth: number[] }

function score(truth: number[][], pred: number[][], k: number): Counts {
  const c: Counts = { correct: 0, scored: 0, perProtein: [], tp: new Array(k).fill(0), pred: new Array(k).fill(0), truth: new Array(k).fill(0) };
  truth.forEach((t, i) => {
    let ok = 0;
    let n = 0;
    t.forEach((y, j) => {
      if (y < 0) return;
      n++;
      c.truth[y]++;
      c.pred[pred[i][j]]++;
      if (y === pred[i][j]) {
        ok++;
        c.tp[y]++;
      }
    });
    c.correct += ok;
    c.scored += n;
    if (n > 0) c.perProtein.push(ok / n);
  });
  return c;
}

const mcc = (tp: number, tn: number, fp: number, fn: number) => {
  const d = Math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
  return d === 0 ? 0 : (tp * tn - fp * fn) / d;
};

describe('plmw evaluate', () => {
  it('secondary structure: Q8/Q3 pooled and per protein and per-class P/R/F1 agree with a recomputation from predict', () => {
    const ev = plmw('evaluate', '--run', f('ss-run'), '--data', f('ss-test.txt'), '--out', f('ss-metrics.json'), '--provider', 'cpu');
    expect(ev.status, ev.stderr).toBe(0);
    expect(ev.stdout).toMatch(/Q3 +[\d.]+ % pooled/);
    expect(ev.stdout).toMatch(/SOV'99/);
    const m = JSON.parse(readFileSync(f('ss-metrics.json'), 'utf8'));
    expect(readdirSync(dir).filter((x) => x.endsWith('.tmp'))).toEqual([]);
    const pr = plmw('predict', '--run', f('ss-run'), '--fasta', f('ss-test.txt'), '--out', f('ss-pred'), '--provider', 'cpu');
    expect(pr.status, pr.stderr).toBe(0);
    const rows = parseCsv(readFileSync(f('ss-pred.residues.csv'), 'utf8'));
    const h = rows[0];
    // Q3 scores the SS8 call mapped to 3 states: the ss3_from_ss8 column
    const [iId, iPos, iSs8, iSs3] = ['id', 'position', 'ss8', 'ss3_from_ss8'].map((c) => h.indexOf(c));
    const pred8 = new Map<string, number[]>();
    const pred3 = new Map<string, number[]>();
    for (const r of rows.slice(1)) {
      if (!pred8.has(r[iId])) [pred8.set(r[iId], []), pred3.set(r[iId], [])];
      expect(Number(r[iPos])).toBe(pred8.get(r[iId])!.length + 1);
      pred8.get(r[iId])!.push(SS8.indexOf(r[iSs8]));
      pred3.get(r[iId])!.push('HEC'.indexOf(r[iSs3]));
    }
    const t8 = ssTest.map((x) => [...x.labels].map(ss8Of));
    const p8 = ssTest.map((x) => pred8.get(x.id)!);
    const c8 = score(t8, p8, 8);
    const c3 = score(t8.map((t) => t.map(to3)), ssTest.map((x) => pred3.get(x.id)!), 3);
    expect(c8.scored).toBeGreaterThan(300);
    expect(new Set(p8.flat()).size).toBeGreaterThan(1); // not a constant prediction
    const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(m.q8).toBe(c8.correct / c8.scored);
    expect(m.q3).toBe(c3.correct / c3.scored);
    expect(Math.abs(m.q8PerProtein - meanOf(c8.perProtein))).toBeLessThanOrEqual(1e-12);
    expect(Math.abs(m.q3PerProtein - meanOf(c3.perProtein))).toBeLessThanOrEqual(1e-12);
    expect(m.ss8.scoredResidues).toBe(c8.scored);
    for (const [metrics, c, states] of [[m.ss8, c8, SS8], [m.ss3, c3, 'HEC']] as const) {
      states.split('').forEach((s, k) => {
        const row = metrics.perClass[k];
        expect(row.state).toBe(s);
        expect(row.support).toBe(c.truth[k]);
        expect(row.predicted).toBe(c.pred[k]);
        expect(row.precision).toBe(c.pred[k] ? c.tp[k] / c.pred[k] : null);
        expect(row.recall).toBe(c.truth[k] ? c.tp[k] / c.truth[k] : null);
        if (row.precision !== null && row.recall !== null) {
          const f1 = row.precision + row.recall === 0 ? 0 : (2 * row.precision * row.recall) / (row.precision + row.recall);
          expect(Math.abs(row.f1 - f1)).toBeLessThanOrEqual(1e-12);
        }
      });
    }
    // per-protein list and the SOV fields exist
    expect(m.perProtein.map((x: { id: string }) => x.id)).toEqual(ssTest.map((x) => x.id));
    expect(m.ss8.sov.pooled).toBeGreaterThan(0);
    expect(m.run.task).toBe('ss-ss8-cnn');
    expect(m.producer['onnxruntime-node']).toBe('1.30.0');
  });

  it('signal peptides: MCC1, MCC2 and CS recall/precision per kingdom and type agree with a recomputation from predict', () => {
    const ev = plmw('evaluate', '--run', f('sp-run'), '--data', f('sp-test.fasta'), '--out', f('sp-metrics.json'), '--provider', 'cpu');
    expect(ev.status, ev.stderr).toBe(0);
    expect(ev.stdout).toMatch(/kingdom +type +n_true n_pred +MCC1 +MCC2/);
    const m = JSON.parse(readFileSync(f('sp-metrics.json'), 'utf8'));
    const pr = plmw('predict', '--run', f('sp-run'), '--fasta', f('sp-test.fasta'), '--out', f('sp-pred'), '--provider', 'cpu');
    expect(pr.status, pr.stderr).toBe(0);
    const rows = parseCsv(readFileSync(f('sp-pred.summary.csv'), 'utf8'));
    expect(rows[0]).toEqual(['id', 'kingdom', 'kingdom_source', 'prediction', 'p_NO_SP', 'p_SP', 'p_LIPO', 'p_TAT', 'p_TATLIPO', 'p_PILIN', 'cs_position', 'cs_probability', 'flags']);
    // predict keeps the whole SignalP-style id (ACC|KINGDOM|TYPE|PARTITION); evaluate names records by accession
    const accession = (id: string) => id.split('|')[0];
    const pred = new Map(rows.slice(1).map((r) => [accession(r[0]), { type: r[3], cs: r[10] === '' ? null : Number(r[10]) }]));
    const truth = spTest.map((x) => {
      let cs = 0;
      while (cs < x.labels!.length && 'SLTP'.includes(x.labels![cs])) cs++;
      return { id: x.id, kingdom: x.kingdom, type: x.type, cs: cs === 0 ? null : cs };
    });
    expect(new Set(truth.map((t) => pred.get(t.id)!.type)).size).toBeGreaterThan(1); // not a constant prediction
    const expected: Record<string, unknown>[] = [];
    for (const k of ['EUKARYA', 'ARCHAEA', 'NEGATIVE', 'POSITIVE']) {
      const inK = truth.filter((t) => t.kingdom === k);
      for (const t of ['SP', 'LIPO', 'TAT', 'TATLIPO', 'PILIN']) {
        const nTrue = inK.filter((x) => x.type === t).length;
        if (nTrue === 0) continue;
        const table = (xs: typeof inK) => {
          let [tp, tn, fp, fn] = [0, 0, 0, 0];
          for (const x of xs) {
            const p = pred.get(x.id)!.type === t;
            const y = x.type === t;
            if (p && y) tp++;
            else if (!p && !y) tn++;
            else if (p) fp++;
            else fn++;
          }
          return mcc(tp, tn, fp, fn);
        };
        const nPred = inK.filter((x) => pred.get(x.id)!.type === t).length;
        const correct = [0, 1, 2, 3].map((w) => inK.filter((x) => x.type === t && pred.get(x.id)!.type === t && pred.get(x.id)!.cs !== null && Math.abs(pred.get(x.id)!.cs! - x.cs!) <= w).length);
        expected.push({
          kingdom: k, type: t, nTrue, nPred, mcc2: table(inK), mcc1: table(inK.filter((x) => x.type === t || x.type === 'NO_SP')),
          csRecall: correct.map((c) => c / nTrue), csPrecision: correct.map((c) => (nPred ? c / nPred : null)),
        });
      }
    }
    expect(m.rows.length).toBe(expected.length);
    expect(expected.length).toBeGreaterThanOrEqual(8);
    m.rows.forEach((row: Record<string, unknown>, i: number) => {
      const e = expected[i];
      expect([row.kingdom, row.type, row.nTrue, row.nPred]).toEqual([e.kingdom, e.type, e.nTrue, e.nPred]);
      expect(Math.abs((row.mcc2 as number) - (e.mcc2 as number))).toBeLessThanOrEqual(1e-12);
      expect(Math.abs((row.mcc1 as number) - (e.mcc1 as number))).toBeLessThanOrEqual(1e-12);
      expect(row.csRecall).toEqual(e.csRecall);
      expect(row.csPrecision).toEqual(e.csPrecision);
    });
    expect(m.rows.some((r: { nPred: number }) => r.nPred > 0)).toBe(true);
    // the GFF3 holds exactly the predicted signal peptides of the summary
    const gff = readFileSync(f('sp-pred.gff3'), 'utf8').trim().split('\n');
    expect(gff[0]).toBe('## gff-version 3');
    const withSp = [...pred].filter(([, p]) => p.type !== 'NO_SP' && p.cs !== null);
    expect(gff.slice(1).map((l) => accession(l.split('\t')[0]))).toEqual(withSp.map(([id]) => id));
    gff.slice(1).forEach((l, i) => expect(Number(l.split('\t')[4])).toBe(withSp[i][1].cs));
  });

  it('refuses data of the other task and reports missing runs as user errors', () => {
    const wrong = plmw('evaluate', '--run', f('sp-run'), '--data', f('ss-test.txt'), '--provider', 'cpu');
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/signal-peptide run needs a SignalP 3-line file/);
    const missing = plmw('evaluate', '--run', f('nope'), '--data', f('ss-test.txt'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/plmw evaluate: .*run\.json/);
    expect(plmw('evaluate', '--run', f('ss-run')).status).toBe(2);
    // default output location: RUN/eval/<data>.metrics.json
    expect(plmw('evaluate', '--run', f('ss-run'), '--data', f('ss-test.txt'), '--provider', 'cpu').status).toBe(0);
    expect(existsSync(f('ss-run/eval/ss-test.txt.metrics.json'))).toBe(true);
  });

  it('plmw train checks the task options', () => {
    const t = (...extra: string[]) => plmw('train', '--model', MODEL_TINY, '--method', 'probe', '--epochs', '1', '--out', f('never'), ...extra);
    expect(t('--task', 'xx', '--train', f('ss-test.txt'), '--val', f('ss-test.txt')).stderr).toMatch(/--task must be ss .* or sp/);
    expect(t('--task', 'sp', '--head', 'cnn', '--train', f('sp-test.fasta'), '--val', f('sp-test.fasta')).status).toBe(2);
    expect(t('--task', 'ss', '--head', 'rnn', '--train', f('ss-test.txt'), '--val', f('ss-test.txt')).status).toBe(2);
    const wrong = t('--task', 'sp', '--train', f('ss-test.txt'), '--val', f('ss-test.txt'));
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/--task sp needs a SignalP 3-line file/);
    const none = t('--task', 'sp', '--train', f('sp-test.fasta'), '--val', f('sp-test.fasta'), '--val-partitions', '7');
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/no validation sequences left/);
  });
});
