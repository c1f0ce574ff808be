// Readers: the CIF tokenizer on the awkward cases of the CIF 1.1 grammar, PDB column parsing
// on the real fixtures (counted here with plain string tests), residue codes, and the
// alignment primitives (BLOSUM62 values from the published NCBI matrix).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src-main/engine/data/errors.js';
import { isNull, parseBlocks, Tok, tokenize, tokenValue } from '../../src-main/engine/export/structure/cif.js';
import { alignGlobal, blosum62, chainResidues, oneLetter, parseStructure, polymerChains } from '../../src-main/engine/export/structure/index.js';
import { shared } from '../helpers/paths.js';

const pdb = (name: string) => readFileSync(shared('fixtures', 'pdb', name));

describe('CIF tokenizer', () => {
  const text = [
    'data_x',
    "_a.one 'it's here'",
    '_a.two "say \'hi\' now"',
    '_a.three ?',
    "_a.four '?'",
    '_a.five a#b # a comment',
    '_a.six',
    ';first line',
    'loop_ inside text',
    ';',
    'loop_',
    '_b.id',
    '_b.name',
    "1 'x y'",
    '2 .',
    '',
  ].join('\n');
  const t = tokenize(text, 'x.cif');
  const values = Array.from({ length: t.count }, (_, i) => tokenValue(t, i));

  it('splits quoted strings only at a quote followed by whitespace, and reads text fields whole', () => {
    expect(values).toEqual(['data_x', '_a.one', "it's here", '_a.two', "say 'hi' now", '_a.three', '?', '_a.four', '?', '_a.five', 'a#b', '_a.six', 'first line\nloop_ inside text', 'loop_', '_b.id', '_b.name', '1', 'x y', '2', '.']);
    expect(t.kind[12]).toBe(Tok.TextField);
  });

  it('treats only unquoted ? and . as null', () => {
    expect(isNull(t, 6)).toBe(true);
    expect(isNull(t, 8)).toBe(false);
    expect(isNull(t, 19)).toBe(true);
  });

  it('groups pairs and loops into categories', () => {
    const [block] = parseBlocks(t, 'x.cif');
    expect(block!.name).toBe('x');
    expect(block!.categories.get('a')!.items).toEqual(['one', 'two', 'three', 'four', 'five', 'six']);
    const b = block!.categories.get('b')!;
    expect(b.rows).toBe(2);
    expect(tokenValue(t, b.cells(1, 0))).toBe('2');
  });

  it('reports unclosed quotes, unclosed text fields and ragged loops with the line', () => {
    expect(() => tokenize("data_x\n_a.b 'open\n", 'q.cif')).toThrow(/q\.cif:2: quoted string is not closed/);
    expect(() => tokenize('data_x\n_a.b\n;never closed\n', 't.cif')).toThrow(/t\.cif:3: text field/);
    const ragged = tokenize('data_x\nloop_\n_c.a\n_c.b\n1 2\n3\n', 'r.cif');
    expect(() => parseBlocks(ragged, 'r.cif')).toThrow(/r\.cif:2: loop_ of _c has 3 values for 2 columns/);
  });
});

describe('PDB reader', () => {
  const count = (buf: Buffer, re: RegExp) => buf.toString('latin1').split(/\r?\n/).filter((l) => re.test(l)).length;

  it('reads every ATOM/HETATM record of every fixture', () => {
    for (const name of ['1ubq.pdb', '4hhb.pdb', '1t8a.pdb', '1d3z.pdb', 'AF-P61626-F1-model_v4.pdb']) {
      const buf = pdb(name);
      expect(parseStructure(buf, name).atoms.length, name).toBe(count(buf, /^(ATOM  |HETATM)/));
    }
  });

  it('1d3z: ten models, the chain defined by the first', () => {
    const s = parseStructure(pdb('1d3z.pdb'), '1d3z.pdb');
    expect(s.models).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(chainResidues(s, 'A').length).toBe(76);
    expect(chainResidues(s, 'A').every((r) => r.firstModelAtoms.every((i) => s.atoms[i]!.model === 1))).toBe(true);
  });

  it('the chain residues of 1ubq and 4hhb equal their SEQRES, and waters/hemes are not residues', () => {
    for (const [name, chains] of [['1ubq.pdb', ['A']], ['4hhb.pdb', ['A', 'B', 'C', 'D']]] as const) {
      const s = parseStructure(pdb(name), name);
      expect(polymerChains(s)).toEqual([...chains]);
      for (const c of chains) expect(chainResidues(s, c).map((r) => r.resName)).toEqual(s.seqres.get(c));
    }
  });

  it('1t8a: altLoc A and B of a residue are one residue', () => {
    const s = parseStructure(pdb('1t8a.pdb'), '1t8a.pdb');
    expect(s.atoms.filter((a) => a.altLoc === 'A').length).toBe(48);
    expect(s.atoms.filter((a) => a.altLoc === 'B').length).toBe(48);
    const res = chainResidues(s, 'A');
    expect(new Set(res.map((r) => r.resSeq + r.iCode)).size).toBe(res.length);
    expect(res.length).toBe(s.seqres.get('A')!.length);
  });

  it('1gbt.cif: 1761 atoms; the 223 chain A residues match _pdbx_poly_seq_scheme', () => {
    const buf = pdb('1gbt.cif');
    const s = parseStructure(buf, '1gbt.cif');
    expect(s.format).toBe('mmcif');
    expect(s.atoms.length).toBe(count(buf, /^(ATOM|HETATM) /));
    const res = chainResidues(s, 'A');
    expect(res.length).toBe(223);
    expect(res.map((r) => r.resName)).toEqual(s.seqres.get('A'));
    expect(res.some((r) => r.iCode !== '')).toBe(true);
  });

  it('names the line of a record it cannot read', () => {
    const bad = 'HEADER    X\nATOM      1  N   ALA A   1      1.000   abc    3.000  1.00 10.00           N\nEND\n';
    expect(() => parseStructure(Buffer.from(bad), 'bad.pdb')).toThrow(InputError);
    expect(() => parseStructure(Buffer.from(bad), 'bad.pdb')).toThrow(/bad\.pdb:2:39: ATOM record: y coordinate 'abc'/);
  });
});

