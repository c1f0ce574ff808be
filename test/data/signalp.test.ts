import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src-main/engine/data/errors.js';
import { checkLabelsAgainstType, cleavageSiteOf, parseSignalP, readSignalPFile } from '../../src-main/engine/data/signalp.js';
import { shared } from '../helpers/paths.js';

const sp6 = (name: string) => shared('data', 'signalp6', name);

describe('SignalP 3-line parser (synthetic)', () => {
  it('reads header fields, sequence, labels and the cleavage site', () => {
    const r = parseSignalP('>P1|EUKARYA|SP|2\r\nMKKLLAVQ\r\nSSSSSOOO\r\n>P2|NEGATIVE|NO_SP|0\nMKV\nIMO\n', { file: 'f' });
    expect(r.notes).toEqual([]);
    expect(r.labelled).toBe('all');
    expect(r.records[0]).toEqual({
      id: 'P1',
      kingdom: 'EUKARYA',
      type: 'SP',
      partition: 2,
      sequence: 'MKKLLAVQ',
      labels: 'SSSSSOOO',
      cleavageSite: 5,
      loc: { file: 'f', record: 'P1', line: 1 },
    });
    expect(r.records[1]).toMatchObject({ id: 'P2', type: 'NO_SP', cleavageSite: null, loc: { line: 4 } });
  });

  it('accepts prediction inputs without a label line', () => {
    const r = parseSignalP('>A|ARCHAEA|NO_SP|0\nMKV\n>B|POSITIVE|LIPO|1\nMKVC\n');
    expect(r.labelled).toBe('none');
    expect(r.records.map((x) => [x.id, x.labels, x.cleavageSite])).toEqual([
      ['A', null, null],
      ['B', null, null],
    ]);
  });

  it('warns about mixed files, long sequences and lowercase residues', () => {
    const long = 'M'.repeat(72);
    const r = parseSignalP(`>A|ARCHAEA|NO_SP|0\nmkv\nIII\n>B|ARCHAEA|NO_SP|0\n${long}\n`, { file: 'f' });
    expect(r.records).toHaveLength(2);
    expect(r.records[0].sequence).toBe('MKV');
    expect(r.notes).toEqual([
      { kind: 'changed', message: '3 lowercase residue(s) folded to uppercase', loc: { file: 'f', record: 'A', line: 2 } },
      { kind: 'warning', message: 'sequence has 72 residues; SignalP-style models read only the first 70', loc: { file: 'f', record: 'B', line: 5, column: 71 } },
      { kind: 'warning', message: '1 record(s) have a label line and 1 do not', loc: { file: 'f' } },
    ]);
  });

  it('rejects bad headers at the offending field', () => {
    const text = [
      '>A|EUKARYOTA|SP|0', 'MK', 'SO',
      '>B|EUKARYA|SPII|0', 'MK', 'SO',
      '>C|EUKARYA|SP|x1', 'MK', 'SO',
      '>D|EUKARYA|SP', 'MK', 'SO',
      '>|EUKARYA|SP|0', 'MK', 'SO',
    ].join('\n');
    const r = parseSignalP(text, { file: 'f' });
    expect(r.records).toEqual([]);
    expect(r.notes.map((n) => [n.loc.record, n.loc.line, n.loc.column])).toEqual([
      ['A', 1, 4],
      ['B', 4, 12],
      ['C', 7, 15],
      ['D', 10, 2],
      [5, 13, 2],
    ]);
    expect(r.notes[0].message).toMatch(/kingdom 'EUKARYOTA' is not one of/);
    expect(r.notes[1].message).toMatch(/type 'SPII' is not one of/);
    expect(r.notes[2].message).toMatch(/partition 'x1' is not a non-negative integer/);
    expect(r.notes[3].message).toMatch(/header has 3 '\|'-separated field/);
    expect(r.notes[4].message).toBe('header has an empty accession');
  });

  it('rejects bad labels, length mismatches and labels that contradict the type, at the column', () => {
    const text = [
      '>A|EUKARYA|SP|0', 'MKVL', 'SSXO',
      '>B|EUKARYA|SP|0', 'MKVL', 'SSO',
      '>C|EUKARYA|NO_SP|0', 'MKVL', 'IISO',
      '>D|NEGATIVE|LIPO|0', 'MKVL', 'LLSO',
      '>E|NEGATIVE|TAT|0', 'MKVL', 'TOTO',
      '>F|NEGATIVE|SP|0', 'MKVL', 'OOOO',
    ].join('\n');
    const r = parseSignalP(text, { file: 'f' });
    expect(r.records).toEqual([]);
    expect(r.notes.map((n) => [n.loc.record, n.loc.line, n.loc.column, n.message])).toEqual([
      ['A', 3, 3, "label 'X' is not a SignalP letter (S L T P I M O)"],
      ['B', 6, 4, 'label line has 3 labels but the sequence has 4 residues'],
      ['C', 9, 3, "type NO_SP but label 'S' marks a signal peptide"],
      ['D', 12, 3, "label 'S' is not the signal-peptide letter of type LIPO ('L')"],
      ['E', 15, 3, "signal-peptide letter 'T' after the mature part began (the signal peptide must be one leading run)"],
      ['F', 18, 1, "type SP but the labels do not start with its signal-peptide letter 'S'"],
    ]);
  });

  it('rejects duplicate accessions (the later one) and extra lines; strict mode throws', () => {
    const r = parseSignalP('>A|EUKARYA|NO_SP|0\nMK\nII\n>A|EUKARYA|NO_SP|1\nMV\nII\n>B|EUKARYA|NO_SP|0\nMK\nII\nII\n', { file: 'f' });
    expect(r.records.map((x) => [x.id, x.partition])).toEqual([['A', 0]]);
    expect(r.notes.map((n) => [n.loc.record, n.loc.line])).toEqual([
      ['A', 4],
      ['B', 10],
    ]);
    expect(r.notes[0].message).toMatch(/duplicate accession 'A' \(first at line 1, again at line 4\)/);
    expect(() => parseSignalP('>A|EUKARYA|NO_SP|0\nMK\nIX\n', { file: 'f', strict: true })).toThrow(InputError);
  });

  it('computes cleavage sites and type agreement directly', () => {
    expect(cleavageSiteOf('SSSOOO')).toBe(3);
    expect(cleavageSiteOf('PPPPOMMMO')).toBe(4);
    expect(cleavageSiteOf('IIIMMM')).toBeNull();
    expect(checkLabelsAgainstType('TTTOOO', 'TATLIPO')).toBeNull();
    expect(checkLabelsAgainstType('OOMMII', 'NO_SP')).toBeNull();
  });
});

