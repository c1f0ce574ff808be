// Kept predictions: listed from <home>/predictions by their index files (newest first), by their
// JSON when an older version wrote no index, with unreadable ones reported; reopened in the form
// the views plot (SignalP-style per-state curves only where a state reaches 1 %).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listPredictions, predictionResult, writePredictionIndex } from '../../src-main/engine/predictions/store.js';
import { REGION_STATES } from '../../src-main/engine/tasks/signal-peptide/regions.js';

const home = mkdtempSync(path.join(os.tmpdir(), 'plmw-preds-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function write(dir: string, name: string, value: unknown): string {
  const d = path.join(home, 'predictions', dir);
  mkdirSync(d, { recursive: true });
  const f = path.join(d, name);
  writeFileSync(f, typeof value === 'string' ? value : JSON.stringify(value));
  return f;
}

const T = REGION_STATES.length;
/** two residues: mostly SP_N then SP_C, a little NO_SP_I; every other state 0 */
const marginals = [0, 1].map((k) => Array.from({ length: T }, (_, s) => (s === 3 ? (k ? 0.1 : 0.9) : s === 5 ? (k ? 0.895 : 0.095) : s === 0 ? 0.005 : 0)));
const SP = {
  createdAt: '2026-11-02T10:00:00.000Z', run: { id: 'sp-run', name: 'SP run', task: 'sp' }, input: { file: 'mine.fasta' }, task: 'signal-peptide',
  states: REGION_STATES.map((s) => s.name), notes: [],
  sequences: [{
    id: 'A1|EUKARYA|SP|0', sequence: 'MKVLAA', kingdom: 'EUKARYA', kingdomSource: 'header', prediction: 'SP', typeProbabilities: { NO_SP: 0.005, SP: 0.995 },
    cleavageSite: 1, cleavageSiteProbability: 0.9, csProbabilities: [0.0051234567, 0.995], flags: [], bestPathType: 'SP', predictedResidues: 2, regions: 'SS', marginals,
  }],
};
const SS = {
  createdAt: '2026-11-01T10:00:00.000Z', run: { id: 'ss-run', name: 'SS run', task: 'ss-ss3' }, task: 'secondary-structure', states: 'HEC', notes: [],
  sequences: [{ id: 'q', ss3: 'HC', residues: [{ residue: 'M', p3: [0.7, 0.1, 0.2] }, { residue: 'K', p3: [0.2, 0.1, 0.7] }] }],
};

describe('kept predictions', () => {
  it('reopen as the views plot them: whole sequence, curves of the states that reach 1 %, rounded', async () => {
    const r = await predictionResult(write('b', 'sp-run.json', SP));
    expect(r).toMatchObject({ run: 'sp-run', runName: 'SP run', task: 'signal-peptide', runTask: 'sp', createdAt: SP.createdAt, inputName: 'mine.fasta' });
    const sp = r.sequences[0].sp!;
    expect(r.sequences[0].sequence).toBe('MKVLAA');
    expect(sp.regionCurves.map((c) => c.state)).toEqual(['SP_N', 'SP_C']); // NO_SP_I stays below 1 %
    expect(sp.regionCurves[0]).toMatchObject({ type: 'SP', region: 'n', label: 'Sec/SPI n', probs: [0.9, 0.1] });
    expect(sp.csProbs).toEqual([0.0051, 0.995]);
    // region letters summed per column: S = n + c, I = the cytoplasm state
    const W = sp.regionLetters.length;
    expect(sp.regionProbs[sp.regionLetters.indexOf('S')]).toBeCloseTo(0.995, 9);
    expect(sp.regionProbs[W + sp.regionLetters.indexOf('I')]).toBeCloseTo(0.005, 9);
    const ss = await predictionResult(write('a', 'ss-run.json', SS));
    expect(ss.sequences[0]).toEqual({ id: 'q', sequence: 'MK', ss: { states: 'HEC', ss3: 'HC', p3: [0.7, 0.1, 0.2, 0.2, 0.1, 0.7] } });
  });

  it('are listed newest first from their index, from their JSON without one, and broken ones are reported', async () => {
    const withIndex = await predictionResult(path.join(home, 'predictions', 'b', 'sp-run.json'));
    await writePredictionIndex({ ...withIndex, name: 'my batch' });
    write('c', 'broken.json', '{"task": "signal-pep');
    const { predictions, problems } = await listPredictions(home);
    expect(predictions.map((p) => [p.run, p.createdAt, p.sequences, p.name ?? null])).toEqual([
      ['sp-run', SP.createdAt, 1, 'my batch'],
      ['ss-run', SS.createdAt, 1, null],
    ]);
    expect(predictions[0].ids).toEqual(['A1|EUKARYA|SP|0']);
    expect(problems).toEqual([expect.stringMatching(/broken\.json: .*JSON/)]);
    expect((await listPredictions(path.join(home, 'nowhere'))).predictions).toEqual([]);
  });
});