describe('modified residues declared by the file', () => {
  it('PDB MODRES makes an unknown HETATM residue inside the chain a residue with its parent code', () => {
    const line = (rec: string, serial: number, res: string, seq: number, x: number) =>
      `${rec.padEnd(6)}${String(serial).padStart(5)}  CA  ${res} A${String(seq).padStart(4)}    ${x.toFixed(3).padStart(8)}   0.000   0.000  1.00 10.00           C  `;
    const text = ['MODRES XXXX XYZ A    2  LYS  MODIFIED LYSINE', line('ATOM', 1, 'ALA', 1, 0), line('HETATM', 2, 'XYZ', 2, 3.8), line('ATOM', 3, 'GLY', 3, 7.6), 'TER       4      GLY A   3', line('HETATM', 5, 'XYZ', 9, 20), 'END'].join('\n');
    const s = parseStructure(Buffer.from(text), 'm.pdb');
    expect(chainResidues(s, 'A').map((r) => r.code).join('')).toBe('AKG'); // the XYZ after TER is a ligand
  });

  it('mmCIF _pdbx_struct_mod_residue gives the parent of a residue the table does not know', () => {
    const text = `data_m
loop_
_pdbx_struct_mod_residue.id
_pdbx_struct_mod_residue.label_comp_id
_pdbx_struct_mod_residue.parent_comp_id
1 ZZZ LYS
loop_
_atom_site.group_PDB
_atom_site.id
_atom_site.label_atom_id
_atom_site.label_comp_id
_atom_site.label_asym_id
_atom_site.label_seq_id
_atom_site.Cartn_x
_atom_site.Cartn_y
_atom_site.Cartn_z
_atom_site.B_iso_or_equiv
_atom_site.auth_seq_id
_atom_site.auth_asym_id
ATOM   1 CA ALA A 1 0.0 0.0 0.0 1.0 1 A
HETATM 2 CA ZZZ A 2 3.8 0.0 0.0 1.0 2 A
HETATM 3 O  HOH B . 9.0 9.0 9.0 1.0 5 A
`;
    const s = parseStructure(Buffer.from(text), 'm.cif');
    expect(chainResidues(s, 'A').map((r) => r.code).join('')).toBe('AK');
  });
});

describe('residue codes', () => {
  it('maps standard, modified and unknown residues', () => {
    expect(['ALA', 'MSE', 'SEP', 'TPO', 'PTR', 'HYP', 'MLY', 'CSO', 'SEC', 'PYL', 'DAL', 'HSD', 'UNK', 'HOH', 'XYZ'].map((n) => oneLetter(n)).join('')).toBe('AMSTYPKCUOAHXXX');
    expect(oneLetter('XYZ', new Map([['XYZ', 'W']]))).toBe('W');
  });
});

describe('alignment primitives', () => {
  it('BLOSUM62 is the NCBI matrix (spot values) and symmetric', () => {
    expect([blosum62('W', 'W'), blosum62('C', 'C'), blosum62('A', 'A'), blosum62('A', 'R'), blosum62('H', 'Y'), blosum62('I', 'V'), blosum62('W', 'P')]).toEqual([11, 9, 4, -1, 2, 3, -4]);
    const aa = 'ARNDCQEGHILKMFPSTWYVBZX';
    for (const a of aa) for (const b of aa) expect(blosum62(a, b)).toBe(blosum62(b, a));
    expect(blosum62('U', 'A')).toBe(blosum62('X', 'A')); // unknown letters score as X
  });

  const pairs = (a: string, b: string, breaks?: boolean[]) => alignGlobal(a, b, breaks).columns.filter((c) => c.a >= 0 && c.b >= 0).map((c) => [c.a, c.b]);

  it('leaves terminal overhangs unaligned at no cost and opens one internal gap for a deletion', () => {
    expect(pairs('HHHHHHACDEFGHIKLMN', 'ACDEFGHIKLMN')).toEqual(Array.from({ length: 12 }, (_, k) => [k + 6, k]));
    const cols = alignGlobal('ACDEFGHIKLMNPQ', 'ACDEHIKLMNPQ').columns;
    expect(cols.filter((c) => c.b < 0).map((c) => c.a)).toEqual([4, 5]); // E F
  });

  it('puts an ambiguous gap at the chain break it is told about', () => {
    const seq = 'MKTAYIAKQRGGLEHWTNVSLA';
    const chain = 'MKTAYIAKQRGLEHWTNVSLA'; // one G of GG missing
    const breakAfter = (k: number) => Array.from(chain, (_, i) => i === k);
    expect(pairs(seq, chain, breakAfter(10)).find(([, b]) => b === 10)).toEqual([10, 10]); // break after the G: it is the first G
    expect(pairs(seq, chain, breakAfter(9)).find(([, b]) => b === 10)).toEqual([11, 10]); // break before it: the second G
  });
});
