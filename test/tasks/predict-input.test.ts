// What prediction reads: any FASTA, ids whole, SignalP-style headers as kingdom hints, 3-line
// records without their label line, and rejections located at their real line.
import { describe, expect, it } from 'vitest';
import { kingdomHintOf, parsePredictInput } from '../../src-main/engine/tasks/predict-input.js';

describe('prediction input', () => {
  it('keeps whole ids and reads the kingdom of SignalP-style headers only', () => {
    expect(kingdomHintOf('P12345|EUKARYA|SP|0')).toBe('EUKARYA');
    expect(kingdomHintOf('P12345|negative')).toBe('NEGATIVE');
    expect(kingdomHintOf('sp|P61626|LYSC_HUMAN')).toBeNull();
    expect(kingdomHintOf('plain')).toBeNull();
    const p = parsePredictInput('>A1|EUKARYA|SP|0\nMKKLLLAVAVAG\nSSSSSSOOOOOO\n>plain a plain header\nMKVLA\n>sp|P1|X_HUMAN\nMQIFV\nKTLTG\n', 'mine.fasta');
    expect(p.format).toBe('fasta');
    expect(p.records).toEqual([
      { id: 'A1|EUKARYA|SP|0', sequence: 'MKKLLLAVAVAG', kingdomHint: 'EUKARYA' },
      { id: 'plain', sequence: 'MKVLA', kingdomHint: null },
      { id: 'sp|P1|X_HUMAN', sequence: 'MQIFVKTLTG', kingdomHint: null },
    ]);
    expect(p.notes).toEqual([{ kind: 'changed', message: expect.stringMatching(/label line of a SignalP 3-line record left out/), loc: { file: 'mine.fasta', record: 'A1|EUKARYA|SP|0', line: 3 } }]);
  });

  it('reads a second line of a SignalP-headed record as residues when it is no label line', () => {
    // a wrapped sequence: the second line has letters outside S L T P I M O, or another length
    const p = parsePredictInput('>A1|EUKARYA|SP|0\nMKKLLLAVAV\nAGQW\n>A2|ARCHAEA|NO_SP|1\nMKV\nIIIO\n', 'f');
    expect(p.records.map((r) => r.sequence)).toEqual(['MKKLLLAVAVAGQW', 'MKVIIIO']);
    expect(p.notes).toEqual([]);
  });

  it('locates a rejected record at its line even after a label line was left out', () => {
    const p = parsePredictInput('>A1|EUKARYA|SP|0\nMKKL\nSSOO\n>bad\nMK1V\n', 'f.fasta');
    const rejected = p.notes.filter((n) => n.kind === 'rejected');
    expect(rejected).toEqual([{ kind: 'rejected', message: expect.stringMatching(/character '1'/), loc: { file: 'f.fasta', record: 'bad', line: 5, column: 3 } }]);
  });

  it('reads labelled data files by their own parser (ids and sequences only)', () => {
    const flip = parsePredictInput('>1abc-A SET=train VALIDATION=False\nMKVLA\nCCHHC\n01111\n', 'x.txt');
    expect(flip.format).toBe('flip');
    expect(flip.records).toEqual([{ id: '1abc-A', sequence: 'MKVLA', kingdomHint: null }]);
    expect(() => parsePredictInput('hello\n', 'x.txt')).toThrow(/cannot tell the data format/);
  });
});
