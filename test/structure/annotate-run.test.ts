// `plmw annotate --run`: a trained run predicts the record, one of its per-residue columns goes
// into the B-factors and its SS3 string into HELIX/SHEET.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ssTask } from '../../src-main/engine/tasks/secondary-structure/task.js';
import { predictRun } from '../../src-main/engine/tasks/predict.js';
import { TRAINER_DEFAULTS, train } from '../../src-main/engine/train/trainer.js';
import { REPO, fixtureModel, shared } from '../helpers/paths.js';
import { ssSubset } from '../helpers/ss-data.js';

const UBIQUITIN = 'MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG';

it('writes a run\'s predicted probabilities as B-factors and its SS3 as HELIX/SHEET', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'plmw-annot-run-'));
  const run = path.join(dir, 'run');
  const data = { train: await ssSubset('CB433.txt', 16), val: await ssSubset('CASP12.txt', 4, 200) };
  await train(run, { ...TRAINER_DEFAULTS, model: fixtureModel('tiny'), task: 'ss-ss8', method: 'lora', methodOptions: { r: 2 }, epochs: 1, batchSize: 8, providers: ['cpu'], threads: 1, name: 'ubq-run' }, ssTask('ss8'), data);
  const fasta = path.join(dir, 'q.fasta');
  writeFileSync(fasta, `>ubq ubiquitin\n${UBIQUITIN}\n`);
  const out = path.join(dir, 'out.pdb');
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', 'annotate', '--structure', shared('fixtures', 'pdb', '1ubq.pdb'), '--chain', 'A',
    '--run', run, '--fasta', fasta, '--record', 'ubq', '--score', 'p3_H', '--ss3', 'run', '--out', out], { cwd: REPO, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);

  // the same prediction, made independently through plmw predict's code
  await predictRun(run, fasta, path.join(dir, 'ref'));
  const rows = readFileSync(path.join(dir, 'ref.residues.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  const col = rows[0].indexOf('p3_H');
  const ss3 = rows.slice(1).map((x) => x[rows[0].indexOf('ss3_from_ss8')]).join('');
  // the CSV holds 6 digits, the B-factor 2 decimals of the full value: equal to within one rounding
  const want = rows.slice(1).map((x) => Number(x[col]) * 100);
  const lines = readFileSync(out, 'utf8').split('\n');
  const ca = lines.filter((l) => l.startsWith('ATOM') && l.slice(12, 16) === ' CA ' && l[21] === 'A');
  expect(ca).toHaveLength(76);
  ca.forEach((l, i) => {
    expect(l.slice(60, 66).trim()).toMatch(/^\d+\.\d\d$/);
    expect(Math.abs(Number(l.slice(60, 66)) - want[i])).toBeLessThanOrEqual(0.005 + 1e-4);
  });
  // HELIX/SHEET follow the run's SS3; the annotation names the run
  const helices = lines.filter((l) => l.startsWith('HELIX'));
  const helixRuns = (ss3.match(/H+/g) ?? []).filter((h) => h.length >= 3).length; // shorter runs are no helix record
  expect(helices.length).toBe(helixRuns);
  expect(lines.some((l) => l.startsWith('REMARK 950') && l.includes('ubq-run'))).toBe(true);
});
