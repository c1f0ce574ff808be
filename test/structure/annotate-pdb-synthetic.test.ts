// A small PDB file made here, column by column: CRLF line endings and no final newline,
// selenomethionine as HETATM inside the chain (with MODRES), an insertion code, altLocs,
// short ATOM lines without occupancy/B-factor columns, a free amino acid and a water after
// TER in the same chain, no HELIX/SHEET yet, and a REMARK 950 that is not ours.
import { describe, expect, it } from 'vitest';
import { annotateStructure, chainResidues, parseStructure } from '../../src-main/engine/export/structure/index.js';

const f = (v: number, w: number, d: number) => v.toFixed(d).padStart(w);

/** An ATOM/HETATM record by the v3.3 columns; `short` stops after the z coordinate (column 54). */
function atom(rec: string, serial: number, name: string, alt: string, res: string, chain: string, seq: number, ins: string, xyz: [number, number, number], b: number, element: string, short = false): string {
  const nameField = name.length < 4 && element.length === 1 ? ` ${name}`.padEnd(4) : name.padEnd(4);
  const head = rec.padEnd(6) + String(serial).padStart(5) + ' ' + nameField + (alt || ' ') + res.padStart(3) + ' ' + chain + String(seq).padStart(4) + (ins || ' ') + '   ' + f(xyz[0], 8, 3) + f(xyz[1], 8, 3) + f(xyz[2], 8, 3);
  if (short) return head;
  return head + f(1, 6, 2) + f(b, 6, 2) + ' '.repeat(10) + element.padStart(2) + '  ';
}

function buildFile(): { text: string; atoms: string[] } {
  const lines: string[] = [
    'HEADER    TEST STRUCTURE                          01-JAN-00   XXXX              ',
    'TITLE     SYNTHETIC CRLF FILE FOR ANNOTATION TESTS                              ',
    "REMARK 950 SOMEONE ELSE'S REMARK 950, NOT TO BE TOUCHED                          ",
    'SEQRES   1 A    7  MET ALA MSE GLY GLY LYS SER                                  ',
    'MODRES XXXX MSE A    2  MET  SELENOMETHIONINE                                   ',
    'HET    MSE  A   2       8                                                       ',
    'FORMUL   1  MSE    C5 H11 N O2 SE                                               ',
    'CRYST1   50.000   50.000   50.000  90.00  90.00  90.00 P 1           1          ',
  ];
  const atoms: string[] = [];
  let serial = 0;
  const residues: [string, string, number, string, string[]][] = [
    ['ATOM', 'ALA', 1, '', ['N', 'CA', 'C', 'O', 'CB']],
    ['HETATM', 'MSE', 2, '', ['N', 'CA', 'C', 'O', 'CB', 'CG', 'SE', 'CE']],
    ['ATOM', 'GLY', 3, '', ['N', 'CA', 'C', 'O']],
    ['ATOM', 'GLY', 3, 'A', ['N', 'CA', 'C', 'O']],
    ['ATOM', 'LYS', 4, '', ['N', 'CA', 'C', 'O', 'CB']],
    ['ATOM', 'SER', 5, '', ['N', 'CA', 'C', 'O', 'OG']],
  ];
  residues.forEach(([rec, res, seq, ins, names], k) => {
    const x0 = 3.8 * k;
    for (const name of names) {
      const pos: [number, number, number] = name === 'N' ? [x0, 0, 0] : name === 'CA' ? [x0 + 1.46, 0.5, 0] : name === 'C' ? [x0 + 2.47, 0, 0] : [x0 + 1.5, 1.5 + name.length * 0.1, 1];
      const element = name === 'SE' ? 'SE' : name[0]!;
      if (res === 'LYS' && name === 'CB') {
        for (const alt of ['A', 'B']) atoms.push(atom(rec, ++serial, name, alt, res, 'A', seq, ins, [pos[0], pos[1] + (alt === 'B' ? 0.4 : 0), pos[2]], 20, element));
      } else atoms.push(atom(rec, ++serial, name, '', res, 'A', seq, ins, pos, 10 + k, element, res === 'SER'));
    }
  });
  const ter = `TER   ${String(++serial).padStart(5)}      SER A   5`.padEnd(80);
  const ligands = [atom('HETATM', ++serial, 'N', '', 'GLU', 'A', 201, '', [30, 30, 30], 40, 'N'), atom('HETATM', ++serial, 'O', '', 'HOH', 'A', 301, '', [35, 30, 30], 45, 'O')];
  lines.push(...atoms, ter, ...ligands, 'END');
  return { text: lines.join('\r\n'), atoms };
}

