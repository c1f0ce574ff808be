import { describe, expect, it } from 'vitest';
import { SS3_STATES, encodeSs } from '../../src-main/engine/data/labels-ss.js';
import { parseFlip, readFlipFile } from '../../src-main/engine/data/flip.js';
import { shared } from '../helpers/paths.js';

describe('FLIP parser (synthetic)', () => {
  it('reads header attributes, labels and the resolved mask', () => {
    const r = parseFlip('>1abc-A SET=train VALIDATION=True\r\nMKVL\r\nCHHE\r\n0110\r\n', { file: 'f' });
    expect(r.notes).toEqual([]);
    const [x] = r.records;
    expect(x).toMatchObject({ id: '1abc-A', set: 'train', validation: true, sequence: 'MKVL', ss8: null });
    expect(x.attributes).toEqual({ SET: 'train', VALIDATION: 'True' });
    expect([...x.resolved]).toEqual([0, 1, 1, 0]);
    // unresolved residues masked whatever their letter
    expect(encodeSs(x.ss3, SS3_STATES)).toBe('-HH-');
    expect([...x.mask]).toEqual([0, 1, 1, 0]);
    expect(r.summary).toMatchObject({ residues: 4, scored: 2 });
  });

  it('locates length mismatches, bad mask digits and bad labels', () => {
    const text = ['>a', 'MKV', 'CCC', '01', '>b', 'MKV', 'CCC', '012', '>c', 'MKV', 'CGC', '111', '>d', 'MKV', 'CCC'].join('\n');
    const r = parseFlip(text, { file: 'f' });
    expect(r.records).toEqual([]);
    expect(r.notes.map((n) => [n.loc.record, n.loc.line, n.loc.column])).toEqual([
      ['a', 4, 3],
      ['b', 8, 3],
      ['c', 11, 2],
      ['d', 13, undefined],
    ]);
    expect(r.notes[0].message).toBe('resolved line has 2 digits but the sequence has 3 residues');
    expect(r.notes[1].message).toBe("resolved mask '2' is not 0 or 1");
    expect(r.notes[2].message).toMatch(/label 'G' is not a 3-state label/);
    expect(r.notes[3].message).toMatch(/record has 2 line\(s\) after the header/);
  });

  it('warns about odd header tokens without rejecting the record', () => {
    const r = parseFlip('>a junk VALIDATION=maybe\nMK\nCC\n11\n', { file: 'f' });
    expect(r.records).toHaveLength(1);
    expect(r.records[0].validation).toBeNull();
    expect(r.notes.map((n) => n.kind)).toEqual(['warning', 'warning']);
  });
});

describe('FLIP parser (shared data)', () => {
  // Independently counted from the files: records = header lines, scored = '1' digits in the
  // resolved lines; all headers are SET=train, VALIDATION=False (train) / True (val).
  for (const [name, n, residues, scored, validation] of [
    ['train.ss3.txt', 9712, 2479773, 2319963, false],
    ['val.ss3.txt', 1080, 280780, 262853, true],
  ] as const) {
    it(`parses every record of ${name}`, async () => {
      const r = await readFlipFile(shared('data', 'secondary-structure', 'flip', name));
      expect(r.notes).toEqual([]);
      expect(r.records).toHaveLength(n);
      expect(r.summary.residues).toBe(residues);
      expect(r.summary.scored).toBe(scored);
      expect(r.records.every((x) => x.set === 'train' && x.validation === validation)).toBe(true);
    });
  }
});
