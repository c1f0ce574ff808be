// The small writers in engine/export: CSV quoting (and a parse round trip), SignalP 6.0's GFF3
// layout, FASTA wrapping, JSON refusing non-finite numbers, and atomic writes (no temporary
// file left, an existing file replaced whole).
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { csvField, formatCsv, parseCsv, writeCsv } from '../../src-main/engine/export/csv.js';
import { formatFasta, writeFasta } from '../../src-main/engine/export/fasta.js';
import { GFF3_HEADER, formatGff3, formatScore, signalPeptideGff3, writeGff3 } from '../../src-main/engine/export/gff3.js';
import { formatJson, writeJson } from '../../src-main/engine/export/json.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'plmw-export-'));

describe('CSV', () => {
  it('quotes only what needs quoting and parses back', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField(null)).toBe('');
    expect(csvField(0.1)).toBe('0.1');
    const rows = [['x,1', 2, null], ['line\nbreak', -0.5, 'q"']];
    const text = formatCsv(['a', 'b', 'c'], rows);
    expect(parseCsv(text)).toEqual([['a', 'b', 'c'], ['x,1', '2', ''], ['line\nbreak', '-0.5', 'q"']]);
    expect(() => formatCsv(['a'], [[1, 2]])).toThrow(/2 fields/);
  });

  it('writes atomically, replacing an existing file and leaving no temporary file', () => {
    const d = tmp();
    const f = path.join(d, 'x.csv');
    writeFileSync(f, 'old content that is longer than the new one\n');
    writeCsv(f, ['id'], [['A']]);
    expect(readFileSync(f, 'utf8')).toBe('id\nA\n');
    expect(readdirSync(d)).toEqual(['x.csv']);
  });
});

describe('GFF3 in SignalP 6.0 layout', () => {
  it('writes the header and one tab-separated line per signal peptide', () => {
    const lines = [
      signalPeptideGff3('P1', 'SP', 22, 0.99870001),
      signalPeptideGff3('P2', 'LIPO', 19, 0.5),
      signalPeptideGff3('P3', 'TAT', 30, 0.25),
      signalPeptideGff3('P4', 'TATLIPO', 25, 0.125),
      signalPeptideGff3('P5', 'PILIN', 6, 1),
      signalPeptideGff3('P6', 'NO_SP', null, 0.9),
      signalPeptideGff3('P7', 'SP', null, 0.9),
    ];
    expect(lines.slice(5)).toEqual([null, null]);
    const text = formatGff3(lines.filter((l) => l !== null));
    expect(text.split('\n')).toEqual([
      GFF3_HEADER,
      'P1\tSignalP-6.0\tsignal_peptide\t1\t22\t0.9987\t.\t.\t.',
      'P2\tSignalP-6.0\tlipoprotein_signal_peptide\t1\t19\t0.5\t.\t.\t.',
      'P3\tSignalP-6.0\tsignal_peptide\t1\t30\t0.25\t.\t.\tNote=TAT',
      'P4\tSignalP-6.0\tlipoprotein_signal_peptide\t1\t25\t0.125\t.\t.\tNote=TAT',
      'P5\tSignalP-6.0\tsignal_peptide\t1\t6\t1\t.\t.\tNote=Pilin',
      '',
    ]);
    expect(GFF3_HEADER).toBe('## gff-version 3');
    expect(formatScore(0.123456789)).toBe('0.1234568');
    expect(signalPeptideGff3('a;b c', 'SP', 3, 0.5, 'plm-workbench')).toMatchObject({ source: 'plm-workbench' });
    expect(formatGff3([{ seqid: 'a\tb', source: 's', type: 't', start: 1, end: 2, score: null, attributes: { Note: 'x;y=z' } }])).toContain('a%09b\ts\tt\t1\t2\t.\t.\t.\tNote=x%3By%3Dz');
    expect(() => formatGff3([{ seqid: 'a', source: 's', type: 't', start: 0, end: 2, score: 1 }])).toThrow(/interval/);
    const d = tmp();
    writeGff3(path.join(d, 'o.gff3'), []);
    expect(readFileSync(path.join(d, 'o.gff3'), 'utf8')).toBe('## gff-version 3\n');
  });
});

describe('FASTA and JSON', () => {
  it('wraps FASTA at 60 residues and refuses ids with whitespace', () => {
    const seq = 'A'.repeat(61);
    expect(formatFasta([{ id: 'x', description: 'mature: cut', sequence: seq }])).toBe(`>x mature: cut\n${'A'.repeat(60)}\nA\n`);
    expect(formatFasta([{ id: 'y', sequence: 'MK' }], 0)).toBe('>y\nMK\n');
    expect(() => formatFasta([{ id: 'a b', sequence: 'M' }])).toThrow(/whitespace/);
    const d = tmp();
    writeFasta(path.join(d, 'm.fasta'), [{ id: 'z', sequence: 'MKV' }]);
    expect(readFileSync(path.join(d, 'm.fasta'), 'utf8')).toBe('>z\nMKV\n');
  });

  it('writes typed arrays as arrays and refuses NaN and Infinity', () => {
    expect(JSON.parse(formatJson({ a: Float64Array.of(1, 2), b: 'x' }))).toEqual({ a: [1, 2], b: 'x' });
    expect(() => formatJson({ m: Number.NaN })).toThrow(/m is NaN/);
    expect(() => formatJson([Infinity])).toThrow(/Infinity/);
    const d = tmp();
    writeJson(path.join(d, 'o.json'), { ok: true });
    expect(readFileSync(path.join(d, 'o.json'), 'utf8')).toBe('{\n  "ok": true\n}\n');
    expect(readdirSync(d)).toEqual(['o.json']);
  });
});