describe('synthetic CRLF PDB without a final newline', () => {
  const { text, atoms } = buildFile();
  const input = Buffer.from(text, 'latin1');
  const scores = [0.1, 0.25, 0.333, 0.45, 0.5, 0.999];
  const ss3 = 'EEHHHC';
  const result = annotateStructure(input, 'synthetic.pdb', { chain: 'A', prediction: { scores, ss3 }, runLabel: 'synthetic run' });
  const out = result.output.toString('latin1');
  const outLines = out.split('\r\n');
  const inLines = text.split('\r\n');

  it('reads the chain with MSE inside and the free GLU/water after TER outside', () => {
    const s = parseStructure(input, 'synthetic.pdb');
    const res = chainResidues(s, 'A');
    expect(res.map((r) => `${r.resName}${r.resSeq}${r.iCode}`)).toEqual(['ALA1', 'MSE2', 'GLY3', 'GLY3A', 'LYS4', 'SER5']);
    expect(res.map((r) => r.code).join('')).toBe('AMGGKS');
    expect(s.seqres.get('A')).toEqual(['MET', 'ALA', 'MSE', 'GLY', 'GLY', 'LYS', 'SER']);
  });

  it('keeps CRLF everywhere and no final newline', () => {
    expect(out.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(out.endsWith('END')).toBe(true);
  });

  it('writes B-factors into every chain atom, MSE and both altLocs included, padding short lines to column 60', () => {
    const byKey: Record<string, number> = { '   1 ': 0, '   2 ': 1, '   3 ': 2, '   3A': 3, '   4 ': 4, '   5 ': 5 };
    const outAtoms = outLines.filter((l) => /^(ATOM  |HETATM)/.test(l) && l.slice(22, 26) !== ' 201' && l.slice(22, 26) !== ' 301');
    expect(outAtoms.length).toBe(atoms.length);
    outAtoms.forEach((l, i) => {
      const k = byKey[l.slice(22, 27)]!;
      expect(l.slice(60, 66)).toBe((Math.round(scores[k]! * 10000) / 100).toFixed(2).padStart(6));
      expect(l.slice(0, 54)).toBe(atoms[i]!.slice(0, 54));
      if (atoms[i]!.length === 54) expect(l.length).toBe(66);
      else expect(l.slice(54, 60) + l.slice(66)).toBe(atoms[i]!.slice(54, 60) + atoms[i]!.slice(66));
    });
    expect(outAtoms.filter((l) => l[16] !== ' ').length).toBe(2);
    // free GLU and water after TER are not residues of the chain: untouched
    for (const l of inLines.filter((x) => x.startsWith('HETATM') && / (201|301) /.test(x.slice(21, 27)))) expect(outLines).toContain(l);
  });

  it('puts our REMARK under the next free number (951) after the foreign REMARK 950', () => {
    const i950 = outLines.findIndex((l) => l.startsWith('REMARK 950'));
    expect(outLines[i950]).toBe(inLines[2]);
    expect(outLines.filter((l) => l.startsWith('REMARK 950')).length).toBe(1);
    const ours = outLines.filter((l) => l.startsWith('REMARK 951'));
    expect(ours.length).toBeGreaterThan(3);
    expect(outLines.indexOf(ours[0]!)).toBe(i950 + 1);
    expect(ours.join('\n')).toContain('synthetic run');
  });

  it('places the new HELIX/SHEET after FORMUL and before CRYST1, referring to existing residues', () => {
    const iFormul = outLines.findIndex((l) => l.startsWith('FORMUL'));
    const iCryst = outLines.findIndex((l) => l.startsWith('CRYST1'));
    const ss = outLines.slice(iFormul + 1, iCryst);
    expect(ss.map((l) => l.slice(0, 6))).toEqual(['HELIX ', 'SHEET ']);
    // E E H H H C over ALA1 MSE2 GLY3 GLY3A LYS4 SER5
    expect(ss[0]!.slice(15, 38)).toBe('GLY A    3  LYS A    4 '); // GLY 3, GLY 3A, LYS 4
    expect(ss[0]!.slice(38, 40)).toBe(' 1');
    expect(Number(ss[0]!.slice(71, 76))).toBe(3);
    expect(ss[1]!.slice(17, 40)).toBe('ALA A   1  MSE A   2  0');
    expect(ss.every((l) => l.length === 80)).toBe(true);
  });

  it('maps a sequence with an unmodelled N-terminal MET onto the chain (MSE matches M)', () => {
    const r = annotateStructure(input, 'synthetic.pdb', { chain: 'A', prediction: { sequence: 'MAMGGKS', scores: [0.9, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6] } });
    expect(r.mapping.identity).toBe(1);
    expect(r.mapping.unmatchedSequence).toEqual([{ from: 1, to: 1 }]);
    const mse = r.output.toString('latin1').split('\r\n').filter((l) => l.startsWith('HETATM') && l.slice(17, 20) === 'MSE');
    expect(mse.length).toBe(8);
    for (const l of mse) expect(l.slice(60, 66)).toBe(' 20.00');
  });

  it('re-annotating an annotated file replaces our REMARK and HELIX/SHEET instead of adding more', () => {
    const again = annotateStructure(result.output, 'again.pdb', { chain: 'A', prediction: { scores: scores.map((s) => 1 - s), ss3: 'CHHHHH' }, runLabel: 'second run' });
    const lines = again.output.toString('latin1').split('\r\n');
    const ours = lines.filter((l) => l.startsWith('REMARK 951'));
    expect(ours.join('\n')).toContain('second run');
    expect(ours.join('\n')).not.toContain('synthetic run');
    expect(lines.filter((l) => l.startsWith('HELIX ')).length).toBe(1);
    expect(lines.filter((l) => l.startsWith('SHEET ')).length).toBe(0);
    expect(lines.length).toBe(outLines.length - 1); // one SHEET fewer, everything else line for line
  });
});
