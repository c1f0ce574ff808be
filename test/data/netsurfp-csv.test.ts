import { describe, expect, it } from 'vitest';
import { InputError } from '../../src-main/engine/data/errors.js';
import { SS3_STATES, SS8_STATES, encodeSs } from '../../src-main/engine/data/labels-ss.js';
import { parseNetsurfpCsv, readNetsurfpCsvFile, tokenizeCsv } from '../../src-main/engine/data/netsurfp-csv.js';
import { shared } from '../helpers/paths.js';

const HEADER = 'input, dssp3, dssp8, disorder, cb513_mask';

describe('CSV tokenizer', () => {
  it('handles quotes, escaped quotes, commas and newlines inside quotes, CRLF and blank lines', () => {
    const rows = tokenizeCsv('a,"b,c"\r\n\r\n"x""y","p\nq",z\n', 'f');
    expect(rows.map((r) => [r.line, r.fields.map((f) => f.value)])).toEqual([
      [1, ['a', 'b,c']],
      [3, ['x"y', 'p\nq', 'z']],
    ]);
    // columns point at the first character of each value (after the quote)
    expect(rows[1].fields.map((f) => [f.line, f.column])).toEqual([
      [3, 2],
      [3, 9],
      [4, 4],
    ]);
  });

  it('rejects an unterminated quote at the quote', () => {
    expect(() => tokenizeCsv('a,"bc\n', 'f')).toThrow(InputError);
    expect(() => tokenizeCsv('a,"bc\n', 'f')).toThrow(/f:1:3: unterminated quoted field/);
  });
});

