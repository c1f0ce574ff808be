// Text as strangers write it: old Mac line endings, Unicode line separators, bytes that are not
// UTF-8, records full of wrong characters, DNA given where protein is expected. Every parser
// answers with located notes or an InputError, never an internal exception.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readDataFile } from '../../src-main/engine/data/detect.js';
import { InputError } from '../../src-main/engine/data/errors.js';
import { FastaParser, parseFasta, readFastaFile } from '../../src-main/engine/data/fasta.js';
import { parseFlip } from '../../src-main/engine/data/flip.js';
import { parseLiftSs } from '../../src-main/engine/data/lift-ss.js';
import { MAX_LISTED } from '../../src-main/engine/data/lines.js';
import { parseNetsurfpCsv } from '../../src-main/engine/data/netsurfp-csv.js';
import { parseSignalP } from '../../src-main/engine/data/signalp.js';
import { Utf8Stream, decodeUtf8, firstInvalidUtf8 } from '../../src-main/engine/data/utf8.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'plmw-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, data: string | Uint8Array) => {
  const f = path.join(dir, name);
  writeFileSync(f, data);
  return f;
};
const caught = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
};
const caughtAsync = async (p: Promise<unknown>): Promise<unknown> => p.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e);

describe('line endings: CR, CRLF and LF all end a line', () => {
  it('FASTA with old Mac line endings reads like LF (it used to crash on the header)', () => {
    const lf = parseFasta('>a first one\nMKT\nVRQ\n>b\nACDE\n', { file: 'f' });
    const cr = parseFasta('>a first one\rMKT\rVRQ\r>b\rACDE\r', { file: 'f' });
    const mixed = parseFasta('>a first one\r\nMKT\rVRQ\n>b\r\rACDE', { file: 'f' });
    expect(cr).toEqual(lf);
    expect(mixed.records).toEqual([lf.records[0], { ...lf.records[1], line: 4 }]);
    expect(lf.records.map((r) => r.sequence)).toEqual(['MKTVRQ', 'ACDE']);
  });

  it('a CR at the end of one piece and the LF at the start of the next are one line break', () => {
    const p = new FastaParser({ file: 'f' });
    for (const piece of ['>a\r', '\nMK\r', '\r', '\nGG\r', '>b\rAC']) p.write(piece);
    const r = p.end();
    expect(r.records).toEqual([
      { id: 'a', description: '', sequence: 'MKGG', line: 1 },
      { id: 'b', description: '', sequence: 'AC', line: 5 },
    ]);
  });

  it('the labelled formats read CR-only files (plmw train used to crash on them)', () => {
    const lift = parseLiftSs('>a\rMKTV\rLHHE\r>b\rAC\rEE\r', { file: 'f' });
    expect(lift.records.map((r) => [r.id, r.sequence, r.loc.line])).toEqual([['a', 'MKTV', 1], ['b', 'AC', 4]]);
    const sp = parseSignalP('>P1|EUKARYA|SP|0\rMKAL\rSSOO\r>P2|EUKARYA|NO_SP|1\rMKKL\rIIII\r', { file: 'f' });
    expect(sp.records.map((r) => [r.id, r.cleavageSite, r.loc.line])).toEqual([['P1', 2, 1], ['P2', null, 4]]);
    const flip = parseFlip('>x SET=train VALIDATION=False\rMKT\rHEC\r110\r', { file: 'f' });
    expect(flip.records[0]).toMatchObject({ id: 'x', sequence: 'MKT', set: 'train', validation: false });
    const csv = parseNetsurfpCsv('input,dssp3\rM K,C C\rA G,H E\r', { file: 'f.csv' });
    expect(csv.records.map((r) => [r.sequence, r.loc.line])).toEqual([['MK', 2], ['AG', 3]]);
    expect(csv.notes).toEqual([]);
  });

  it('NetSurfP CSV counts lines of quoted fields that hold a lone CR', () => {
    const r = parseNetsurfpCsv('input,dssp3\r"M\rK",C C\rA J,H E\r', { file: 'f.csv' });
    expect(r.records.map((x) => x.sequence)).toEqual(['MK']);
    expect(r.notes[0]).toMatchObject({ kind: 'rejected', loc: { line: 4, column: 3 } });
  });
});

