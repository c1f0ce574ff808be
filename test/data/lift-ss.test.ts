import { describe, expect, it } from 'vitest';
import { InputError } from '../../src-main/engine/data/errors.js';
import { SS3_STATES, SS8_STATES, encodeSs } from '../../src-main/engine/data/labels-ss.js';
import { parseLiftSs, readLiftSsFile } from '../../src-main/engine/data/lift-ss.js';
import { shared } from '../helpers/paths.js';

describe('LIFT_SS parser (synthetic)', () => {
  it('reads records with CRLF, blank lines and trailing whitespace', () => {
    const r = parseLiftSs('>a\r\nMKV \r\nLHE\t\r\n\r\n>b\nGG\nXP\n', { file: 'f.txt' });
    expect(r.notes).toEqual([]);
    expect(r.records.map((x) => x.id)).toEqual(['a', 'b']);
    expect(r.records[0].sequence).toBe('MKV');
    expect(encodeSs(r.records[0].ss8!, SS8_STATES)).toBe('CHE');
    expect(encodeSs(r.records[0].ss3, SS3_STATES)).toBe('CHE');
    expect(r.records[0].loc).toEqual({ file: 'f.txt', record: 'a', line: 1 });
    expect(r.records[1].loc.line).toBe(5);
    // X masked, P -> C by default
    expect(encodeSs(r.records[1].ss8!, SS8_STATES)).toBe('-C');
    expect([...r.records[1].mask]).toEqual([0, 1]);
    expect(r.summary).toMatchObject({ residues: 5, scored: 4, countP: 1, countX: 1 });
  });

  it('keeps trailing spaces when they are coil needed to reach the sequence length', () => {
    const r = parseLiftSs('>a\nMKVA\nHH  \n');
    expect(r.notes).toEqual([]);
    expect(encodeSs(r.records[0].ss8!, SS8_STATES)).toBe('HHCC');
  });

  it('folds lowercase residues and says so', () => {
    const r = parseLiftSs('>a\nmkV\nLLL\n', { file: 'f' });
    expect(r.records[0].sequence).toBe('MKV');
    expect(r.notes).toEqual([{ kind: 'changed', message: '2 lowercase residue(s) folded to uppercase', loc: { file: 'f', record: 'a', line: 2 } }]);
  });

  it('rejects a length mismatch at the label line, column past the shorter string', () => {
    const r = parseLiftSs('>ok\nMK\nLL\n>bad\nMKVW\nLLH\n', { file: 'f' });
    expect(r.records.map((x) => x.id)).toEqual(['ok']);
    expect(r.notes).toEqual([
      { kind: 'rejected', message: 'label line has 3 labels but the sequence has 4 residues', loc: { file: 'f', record: 'bad', line: 6, column: 4 } },
    ]);
  });

  it('rejects unknown labels and residues at their column', () => {
    const r = parseLiftSs('>a\nMKV\nLQL\n>b\nM1V\nLLL\n', { file: 'f' });
    expect(r.records).toEqual([]);
    expect(r.notes.map((n) => [n.loc.record, n.loc.line, n.loc.column])).toEqual([
      ['a', 3, 2],
      ['b', 5, 2],
    ]);
    expect(r.notes[0].message).toMatch(/label 'Q' is not a DSSP state/);
    expect(r.notes[1].message).toMatch(/character '1' is not a residue/);
  });

  it('rejects wrapped or incomplete records and duplicate ids, never skipping silently', () => {
    const r = parseLiftSs('>a\nMK\nVL\nLLLL\n>b\nMK\n>c\nMK\nLL\n>c\nMV\nLL\n', { file: 'f' });
    expect(r.records.map((x) => x.id)).toEqual(['c']);
    expect(r.notes.map((n) => [n.kind, n.loc.record, n.loc.line])).toEqual([
      ['rejected', 'a', 4],
      ['rejected', 'b', 5],
      ['rejected', 'c', 10],
    ]);
    expect(r.notes[0].message).toMatch(/wrapped lines are not supported/);
    expect(r.notes[1].message).toBe('record has a sequence but no label line');
    expect(r.notes[2].message).toMatch(/duplicate id 'c' \(first at line 7, again at line 10\)/);
  });

  it('throws the first rejection in strict mode, and text before a header always', () => {
    try {
      parseLiftSs('>a\nMK\nL\n', { file: 'f', strict: true });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).loc).toEqual({ file: 'f', record: 'a', line: 3, column: 2 });
    }
    expect(() => parseLiftSs('MK\n>a\nMK\nLL\n', { file: 'f' })).toThrow(/f:1:1: text before the first '>' header/);
  });
});

describe('LIFT_SS parser (shared data)', () => {
  // Counts checked independently from the raw files (records = header lines; P and X = label
  // letters; every file is strictly 3 lines per record with equal lengths).
  const expected: Record<string, { n: number; residues: number; p: number; x: number }> = {
    'CASP12.txt': { n: 47, residues: 13718, p: 178, x: 1276 },
    'CB433.txt': { n: 433, residues: 106122, p: 1612, x: 3345 },
    'CB634.txt': { n: 634, residues: 192164, p: 3513, x: 12973 },
    'CB634_valid.txt': { n: 512, residues: 130023, p: 1952, x: 8986 },
    'PISCES_25_valid.txt': { n: 512, residues: 127236, p: 2233, x: 8634 },
    'SPOT_1D_Valid.txt': { n: 983, residues: 215803, p: 0, x: 0 },
    'Test2016.txt': { n: 1213, residues: 287877, p: 0, x: 0 },
  };
  for (const [name, e] of Object.entries(expected)) {
    it(`parses every record of ${name}`, async () => {
      const r = await readLiftSsFile(shared('data', 'secondary-structure', 'lift_ss', name));
      expect(r.notes).toEqual([]);
      expect(r.records).toHaveLength(e.n);
      expect(r.summary.residues).toBe(e.residues);
      expect(r.summary.countP).toBe(e.p);
      expect(r.summary.countX).toBe(e.x);
      // default convention: only X is masked
      expect(r.summary.scored).toBe(e.residues - e.x);
      for (const rec of r.records) expect(rec.ss3.length).toBe(rec.sequence.length);
    });
  }

  it('decodes the first CASP12 record letter by letter', async () => {
    const r = await readLiftSsFile(shared('data', 'secondary-structure', 'lift_ss', 'CASP12.txt'));
    const first = r.records[0];
    expect(first.id).toBe('2n64_C');
    expect(first.sequence.startsWith('GHMEGKPKMEPAASSQ')).toBe(true);
    // raw labels start LLSLLSSLLSLLSLHHHH
    expect(encodeSs(first.ss8!, SS8_STATES).slice(0, 18)).toBe('CCSCCSSCCSCCSCHHHH');
    expect(encodeSs(first.ss3, SS3_STATES).slice(0, 18)).toBe('CCCCCCCCCCCCCCHHHH');
  });
});
