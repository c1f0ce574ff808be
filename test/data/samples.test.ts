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