describe('Unicode line separators', () => {
  for (const sep of ['\u2028', '\u2029', '\u0085']) {
    const code = `U+${sep.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    it(`${code} in a FASTA header becomes a space, noted (it used to crash the parser)`, () => {
      const r = parseFasta(`>id1${sep}first protein\nMKT\n>id2 two${sep}parts\nAC\n`, { file: 'f' });
      expect(r.records.map((x) => [x.id, x.description])).toEqual([['id1', 'first protein'], ['id2', 'two parts']]);
      expect(r.notes).toEqual([
        { kind: 'changed', message: `Unicode line separator ${code} in the header replaced by a space`, loc: { file: 'f', line: 1, column: 5 } },
        { kind: 'changed', message: `Unicode line separator ${code} in the header replaced by a space`, loc: { file: 'f', line: 3, column: 9 } },
      ]);
    });
    it(`${code} inside a sequence is a character outside the alphabet, located`, () => {
      const r = parseFasta(`>a\nMK${sep}T\n`, { file: 'f' });
      expect(r.records).toEqual([]);
      expect(r.notes).toEqual([{ kind: 'rejected', message: `character ${code} is not in the ESM alphabet`, loc: { file: 'f', record: 'a', line: 2, column: 3 } }]);
      const lift = parseLiftSs(`>a\nMK${sep}\nLLL\n`, { file: 'f' });
      expect(lift.notes[0]).toMatchObject({ kind: 'rejected', loc: { line: 2, column: 3 } });
    });
  }

  it('in a labelled header too', () => {
    const r = parseLiftSs('>a\u2028b\nMK\nLL\n', { file: 'f' });
    expect(r.records.map((x) => x.id)).toEqual(['a']);
    expect(r.notes[0]).toMatchObject({ kind: 'changed', loc: { line: 1, column: 3 } });
  });
});

describe('strict UTF-8', () => {
  it('locates the first invalid byte exactly where the WHATWG decoder refuses', () => {
    const cases: [number[], number][] = [
      [[0x41, 0x80], 1], // lone continuation
      [[0xc0, 0xaf], 0], // overlong
      [[0xe0, 0x80, 0x80], 0], // overlong 3-byte
      [[0xed, 0xa0, 0x80], 0], // surrogate
      [[0xf4, 0x90, 0x80, 0x80], 0], // above U+10FFFF
      [[0x41, 0xe2, 0x82], 1], // cut at the end
      [[0xe2, 0x82, 0xac, 0x41], -1], // euro sign
      [[0xff], 0],
    ];
    for (const [bytes, at] of cases) {
      const b = Uint8Array.from(bytes);
      expect(firstInvalidUtf8(b), bytes.join(' ')).toBe(at);
      let native = true;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(b);
      } catch {
        native = false;
      }
      expect(native, bytes.join(' ')).toBe(at < 0);
    }
  });

  it('a FASTA file with an invalid byte is an InputError naming line, column and byte offset', async () => {
    const bytes = Buffer.concat([Buffer.from('>a\nMKT\n>b caf'), Buffer.from([0xe9]), Buffer.from(' x\nAC\n')]);
    const e = await caughtAsync(readFastaFile(write('latin1.fasta', bytes)));
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).loc).toMatchObject({ line: 3, column: 7, offset: 13 });
    expect((e as Error).message).toMatch(/latin1\.fasta:3:7: not valid UTF-8: byte 0xE9 at byte offset 13/);
  });

  it('two ids that differ only in invalid bytes no longer collide as duplicates', async () => {
    const bytes = Buffer.concat([Buffer.from('>id'), Buffer.from([0xfe]), Buffer.from('\nMK\n>id'), Buffer.from([0xff]), Buffer.from('\nAC\n')]);
    const e = await caughtAsync(readFastaFile(write('ids.fasta', bytes)));
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).loc).toMatchObject({ line: 1, column: 4, offset: 3 });
  });

  it('the streaming decoder finds a bad byte that follows a character split across chunks', () => {
    const text = Buffer.from('>a é\n€MK\n');
    const bad = Buffer.concat([text, Buffer.from([0xc3, 0x28])]);
    const s = new Utf8Stream('f');
    const pieces = [bad.subarray(0, 4), bad.subarray(4, 5), bad.subarray(5, 7), bad.subarray(7, 8), bad.subarray(8)];
    let out = '';
    const e = caught(() => {
      for (const p of pieces) out += s.write(p);
      out += s.end();
    });
    expect(out).toBe('>a é\n');
    expect((e as InputError).loc).toEqual({ file: 'f', line: 3, column: 1, offset: text.length });
  });

  it('labelled data files, and a UTF-16 file, are refused with the same located error', async () => {
    const lift = write('bad.txt', Buffer.concat([Buffer.from('>a\nMK\nL'), Buffer.from([0x80]), Buffer.from('\n')]));
    const e = await caughtAsync(readDataFile(lift));
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).loc).toMatchObject({ line: 3, column: 2, offset: 7 });
    const utf16 = write('utf16.fasta', Buffer.from('\uFEFF>a\nMK\n', 'utf16le'));
    const e16 = await caughtAsync(readFastaFile(utf16));
    expect((e16 as Error).message).toMatch(/UTF-16 byte-order mark: save it as UTF-8/);
    expect(() => decodeUtf8(Buffer.from('ok \u00e9'), 'x')).not.toThrow();
  });

  it('a UTF-8 byte-order mark is still removed with a note', async () => {
    const r = await readFastaFile(write('bom.fasta', '\uFEFF>a\nMK\n'));
    expect(r.records[0].id).toBe('a');
    expect(r.notes[0]).toMatchObject({ kind: 'changed', message: 'UTF-8 byte-order mark removed' });
  });
});

describe('every bad character of a record is reported', () => {
  it('FASTA lists each one with its line and column, up to 20, then counts the rest', () => {
    const r = parseFasta('>a\nMK1T\nJJ\n', { file: 'f' });
    expect(r.notes).toEqual([
      {
        kind: 'rejected',
        message: "3 characters are not in the ESM alphabet: '1' (line 2, column 3), 'J' (line 3, column 1), 'J' (line 3, column 2)",
        loc: { file: 'f', record: 'a', line: 2, column: 3 },
      },
    ]);
    const many = parseFasta(`>b\n${'M1'.repeat(25)}\n`, { file: 'f' });
    const msg = many.notes[0].message;
    expect(msg).toMatch(/^25 characters are not in the ESM alphabet: '1' \(column 2\), '1' \(column 4\)/);
    expect(msg.match(/'1' \(column/g)).toHaveLength(MAX_LISTED);
    expect(msg).toMatch(/'1' \(column 40\), and 5 more$/);
  });

  it('labelled parsers list every bad residue and label', () => {
    const lift = parseLiftSs('>a\nMKQ1T9\nLLQLZL\n', { file: 'f' });
    expect(lift.notes[0]).toMatchObject({
      kind: 'rejected',
      message: "2 characters are not a residue of the ESM alphabet: '1' (column 4), '9' (column 6)",
      loc: { line: 2, column: 4 },
    });
    const labels = parseLiftSs('>a\nMKQAT\nLQLZL\n', { file: 'f' });
    expect(labels.notes[0].message).toBe("2 labels are not a DSSP state (expected one of L B E G I H S T P X C - or space): 'Q' (column 2), 'Z' (column 4)");
    const sp = parseSignalP('>P1|EUKARYA|SP|0\nMKAL\nSXOZ\n', { file: 'f' });
    expect(sp.notes[0].message).toBe("2 labels are not a SignalP letter (S L T P I M O): 'X' (column 2), 'Z' (column 4)");
    const flip = parseFlip('>x\nMKT\nHEC\n1a2\n', { file: 'f' });
    expect(flip.notes[0].message).toBe("2 resolved-mask values are not 0 or 1: 'a' (column 2), '2' (column 3)");
    const csv = parseNetsurfpCsv('input,dssp3\nM J K B 1,C C C C C\n', { file: 'f.csv' });
    expect(csv.notes[0].message).toBe("2 characters are not a residue of the ESM alphabet: 'J' (line 2, column 3), '1' (line 2, column 9)");
  });
});

describe('nucleotides where protein is expected', () => {
  it('a sequence of >= 90 % A/C/G/T/U/N is kept with a warning, in every format', () => {
    const dna = 'ACGTTGCAACGTNNACGTGA';
    const f = parseFasta(`>gene\n${dna}\n>prot\nMKTAYIAKQRQISFVKSHFS\n`, { file: 'f' });
    expect(f.records).toHaveLength(2);
    expect(f.notes).toEqual([
      {
        kind: 'warning',
        message: 'sequence looks like nucleotides (100 % of its 20 residues are A/C/G/T/U/N): ESM-2 reads protein sequences; is this a DNA or RNA file?',
        loc: { file: 'f', record: 'gene', line: 1 },
      },
    ]);
    const mostly = parseFasta(`>m\n${dna.slice(0, 18)}MK\n`, { file: 'f' }); // 18 of 20 = 90 %
    expect(mostly.notes[0].message).toMatch(/90 %/);
    expect(parseFasta(`>m\n${dna.slice(0, 17)}MKE\n`, { file: 'f' }).notes).toEqual([]); // 85 %
    expect(parseFasta('>short\nACGT\n', { file: 'f' }).notes).toEqual([]);
    const lift = parseLiftSs(`>a\n${dna}\n${'L'.repeat(20)}\n`, { file: 'f' });
    expect(lift.records).toHaveLength(1);
    expect(lift.notes[0]).toMatchObject({ kind: 'warning', loc: { record: 'a', line: 2 } });
    const csv = parseNetsurfpCsv(`input,dssp3\n${dna.split('').join(' ')},${'C '.repeat(20).trim()}\n`, { file: 'f.csv' });
    expect(csv.notes[0]).toMatchObject({ kind: 'warning', loc: { line: 2, column: 1 } });
  });
});

describe('very long lines', () => {
  it('a single-line FASTA streams in linear time (16x the bytes, not 256x the time)', async () => {
    const timeOf = async (tens: number) => {
      const file = write(`long-${tens}.fasta`, `>long\n${'MKTAYIAKQR'.repeat(tens)}`);
      const t0 = performance.now();
      const r = await readFastaFile(file);
      const ms = performance.now() - t0;
      expect(r.records[0].sequence.length).toBe(tens * 10);
      return ms;
    };
    const small = Math.min(await timeOf(400_000), await timeOf(400_000), await timeOf(400_000)); // 4 MB
    const large = await timeOf(6_400_000); // 64 MB, 64 pieces of 1 MiB
    // Linear: about 16; re-reading the unfinished line at every piece (the old reader): > 150.
    console.log(`single-line FASTA: 4 MB ${small.toFixed(0)} ms, 64 MB ${large.toFixed(0)} ms, ratio ${(large / small).toFixed(1)}`);
    expect(large / small).toBeLessThan(60);
  });
});
