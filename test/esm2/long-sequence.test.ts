// A 12,000-residue protein's contacts on the tiny fixture model through `plmw infer`: 16
// overlapping windows merged in time linear in their number, under 60 s and 2 GB (the merge used
// to cost n^2 x windows: more than 10 minutes). One merged value is checked against the model
// run on its window alone.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Esm2Runner, windowRanges } from '../../src-main/engine/esm2/infer.js';
import { loadModel } from '../../src-main/engine/esm2/model.js';
import { readSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { rng } from '../helpers/gradcheck.js';
import { REPO, fixtureModel } from '../helpers/paths.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'plmw-long-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('a 12,000-residue protein', () => {
  it('gets its contacts through plmw infer in under 60 s and 2 GB', async () => {
    const n = 12_000;
    const r = rng(4);
    const residues = 'LAGVSERTIDPKQNFYMHWC';
    const seq = Array.from({ length: n }, () => residues[Math.floor(r() * 20)]).join('');
    const fasta = path.join(tmp, 'long.fasta');
    writeFileSync(fasta, `>long\n${seq}\n`);
    const out = path.join(tmp, 'long.safetensors');
    const rssFile = path.join(tmp, 'rss');
    const t0 = performance.now();
    const p = spawnSync(process.execPath, ['--import', 'tsx', '--import', './test/helpers/report-max-rss.ts', 'src-main/cli/main.ts', 'infer', '--model', fixtureModel('tiny'), '--fasta', fasta, '--out', out, '--emit', 'contacts'], {
      cwd: REPO,
      encoding: 'utf8',
      env: { ...process.env, PLMW_MAX_RSS_FILE: rssFile },
      timeout: 120_000,
    });
    const seconds = (performance.now() - t0) / 1000;
    expect(p.status, p.stderr).toBe(0);
    const rss = Number(readFileSync(rssFile, 'utf8'));
    console.log(`plmw infer --emit contacts, ${n} residues, tiny model: ${seconds.toFixed(1)} s, peak RSS ${(rss / 1e9).toFixed(2)} GB`);
    expect(seconds).toBeLessThan(60);
    expect(rss).toBeLessThan(2e9);

    const file = readSafetensors(out);
    const t = file.tensors.get('long/contacts')!;
    expect(t.shape).toEqual([n, n]);
    const contacts = t.toFloat32();
    const ranges = windowRanges(n, 1022, 256);
    expect(JSON.parse(file.metadata['long/long_sequence']).ranges).toEqual(ranges);
    expect(contacts[0 * n + 5000]).toBe(0); // no window holds both
    // (6000, 6040): the window where the nearer-to-an-edge one is farthest from an edge
    const [i, j] = [6000, 6040];
    let best = -1;
    let score = -1;
    ranges.forEach(([s, e], k) => {
      if (i < s || j >= e) return;
      const c = Math.min(i - s, e - 1 - j);
      if (c > score) [best, score] = [k, c];
    });
    const [s, e] = ranges[best];
    const model = await loadModel(fixtureModel('tiny'));
    const runner = await Esm2Runner.create(model, ['contacts']);
    try {
      const one = runner.unpad(await runner.runBatch([seq.slice(s, e)]), 0, e - s)[0];
      expect(contacts[i * n + j]).toBeCloseTo(one.data[(i - s) * (e - s) + (j - s)], 6);
      expect(contacts[j * n + i]).toBeCloseTo(one.data[(j - s) * (e - s) + (i - s)], 6);
    } finally {
      await runner.release();
    }
  });
});
