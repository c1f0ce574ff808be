// Annotating mmCIF: the real 1gbt.cif (insertion codes, ligands and waters in chain A) and a
// hand-made file with quoted tokens, a ;text field, MSE as HETATM, altLocs, two models and
// secondary structure of two chains. The checks split the files into '#'-separated category
// chunks and atom rows themselves, so they do not rely on the parser under test.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { annotateStructure, chainResidues, parseStructure } from '../../src-main/engine/export/structure/index.js';
import { parseBlocks, tokenize, tokenValue, type Category, type Tokens } from '../../src-main/engine/export/structure/cif.js';
import { shared } from '../helpers/paths.js';
import { MIN_SEGMENT } from '../../src-main/engine/export/structure/ss.js';
import { runLength } from '../helpers/runs-of-letters.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const QUOTED = path.join(HERE, 'fixtures', 'quoted.cif');

/** '#'-separated chunks with the category each one holds ('' for the data_ line). */
function chunks(text: string): { name: string; text: string }[] {
  const parts = text.split(/(?<=(?:^|\r?\n)#[ \t]*\r?\n)/);
  return parts.map((p) => ({ name: /^(?:loop_\s+)?_([A-Za-z0-9_]+)\./m.exec(p)?.[1]?.toLowerCase() ?? '', text: p }));
}
const TOKEN = /'[^']*'(?=\s|$)|"[^"]*"(?=\s|$)|\S+/g;
const cifTokens = (line: string) => line.match(TOKEN) ?? [];
const tokenStarts = (line: string) => [...line.matchAll(TOKEN)].map((m) => m.index);
const ssCategories = new Set(['struct_conf', 'struct_conf_type', 'struct_sheet', 'struct_sheet_order', 'struct_sheet_range', 'pdbx_struct_sheet_hbond', 'plmw_annotation']);

function category(text: string, name: string): { t: Tokens; c: Category | undefined } {
  const t = tokenize(text, 'out');
  return { t, c: parseBlocks(t, 'out')[0]!.categories.get(name) };
}
function rowsOf(t: Tokens, c: Category | undefined): Record<string, string>[] {
  if (!c) return [];
  return Array.from({ length: c.rows }, (_, r) => Object.fromEntries(c.items.map((item, k) => [item, tokenValue(t, c.cells(r, k))])));
}

describe('hand-made mmCIF with quoted tokens and a ;text field', () => {
  const input = readFileSync(QUOTED);
  const inText = input.toString('latin1');
  // positions in this sequence: MET 0 is in the SEQRES but has no coordinates
  const sequence = 'MAMGGK';
  const scores = [0.11, 0.2, 0.3, null, 0.5, 0.655];
  const ss3 = 'CHHHEE';
  const result = annotateStructure(input, QUOTED, { chain: 'A', prediction: { sequence, scores, ss3 }, runLabel: "run 'q' 1", scoreName: 'entropy' });
  const outText = result.output.toString('latin1');

  it('reads chain A as ALA 1, MSE 2 (HETATM), GLY 3, GLY 3A, LYS 4 and the SEQRES from _pdbx_poly_seq_scheme', () => {
    const s = parseStructure(input, QUOTED);
    const res = chainResidues(s, 'A');
    expect(res.map((r) => `${r.resName}${r.resSeq}${r.iCode}`)).toEqual(['ALA1', 'MSE2', 'GLY3', 'GLY3A', 'LYS4']);
    expect(res.map((r) => r.code).join('')).toBe('AMGGK');
    expect(s.seqres.get('A')).toEqual(['MET', 'ALA', 'MSE', 'GLY', 'GLY', 'LYS']);
    expect(s.models).toEqual([1, 2]);
    expect(s.atoms.find((a) => a.serial === '1')!.name).toBe('N'); // "N" unquoted
    expect(s.atoms.find((a) => a.serial === '5')!.bFactor).toBeNaN(); // '?'
  });

  it('maps through the alignment: MET 0 unmatched, every other residue to its own position', () => {
    expect(result.mapping.method).toBe('alignment');
    expect(result.mapping.unmatchedSequence).toEqual([{ from: 1, to: 1 }]);
    expect(result.mapping.identity).toBe(1);
    expect(result.unscored.map((r) => `${r.resSeq}${r.iCode}`)).toEqual(['3']); // position 4 had no score
  });

  it('writes B_iso_or_equiv for both models and both altLocs of chain A only, keeping the columns', () => {
    const expected: Record<string, string> = { '1': '20.00', '2': '30.00', '3': '0.00', '3A': '50.00', '4': '65.50' };
    const inRows = inText.split('\n').filter((l) => /^(ATOM|HETATM)/.test(l));
    const outRows = outText.split('\n').filter((l) => /^(ATOM|HETATM)/.test(l));
    expect(outRows.length).toBe(inRows.length);
    let changed = 0;
    outRows.forEach((l, i) => {
      const a = cifTokens(inRows[i]!), b = cifTokens(l);
      const chainA = a[17] === 'A' && a[8] !== '.';
      if (!chainA) return expect(l).toBe(inRows[i]);
      changed++;
      const key = a[15]! + (a[9] === '?' ? '' : a[9]);
      expect(b[14]).toBe(expected[key]);
      expect([...b.slice(0, 14), ...b.slice(15)]).toEqual([...a.slice(0, 14), ...a.slice(15)]);
      // the token after B starts in the same column whenever the old gap had room for the value
      const before = tokenStarts(inRows[i]!), after = tokenStarts(l);
      if (expected[key]!.length < before[15]! - before[14]!) expect(after).toEqual(before);
    });
    expect(changed).toBe(2 * 17);
  });

  it('keeps every chunk other than atom_site and the secondary-structure categories byte for byte', () => {
    const keep = (t: string) => chunks(t).filter((c) => !ssCategories.has(c.name) && c.name !== 'atom_site').map((c) => c.text);
    expect(keep(outText)).toEqual(keep(inText));
    expect(outText).toContain("_struct_keywords.text       'it's quoted; with \"double\" inside'");
  });

  it('replaces the struct_conf and sheet rows of chain A and keeps the chain B helix', () => {
    const conf = category(outText, 'struct_conf');
    const rows = rowsOf(conf.t, conf.c);
    expect(rows.filter((r) => r.beg_auth_asym_id === 'B').map((r) => r.details)).toEqual(['chain B keeps this']);
    const a = rows.filter((r) => r.beg_auth_asym_id === 'A');
    expect(a.map((r) => [r.beg_auth_comp_id, r.beg_auth_seq_id, r.beg_label_seq_id, r.end_auth_comp_id, r.end_auth_seq_id, r.end_label_seq_id, r.pdbx_pdb_helix_length])).toEqual([['ALA', '1', '2', 'GLY', '3', '4', '3']]);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    const range = category(outText, 'struct_sheet_range');
    const strands = rowsOf(range.t, range.c);
    expect(strands.map((r) => [r.beg_auth_seq_id, r.pdbx_beg_pdb_ins_code, r.end_auth_seq_id, r.end_label_seq_id])).toEqual([['3', 'A', '4', '6']]);
    const sheet = category(outText, 'struct_sheet');
    expect(rowsOf(sheet.t, sheet.c).map((r) => [r.id, r.number_strands])).toEqual([[strands[0]!.sheet_id, '1']]);
    const ct = category(outText, 'struct_conf_type');
    expect(rowsOf(ct.t, ct.c).map((r) => r.id)).toEqual(['HELX_P']);
  });

  it('records the run, score name and unscored residues in _plmw_annotation', () => {
    const ann = category(outText, 'plmw_annotation');
    const [row] = rowsOf(ann.t, ann.c);
    expect(row!.run).toBe("run 'q' 1");
    expect(row!.score).toContain('entropy');
    expect(row!.unscored_residues).toBe('GLY A 3');
  });

  it('re-parses with the same atoms', () => {
    const before = parseStructure(input, QUOTED).atoms, after = parseStructure(result.output, 'out.cif').atoms;
    expect(after.map((a) => [a.serial, a.name, a.altLoc, a.chain, a.resSeq, a.iCode, a.x, a.y, a.z, a.model])).toEqual(before.map((a) => [a.serial, a.name, a.altLoc, a.chain, a.resSeq, a.iCode, a.x, a.y, a.z, a.model]));
  });

  it('keeps CRLF line endings and a missing final newline', () => {
    const crlf = Buffer.from(inText.replace(/\n/g, '\r\n').replace(/\r\n$/, ''), 'latin1');
    const out = annotateStructure(crlf, 'crlf.cif', { chain: 'A', prediction: { sequence, scores, ss3 }, runLabel: "run 'q' 1", scoreName: 'entropy' }).output.toString('latin1');
    expect(out.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/); // every line ends in CRLF
    expect(out.endsWith('\n')).toBe(false);
    expect(out.replace(/\r\n/g, '\n')).toBe(outText.replace(/\n$/, ''));
    expect(parseStructure(Buffer.from(out, 'latin1'), 'x.cif').atoms.length).toBe(parseStructure(input, QUOTED).atoms.length);
  });
});

describe('1gbt.cif (trypsin numbering with insertion codes)', () => {
  const file = shared('fixtures', 'pdb', '1gbt.cif');
  const input = readFileSync(file);
  const inText = input.toString('latin1');
  const header = inText.split('\n').filter((l) => l.startsWith('_atom_site.')).map((l) => l.trim().slice('_atom_site.'.length));
  const col = (name: string) => header.indexOf(name);
  const rowsIn = inText.split('\n').filter((l) => /^(ATOM|HETATM) /.test(l));
  const isChainPolymer = (t: string[]) => t[col('auth_asym_id')] === 'A' && t[col('label_seq_id')] !== '.';
  const keyOf = (t: string[]) => t[col('auth_seq_id')]! + (t[col('pdbx_PDB_ins_code')] === '?' ? '' : t[col('pdbx_PDB_ins_code')]!);
  const order: string[] = [];
  const names = new Map<string, string>();
  for (const l of rowsIn) {
    const t = l.trim().split(/\s+/);
    if (isChainPolymer(t) && !names.has(keyOf(t))) order.push(keyOf(t)), names.set(keyOf(t), t[col('label_comp_id')]!);
  }
  const index = new Map(order.map((k, i) => [k, i]));
  const scores = order.map((_, k) => (k % 17 === 5 ? null : ((k * 37) % 100) / 100));
  const ss3 = order.map((_, k) => 'CCCHHHHHHCCEEEEC'[k % 16]).join('');
  const result = annotateStructure(input, file, { chain: 'A', prediction: { scores, ss3 }, runLabel: 'gbt' });
  const outText = result.output.toString('latin1');
  const rowsOut = outText.split('\n').filter((l) => /^(ATOM|HETATM) /.test(l));

  it('treats insertion-coded residues as residues of their own', () => {
    const withIns = order.filter((k) => /[A-Z]$/.test(k));
    expect(withIns.length).toBeGreaterThan(0);
    expect(result.residues.length).toBe(order.length);
    expect(result.residues.map((r) => r.resSeq + r.iCode)).toEqual(order);
  });

  it('changes only B_iso_or_equiv of chain A polymer atoms, to round(100*score, 2)', () => {
    expect(header.length).toBeGreaterThan(15);
    expect(rowsOut.length).toBe(rowsIn.length);
    const bCol = col('B_iso_or_equiv');
    let changed = 0;
    rowsOut.forEach((l, i) => {
      const a = rowsIn[i]!.trim().split(/\s+/), b = l.trim().split(/\s+/);
      expect(a.length).toBe(header.length);
      if (!isChainPolymer(a)) return expect(l).toBe(rowsIn[i]);
      changed++;
      const k = index.get(keyOf(a))!;
      if (scores[k] === null) expect(b[bCol]).toBe('0.00');
      else expect(Math.abs(Number(b[bCol]) - scores[k]! * 100)).toBeLessThanOrEqual(0.005 + 1e-9);
      expect(b[bCol]).toMatch(/^\d{1,3}\.\d\d$/);
      expect([...b.slice(0, bCol), ...b.slice(bCol + 1)]).toEqual([...a.slice(0, bCol), ...a.slice(bCol + 1)]);
      if (b[bCol]!.length <= 5) expect(l.length).toBe(rowsIn[i]!.length); // the 1gbt column is 5 wide + a space
    });
    expect(changed).toBe(result.stats.atomsUpdated);
    expect(changed).toBeGreaterThan(1500);
  });

  it('keeps every other chunk byte for byte', () => {
    const keep = (t: string) => chunks(t).filter((c) => !ssCategories.has(c.name) && c.name !== 'atom_site').map((c) => c.text);
    expect(keep(outText).length).toBeGreaterThan(40);
    expect(keep(outText)).toEqual(keep(inText));
  });

  it('writes helices and strands that refer to existing residues and cover exactly the predicted H/E', () => {
    const label = new Map<string, string>(); // auth key -> label_seq_id
    for (const l of rowsIn) {
      const t = l.trim().split(/\s+/);
      if (isChainPolymer(t)) label.set(keyOf(t), t[col('label_seq_id')]!);
    }
    const cover = (rows: Record<string, string>[]) => {
      const set = new Set<number>();
      for (const r of rows) {
        const from = r.beg_auth_seq_id! + (r.pdbx_beg_pdb_ins_code === '?' ? '' : r.pdbx_beg_pdb_ins_code!);
        const to = r.end_auth_seq_id! + (r.pdbx_end_pdb_ins_code === '?' ? '' : r.pdbx_end_pdb_ins_code!);
        expect(index.has(from) && index.has(to), `${from}..${to} exist`).toBe(true);
        expect(r.beg_label_seq_id).toBe(label.get(from));
        expect(r.end_label_seq_id).toBe(label.get(to));
        expect(r.beg_auth_comp_id).toBe(names.get(from));
        for (let k = index.get(from)!; k <= index.get(to)!; k++) set.add(k);
      }
      return set;
    };
    const conf = category(outText, 'struct_conf');
    const helices = rowsOf(conf.t, conf.c);
    expect(helices.every((r) => r.conf_type_id === 'HELX_P' && r.pdbx_pdb_helix_class === '1')).toBe(true);
    const range = category(outText, 'struct_sheet_range');
    const want = (c: 'H' | 'E') => new Set(order.map((_, k) => k).filter((k) => ss3[k] === c && runLength(ss3, k) >= MIN_SEGMENT[c]));
    expect(cover(helices)).toEqual(want('H'));
    expect(cover(rowsOf(range.t, range.c))).toEqual(want('E'));
    // the old sheet order and hydrogen-bond rows described sheets that no longer exist
    expect(category(outText, 'struct_sheet_order').c).toBeUndefined();
    expect(category(outText, 'pdbx_struct_sheet_hbond').c).toBeUndefined();
  });

  it('re-parses with the same atoms', () => {
    const before = parseStructure(input, file).atoms, after = parseStructure(result.output, 'out.cif').atoms;
    expect(after.length).toBe(before.length);
    expect(after.map((a) => [a.serial, a.name, a.altLoc, a.resName, a.chain, a.resSeq, a.iCode, a.x, a.y, a.z, a.occupancy, a.model])).toEqual(
      before.map((a) => [a.serial, a.name, a.altLoc, a.resName, a.chain, a.resSeq, a.iCode, a.x, a.y, a.z, a.occupancy, a.model]),
    );
  });
});