describe('SignalP 3-line parser (shared data)', () => {
  it('parses every record of the training partitions and agrees with an independent reading', async () => {
    const file = sp6('train_set.partitions-0-1.fasta');
    const r = await readSignalPFile(file);
    expect(r.notes).toEqual([]);
    expect(r.labelled).toBe('all');
    expect(r.records).toHaveLength(13288);
    const byType: Record<string, number> = {};
    for (const x of r.records) byType[x.type] = (byType[x.type] ?? 0) + 1;
    // counted from the headers with a separate script
    expect(byType).toEqual({ NO_SP: 10165, SP: 1695, LIPO: 1090, TAT: 254, TATLIPO: 21, PILIN: 63 });
    expect(new Set(r.records.map((x) => x.partition))).toEqual(new Set([0, 1]));
    // Independent check against SignalP 6.0's own CS definition (RegionCRFDataset): the last
    // index of the type's letter + 1, read straight from the raw lines.
    const lines = readFileSync(file, 'utf8').split('\n');
    const letter: Record<string, string> = { SP: 'S', LIPO: 'L', TAT: 'T', TATLIPO: 'T', PILIN: 'P' };
    r.records.forEach((x, k) => {
      const [h, s, l] = lines.slice(3 * k, 3 * k + 3);
      expect(h.slice(1).split('|')[0]).toBe(x.id);
      expect(s).toBe(x.sequence);
      const type = h.split('|')[2];
      expect(x.cleavageSite).toBe(type === 'NO_SP' ? null : l.lastIndexOf(letter[type]) + 1);
    });
  });

  for (const [name, n] of [
    ['small_dataset_10.partitions-0-1.fasta', 302],
    ['small_dataset_20.partitions-0-1.fasta', 539],
    ['small_dataset_30.partitions-0-1.fasta', 737],
  ] as const) {
    it(`parses every record of ${name}`, async () => {
      const r = await readSignalPFile(sp6(name));
      expect(r.notes).toEqual([]);
      expect(r.labelled).toBe('all');
      expect(r.records).toHaveLength(n);
    });
  }

  it('parses the unlabelled prediction test case', async () => {
    const r = await readSignalPFile(sp6('prediction_testcase.partitions-0-1.fasta'));
    expect(r.notes).toEqual([]);
    expect(r.labelled).toBe('none');
    expect(r.records).toHaveLength(30);
    expect(r.records[0]).toMatchObject({ id: 'O28846', kingdom: 'ARCHAEA', type: 'NO_SP', labels: null });
  });
});
