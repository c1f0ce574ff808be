import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FastaParser, parseFasta, readFastaFile } from '../../src-main/engine/data/fasta.js';
import { InputError } from '../../src-main/engine/data/errors.js';

const F = 'in.fasta';
const parse = (text: string, strict = false) => parseFasta(text, { file: F, strict });

describe('FASTA parser: accepted records', () => {
  it('reads ids, descriptions, multi-line sequences and header line numbers', () => {
    const r = parse('>sp|P1|A first protein\nMKT\nVRQ\n\n>P2\nACDE\n');
    expect(r.records).toEqual([
      { id: 'sp|P1|A', description: 'first protein', sequence: 'MKTVRQ', line: 1 },
      { id: 'P2', description: '', sequence: 'ACDE', line: 5 },
    ]);
    expect(r.notes).toEqual([]);
  });

  it('handles CRLF exactly like LF, and a last line without newline', () => {
    const lf = parse('>a x y\nMKT\nAC\n>b\nGG');
    const crlf = parse('>a x y\r\nMKT\r\nAC\r\n>b\r\nGG');
    expect(crlf).toEqual(lf);
    expect(lf.records.map((r) => r.sequence)).toEqual(['MKTAC', 'GG']);
    expect(lf.records[0].description).toBe('x y');
  });

  it('ignores whitespace inside sequence lines and blank lines', () => {
    const r = parse('\n\n>a\nMKT VRQ\tEE \n  \nAC\n');
    expect(r.records[0].sequence).toBe('MKTVRQEEAC');
    expect(r.notes).toEqual([]);
  });

  it('keeps the ambiguous/rare residues X B Z U O (they are ESM tokens)', () => {
    const r = parse('>a\nMXBZUOA\n');
    expect(r.records[0].sequence).toBe('MXBZUOA');
    expect(r.notes).toEqual([]);
  });

  it('folds lowercase to uppercase and notes it once per record', () => {
    const r = parse('>a\nmktV\nrq\n>b\nAC\n');
    expect(r.records[0].sequence).toBe('MKTVRQ');
    expect(r.notes).toEqual([{ kind: 'changed', message: '5 lowercase residue(s) folded to uppercase', loc: { file: F, record: 'a', line: 1 } }]);
  });

  it('strips a single terminal * and notes where it was', () => {
    const r = parse('>a\nMKT\nVR*\n>b\nAC*  \r\n\n');
    expect(r.records.map((x) => x.sequence)).toEqual(['MKTVR', 'AC']);
    expect(r.notes).toEqual([
      { kind: 'changed', message: "terminal '*' stripped", loc: { file: F, record: 'a', line: 3, column: 3 } },
      { kind: 'changed', message: "terminal '*' stripped", loc: { file: F, record: 'b', line: 5, column: 3 } },
    ]);
  });

  it('removes a UTF-8 byte-order mark, with a note', () => {
    const r = parse('\uFEFF>a\nMK\n');
    expect(r.records[0].id).toBe('a');
    expect(r.notes[0]).toMatchObject({ kind: 'changed', loc: { line: 1 } });
  });

  it('trims leading whitespace after > when taking the id', () => {
    expect(parse('>  id1  some text \nM\n').records[0]).toMatchObject({ id: 'id1', description: 'some text' });
  });
});