describe('NetSurfP CSV parser (synthetic)', () => {
  it('reads space-separated and contiguous fields, masks disorder and the evaluation mask', () => {
    const text = `${HEADER}\r\nM K V L,C H H E,C G H E,0.0 1.0 1.0 1.0,1.0 1.0 1.0 0.0\r\n"MKV","CHH","CGI","111","111"\r\n`;
    const r = parseNetsurfpCsv(text, { file: 'dir/CB513_HHblits.csv' });
    expect(r.notes).toEqual([]);
    expect(r.columns).toEqual(['input', 'dssp3', 'dssp8', 'disorder', 'cb513_mask']);
    const [a, b] = r.records;
    expect(a).toMatchObject({ id: 'CB513_HHblits_1', row: 1, sequence: 'MKVL' });
    expect(a.loc).toEqual({ file: 'dir/CB513_HHblits.csv', record: 'CB513_HHblits_1', line: 2 });
    // residue 1 disordered, residue 4 outside the evaluation mask
    expect(encodeSs(a.ss8!, SS8_STATES)).toBe('-GH-');
    expect(encodeSs(a.ss3, SS3_STATES)).toBe('-HH-');
    expect([...a.ordered!]).toEqual([0, 1, 1, 1]);
    expect([...a.evalMask!]).toEqual([1, 1, 1, 0]);
    expect(encodeSs(b.ss8!, SS8_STATES)).toBe('CGI');
    expect(b.loc.line).toBe(3);
    // without the evaluation mask residue 4 of row 1 is scored
    const all = parseNetsurfpCsv(text, { useEvalMask: false });
    expect([...all.records[0].mask]).toEqual([0, 1, 1, 1]);
  });

  it('rejects a row whose column lengths differ, at the column of the first extra or missing value', () => {
    const text = `${HEADER}\nM K V,C C C C,C C C,1 1 1,1 1 1\nM K,C C,C,1 1,1 1\n`;
    const r = parseNetsurfpCsv(text, { file: 'x.csv' });
    expect(r.records).toEqual([]);
    expect(r.notes.every((n) => n.kind === 'rejected')).toBe(true);
    expect(r.notes.map((n) => [n.message, n.loc.line, n.loc.column])).toEqual([
      ["column 'dssp3' has 4 values but input has 3 residues", 2, 13],
      ["column 'dssp8' has 1 values but input has 2 residues", 3, 10],
    ]);
  });

  it('rejects bad residues, labels and mask values where they are', () => {
    const text = `${HEADER}\nM J,C C,C C,1 1,1 1\nM K,C Q,C C,1 1,1 1\nM K,C C,C C,1 0.5,1 1\n`;
    const r = parseNetsurfpCsv(text, { file: 'x.csv' });
    expect(r.records).toEqual([]);
    expect(r.notes.map((n) => [n.loc.line, n.loc.column])).toEqual([
      [2, 3],
      [3, 7],
      [4, 15],
    ]);
    expect(r.notes[0].message).toMatch(/'J' is not a residue/);
    expect(r.notes[1].message).toMatch(/dssp3 label 'Q'/);
    expect(r.notes[2].message).toBe("column 'disorder' value '0.5' is not 0 or 1");
  });

  it('warns where dssp3 disagrees with the mapping of dssp8 and takes SS3 from dssp8', () => {
    const r = parseNetsurfpCsv('input,dssp3,dssp8\nM K V,C C E,C G E\n', { file: 'x.csv' });
    expect(encodeSs(r.records[0].ss3, SS3_STATES)).toBe('CHE');
    expect(r.notes).toEqual([
      {
        kind: 'warning',
        message: 'dssp3 disagrees with the SS8->SS3 mapping of dssp8 at 1 residue(s); SS3 is taken from dssp8',
        loc: { file: 'x.csv', record: 'x_1', line: 2, column: 9 },
      },
    ]);
  });

  it('requires input and a label column; warns about unknown columns', () => {
    expect(() => parseNetsurfpCsv('seq,dssp3\nM,C\n', { file: 'x' })).toThrow(/no 'input' column/);
    expect(() => parseNetsurfpCsv('input,asa\nM,1\n', { file: 'x' })).toThrow(/neither a 'dssp3' nor a 'dssp8'/);
    const r = parseNetsurfpCsv('input,dssp3,asa\nM,C,0.3\n', { file: 'x' });
    expect(r.records).toHaveLength(1);
    expect(r.notes).toEqual([{ kind: 'warning', message: "unknown column 'asa' ignored", loc: { file: 'x', line: 1, column: 13 } }]);
  });

  it('throws in strict mode', () => {
    expect(() => parseNetsurfpCsv(`${HEADER}\nM K,C,C C,1 1,1 1\n`, { file: 'x', strict: true })).toThrow(InputError);
  });
});

describe('NetSurfP CSV parser (shared data)', () => {
  // Independently counted from the files with Python's csv module: rows, residues, and
  // residues with disorder = 1 and cb513_mask = 1 (the scored ones).
  for (const [name, rows, residues, scored] of [
    ['CASP12_HHblits.csv', 20, 6801, 6004],
    ['CB513_HHblits.csv', 511, 144011, 83427],
    ['TS115_HHblits.csv', 115, 29704, 27501],
  ] as const) {
    it(`parses every row of ${name}`, async () => {
      const r = await readNetsurfpCsvFile(shared('data', 'secondary-structure', 'netsurfp', name));
      expect(r.notes).toEqual([]);
      expect(r.records).toHaveLength(rows);
      expect(r.summary.residues).toBe(residues);
      expect(r.summary.scored).toBe(scored);
    });
  }

  it('the first CB513 row matches the file', async () => {
    const r = await readNetsurfpCsvFile(shared('data', 'secondary-structure', 'netsurfp', 'CB513_HHblits.csv'));
    const x = r.records[0];
    expect(x.sequence.slice(0, 10)).toBe('RTDCYGNVNR');
    expect(x.sequence).toHaveLength(185);
    // dssp8 starts C C C T T C C G G G S
    expect(encodeSs(x.ss8!, SS8_STATES).slice(0, 11)).toBe('CCCTTCCGGGS');
  });
});
