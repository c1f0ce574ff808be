// The sample files shipped in resources/ parse as their README says.
import path from 'node:path';
import { expect, it } from 'vitest';
import { readFastaFile } from '../../src-main/engine/data/fasta.js';
import { REPO } from '../helpers/paths.js';

it('ships two clean sample proteins and a file with exactly one rejected record', async () => {
  const good = await readFastaFile(path.join(REPO, 'resources/samples/proteins.fasta'));
  expect(good.records.map((r) => [r.id, r.sequence.length])).toEqual([['ubiquitin', 76], ['lysozyme', 148]]);
  expect(good.notes).toEqual([]);
  const bad = await readFastaFile(path.join(REPO, 'resources/samples/bad-record.fasta'));
  expect(bad.records.map((r) => r.id)).toEqual(['ubiquitin', 'lysozyme']);
  const rejected = bad.notes.filter((n) => n.kind === 'rejected');
  expect(rejected).toHaveLength(1);
  expect(rejected[0].loc).toMatchObject({ record: 'broken', line: 4 });
});

it('lists every sample in index.json, and each one reads as what it is for', async () => {
  const { listSamples } = await import('../../src-main/engine/samples.js');
  const { readDataFile } = await import('../../src-main/engine/data/detect.js');
  const { parsePredictInput } = await import('../../src-main/engine/tasks/predict-input.js');
  const { readFileSync, readdirSync } = await import('node:fs');
  const { samples } = listSamples(path.join(REPO, 'resources'));
  const files = readdirSync(path.join(REPO, 'resources/samples')).filter((f) => f !== 'index.json' && f !== 'bad-record.fasta');
  expect(samples.map((s) => s.name).sort()).toEqual(files.sort());
  for (const s of samples) {
    expect(s.licence, s.name).not.toBe('');
    if (s.use === 'structure') {
      expect(readFileSync(s.path, 'utf8')).toMatch(/^ATOM /m);
      continue;
    }
    if (s.use === 'sequences') {
      const p = parsePredictInput(readFileSync(s.path, 'utf8'), s.name);
      expect(p.notes.filter((n) => n.kind === 'rejected'), s.name).toEqual([]);
      expect(p.records.length).toBeGreaterThan(1);
      continue;
    }
    const d = await readDataFile(s.path, { strict: true });
    expect(d.format, s.name).toBe(s.use.startsWith('ss') ? 'flip' : 'signalp');
    expect(d.result.records.length).toBeGreaterThanOrEqual(s.use.endsWith('train') ? 20 : 8);
  }
  // the mixed file keeps whole ids and gives the SignalP-style ones their kingdom hint
  const mixed = parsePredictInput(readFileSync(path.join(REPO, 'resources/samples/mixed-headers.fasta'), 'utf8'), 'mixed');
  for (const r of mixed.records.slice(0, 6)) {
    expect(r.id).toMatch(/^\w+\|[A-Z]+\|[A-Z_]+\|\d$/);
    expect(r.kingdomHint).toBe(r.id.split('|')[1]);
  }
  expect(mixed.records.slice(6).map((r) => [r.id, r.kingdomHint])).toEqual([['ubiquitin', null], ['lysozyme', null]]);
});