describe('FASTA parser: rejections are located and reported', () => {
  it('rejects a * inside a sequence at its line and column', () => {
    const r = parse('>ok\nMK\n>bad\nMK*T\n>ok2\nA\n');
    expect(r.records.map((x) => x.id)).toEqual(['ok', 'ok2']);
    expect(r.notes).toHaveLength(1);
    expect(r.notes[0]).toMatchObject({ kind: 'rejected', loc: { file: F, record: 'bad', line: 4, column: 3 } });
    expect(r.notes[0].message).toMatch(/'\*' inside/);
  });

  it('rejects a * followed by residues on a later line, and a double **', () => {
    const a = parse('>a\nMK*\nAA\n');
    expect(a.records).toEqual([]);
    expect(a.notes[0]).toMatchObject({ kind: 'rejected', loc: { line: 2, column: 3 } });
    const b = parse('>b\nMK**\n');
    expect(b.records).toEqual([]);
    expect(b.notes[0]).toMatchObject({ kind: 'rejected', loc: { line: 2, column: 3 } });
  });

  it('rejects characters outside the ESM alphabet with their position', () => {
    const r = parse('>a desc\nMKTV\nAC J\n>b\nM1\n>c\nMÄ\n');
    expect(r.records).toEqual([]);
    expect(r.notes.map((n) => [n.loc.record, n.loc.line, n.loc.column])).toEqual([
      ['a', 3, 4],
      ['b', 5, 2],
      ['c', 7, 2],
    ]);
    expect(r.notes[0].message).toBe("character 'J' is not in the ESM alphabet");
    expect(r.notes[2].message).toMatch(/U\+00C4/);
  });

  it('rejects gap symbols unless allowGaps is set', () => {
    const r = parse('>a\nMK-T.A\n');
    expect(r.records).toEqual([]);
    expect(r.notes[0].message).toMatch(/gap symbol/);
    expect(r.notes[0].loc).toMatchObject({ line: 2, column: 3 });
    expect(parseFasta('>a\nMK-T.A\n', { allowGaps: true }).records[0].sequence).toBe('MK-T.A');
  });

  it('rejects empty records, including one at the end of the file', () => {
    const r = parse('>e1\n>a\nM\n>e2 nothing here\n\n>e3\n*\n>e4');
    expect(r.records.map((x) => x.id)).toEqual(['a']);
    expect(r.notes.map((n) => [n.loc.record, n.loc.line, n.message])).toEqual([
      ['e1', 1, 'empty record: header with no residues'],
      ['e2', 4, 'empty record: header with no residues'],
      ['e3', 6, "sequence is only '*'"],
      ['e4', 8, 'empty record: header with no residues'],
    ]);
  });

  it('rejects later duplicate ids and names both lines', () => {
    const r = parse('>x\nMK\n>y\nAA\n>x other\nGG\n');
    expect(r.records.map((x) => [x.id, x.sequence])).toEqual([
      ['x', 'MK'],
      ['y', 'AA'],
    ]);
    expect(r.notes).toHaveLength(1);
    expect(r.notes[0]).toMatchObject({ kind: 'rejected', loc: { record: 'x', line: 5 } });
    expect(r.notes[0].message).toMatch(/first at line 1, again at line 5/);
  });

  it('does not let a rejected record claim its id', () => {
    const r = parse('>x\nM*K\n>x\nAA\n');
    expect(r.records.map((x) => x.sequence)).toEqual(['AA']);
  });

  it('rejects a header without an id, located by record number', () => {
    const r = parse('>a\nM\n>\nAA\n>   \r\nGG\n');
    expect(r.records.map((x) => x.id)).toEqual(['a']);
    expect(r.notes).toHaveLength(2);
    expect(r.notes[0]).toMatchObject({ kind: 'rejected', message: 'header has no id', loc: { record: 2, line: 3, column: 2 } });
    expect(r.notes[1]).toMatchObject({ kind: 'rejected', loc: { record: 3, line: 5 } });
  });

  it('throws on text before the first header, even in lenient mode', () => {
    expect(() => parse('\n  MKT\n>a\nM\n')).toThrow(InputError);
    try {
      parse('\n  MKT\n>a\nM\n');
    } catch (e) {
      expect((e as InputError).loc).toEqual({ file: F, line: 2, column: 3 });
      expect((e as Error).message).toMatch(/^in\.fasta:2:3: text before the first '>'/);
    }
  });

  it('warns when there are no records', () => {
    expect(parse('\n\n').notes).toEqual([{ kind: 'warning', message: 'no FASTA records found', loc: { file: F } }]);
  });

  it('strict mode throws the first rejection as InputError, located', () => {
    let err: unknown;
    try {
      parse('>a\nMK\n>b\nMKZ9\n>c\nM*A\n', true);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).loc).toEqual({ file: F, record: 'b', line: 4, column: 4 });
    expect((err as Error).message).toBe("in.fasta:4:4 (record 'b'): character '9' is not in the ESM alphabet");
  });

  it('strict mode still accepts changed records', () => {
    const r = parse('>a\nmk*\n', true);
    expect(r.records[0].sequence).toBe('MK');
    expect(r.notes.map((n) => n.kind)).toEqual(['changed', 'changed']);
  });
});

describe('FASTA parser: streaming', () => {
  const text = '\uFEFF>a one\r\nMKT vr\r\nQ*\r\n>b\r\nAC*D\r\n>a\r\nGG\r\n>c\nXBZ\n\n>d';

  it('gives the same result for any chunking, including splits inside CRLF', () => {
    const whole = parseFasta(text, { file: F });
    for (const size of [1, 2, 3, 5, 7]) {
      const p = new FastaParser({ file: F });
      for (let i = 0; i < text.length; i += size) p.write(text.slice(i, i + size));
      expect(p.end()).toEqual(whole);
    }
    expect(whole.records.map((r) => r.id)).toEqual(['a', 'c']);
    expect(whole.notes.filter((n) => n.kind === 'rejected').map((n) => n.loc.record)).toEqual(['b', 'a', 'd']);
  });

  const dir = mkdtempSync(path.join(os.tmpdir(), 'plmw-fasta-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('streams a 100k-record file from disk quickly', async () => {
    const file = path.join(dir, 'big.fasta');
    const residues = 'LAGVSERTIDPKQNFYMHWC';
    const parts: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const len = 50 + (i % 150);
      let s = '';
      for (let j = 0; j < len; j++) s += residues[(i * 7 + j * 13) % 20];
      parts.push(`>seq${i} record ${i}\n${s.slice(0, 60)}\n${s.slice(60)}\n`);
    }
    writeFileSync(file, parts.join(''));
    const t0 = performance.now();
    const r = await readFastaFile(file);
    const ms = performance.now() - t0;
    expect(r.records).toHaveLength(100_000);
    expect(r.notes).toEqual([]);
    expect(r.records[99_999]).toMatchObject({ id: 'seq99999', description: 'record 99999', line: 299_998 });
    expect(r.records[12_345].sequence).toHaveLength(50 + (12_345 % 150));
    expect(ms).toBeLessThan(10_000);
  });

  it('hands records to onRecord instead of keeping them', async () => {
    const file = path.join(dir, 'small.fasta');
    writeFileSync(file, '>a\nMK\n>b\nAC\n');
    const seen: string[] = [];
    const r = await readFastaFile(file, { onRecord: (rec) => seen.push(rec.id) });
    expect(seen).toEqual(['a', 'b']);
    expect(r.records).toEqual([]);
  });

  it('locates problems by the real file path', async () => {
    const file = path.join(dir, 'bad.fasta');
    writeFileSync(file, '>a\nM#\n');
    const r = await readFastaFile(file);
    expect(r.notes[0].loc).toEqual({ file, record: 'a', line: 2, column: 2 });
  });
});
