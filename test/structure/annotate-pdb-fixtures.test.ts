// Annotating the real PDB files in ../shared/fixtures/pdb. The checks read the files back by
// the PDB column rules directly (not through the code under test), so they test the writer
// against the format, not against itself.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { annotateStructure, parseStructure, REMARK_NUMBER } from '../../src-main/engine/export/structure/index.js';
import { shared } from '../helpers/paths.js';
import { MIN_SEGMENT } from '../../src-main/engine/export/structure/ss.js';
import { runLength } from '../helpers/runs-of-letters.js';

/** Lines with their terminators, so that joining them gives the file back byte for byte. */
const linesOf = (text: string) => text.match(/[^\r\n]*(\r\n|\n|\r|$)/g)!.filter((l, i, a) => l !== '' || i < a.length - 1);
const body = (line: string) => line.replace(/[\r\n]+$/, '');
const rec = (line: string) => line.slice(0, 6);

interface ChainRes {
  key: string;
  resName: string;
  resSeq: string;
  iCode: string;
}

/** Residues of a chain: ATOM records of the first model, keyed by columns 23-27, first appearance order. */
function chainResiduesByColumns(text: string, chain: string): ChainRes[] {
  const out = new Map<string, ChainRes>();
  for (const l of linesOf(text).map(body)) {
    if (l.startsWith('ENDMDL')) break;
    if (!l.startsWith('ATOM  ') || l[21] !== chain) continue;
    const key = l.slice(22, 27);
    if (!out.has(key)) out.set(key, { key, resName: l.slice(17, 20).trim(), resSeq: l.slice(22, 26).trim(), iCode: l.slice(26, 27).trim() });
  }
  return [...out.values()];
}

const score = (k: number) => ((k * 7919) % 1000) / 999;
const unscored = (k: number) => k % 10 === 3;
const SS_PATTERN = 'CCHHHHHHHHCCCEEEEECCHHHCCEEEECHC';
const ss3For = (n: number) => Array.from({ length: n }, (_, k) => SS_PATTERN[k % SS_PATTERN.length]).join('');

/** Expected text of columns 61-66 for a residue index: right-justified 100*score to 2 decimals. */
function checkB(field: string, k: number) {
  expect(field).toMatch(/^ *\d{1,3}\.\d\d$/);
  expect(field.length).toBe(6);
  if (unscored(k)) expect(field).toBe('  0.00');
  else expect(Math.abs(Number(field) - score(k) * 100)).toBeLessThanOrEqual(0.005 + 1e-9);
}

interface Case {
  file: string;
  chain: string;
  finalNewline: boolean;
  models: number;
}

const CASES: Case[] = [
  { file: '1ubq.pdb', chain: 'A', finalNewline: false, models: 1 },
  { file: '4hhb.pdb', chain: 'A', finalNewline: true, models: 1 },
  { file: '1t8a.pdb', chain: 'A', finalNewline: true, models: 1 },
  { file: '1d3z.pdb', chain: 'A', finalNewline: true, models: 10 },
  { file: 'AF-P61626-F1-model_v4.pdb', chain: 'A', finalNewline: false, models: 1 },
];

describe.each(CASES)('annotating $file chain $chain', ({ file, chain, finalNewline, models }) => {
  const path = shared('fixtures', 'pdb', file);
  const input = readFileSync(path);
  const inText = input.toString('latin1');
  const residues = chainResiduesByColumns(inText, chain);
  const index = new Map(residues.map((r, k) => [r.key, k]));
  const scores = residues.map((_, k) => (unscored(k) ? null : score(k)));
  const ss3 = ss3For(residues.length);
  const result = annotateStructure(input, path, {
    chain,
    prediction: { scores, ss3 },
    scoreName: 'test-score',
    runLabel: 'fixture run 7',
    modelLabel: 'esm2-test',
  });
  const outText = result.output.toString('latin1');
  const inLines = linesOf(inText), outLines = linesOf(outText);

  // Lines the annotation may replace: HELIX/SHEET of the chain, and our REMARK.
  const isOwnSs = (l: string) => (rec(l) === 'HELIX ' && l[19] === chain) || (rec(l) === 'SHEET ' && (l[21] === chain || l[32] === chain));
  const isOurRemark = (l: string) => l.startsWith(`REMARK ${REMARK_NUMBER}`);
  const isChainAtom = (l: string) => rec(l) === 'ATOM  ' && l[21] === chain;

  it('changes only columns 61-66 of the chain atoms, the HELIX/SHEET records of the chain and the REMARK', () => {
    const a = inLines.filter((l) => !isOwnSs(l));
    const b = outLines.filter((l) => !isOwnSs(l) && !isOurRemark(l));
    expect(b.length).toBe(a.length);
    let changedAtoms = 0;
    for (let i = 0; i < a.length; i++) {
      if (isChainAtom(a[i]!)) {
        expect(b[i]!.slice(0, 60)).toBe(a[i]!.slice(0, 60));
        expect(b[i]!.slice(66)).toBe(a[i]!.slice(66));
        changedAtoms++;
      } else expect(b[i]).toBe(a[i]);
    }
    expect(changedAtoms).toBe(result.stats.atomsUpdated);
  });

  it('keeps the final newline as it was', () => {
    expect(outText.endsWith('\n')).toBe(finalNewline);
    expect(inText.endsWith('\n')).toBe(finalNewline);
  });

  it('writes round(100*score, 2) into every atom of every model and altLoc; 0.00 where unscored', () => {
    const seenModels = new Set<number>();
    let model = 1, n = 0;
    for (const l of outLines.map(body)) {
      if (rec(l) === 'MODEL ') model = Number(l.slice(10, 14));
      if (!isChainAtom(l)) continue;
      const k = index.get(l.slice(22, 27));
      expect(k, `residue ${l.slice(17, 27)} of line ${l.slice(0, 27)}`).toBeDefined();
      checkB(l.slice(60, 66), k!);
      seenModels.add(model);
      n++;
    }
    expect(seenModels.size).toBe(models);
    expect(n).toBe(inLines.filter(isChainAtom).length);
  });

  it('writes HELIX/SHEET records by the column rules that cover exactly the predicted H/E residues', () => {
    const known = new Map(residues.map((r, k) => [`${r.resName}|${r.resSeq}|${r.iCode}`, k]));
    const resAt = (l: string, name: [number, number], ch: number, seq: [number, number], ic: number) => {
      expect(l[ch - 1]).toBe(chain);
      const key = `${l.slice(name[0] - 1, name[1]).trim()}|${l.slice(seq[0] - 1, seq[1]).trim()}|${l[ic - 1]!.trim()}`;
      const k = known.get(key);
      expect(k, `record refers to a residue that exists: ${key}`).toBeDefined();
      return k!;
    };
    const covered = { H: new Set<number>(), E: new Set<number>() };
    const sheetIds = new Set<string>();
    const helixLines = outLines.map(body).filter((l) => rec(l) === 'HELIX ' && l[19] === chain);
    const sheetLines = outLines.map(body).filter((l) => rec(l) === 'SHEET ' && l[21] === chain);
    helixLines.forEach((l, i) => {
      expect(l.slice(7, 10)).toMatch(/^ *\d+$/); // serNum 8-10
      expect(l.slice(11, 14)).toMatch(/^ *\S+$/); // helixID 12-14
      for (const c of [7, 11, 15, 19, 21, 27, 31, 33]) expect(l[c - 1], `column ${c} blank`).toBe(' ');
      const from = resAt(l, [16, 18], 20, [22, 25], 26);
      const to = resAt(l, [28, 30], 32, [34, 37], 38);
      expect(l.slice(38, 40)).toBe(' 1'); // helixClass 39-40: right-handed alpha
      expect(Number(l.slice(71, 76))).toBe(to - from + 1); // length 72-76
      expect(l.slice(40, 71).trim()).toBe('');
      for (let k = from; k <= to; k++) {
        expect(covered.H.has(k)).toBe(false);
        covered.H.add(k);
      }
      if (i > 0) expect(Number(l.slice(7, 10))).toBeGreaterThan(Number(helixLines[i - 1]!.slice(7, 10)));
    });
    for (const l of sheetLines) {
      expect(l.slice(7, 10)).toBe('  1'); // strand 8-10: each strand is its own sheet
      expect(l.slice(14, 16)).toBe(' 1'); // numStrands 15-16
      expect(l.slice(38, 40)).toBe(' 0'); // sense 39-40 of a first strand
      for (const c of [7, 11, 17, 21, 28, 32]) expect(l[c - 1], `column ${c} blank`).toBe(' ');
      const id = l.slice(11, 14).trim();
      expect(sheetIds.has(id)).toBe(false);
      sheetIds.add(id);
      const from = resAt(l, [18, 20], 22, [23, 26], 27);
      const to = resAt(l, [29, 31], 33, [34, 37], 38);
      for (let k = from; k <= to; k++) covered.E.add(k);
    }
    const want = (c: 'H' | 'E') => new Set(residues.map((_, k) => k).filter((k) => ss3[k] === c && runLength(ss3, k) >= MIN_SEGMENT[c]));
    expect(covered.H).toEqual(want('H'));
    expect(covered.E).toEqual(want('E'));
    // placed before the coordinates and after SEQRES/HET/FORMUL, HELIX before SHEET
    const idx = (pred: (l: string) => boolean) => outLines.findIndex(pred);
    const last = (pred: (l: string) => boolean) => outLines.length - 1 - [...outLines].reverse().findIndex(pred);
    const firstSs = idx((l) => rec(l) === 'HELIX ' || rec(l) === 'SHEET ');
    expect(firstSs).toBeLessThan(idx((l) => ['ATOM  ', 'HETATM', 'MODEL ', 'CRYST1'].includes(rec(l))));
    const header = (l: string) => ['SEQRES', 'HET   ', 'HETNAM', 'FORMUL', 'REMARK'].includes(rec(l));
    expect(firstSs).toBeGreaterThan(last(header));
    expect(last((l) => rec(l) === 'HELIX ')).toBeLessThan(idx((l) => rec(l) === 'SHEET '));
  });

  it('re-parses with the same atoms', () => {
    const before = parseStructure(input, path).atoms, after = parseStructure(result.output, 'out').atoms;
    expect(after.length).toBe(before.length);
    after.forEach((a, i) => {
      const b = before[i]!;
      expect([a.serial, a.name, a.altLoc, a.resName, a.chain, a.resSeq, a.iCode, a.x, a.y, a.z, a.occupancy, a.model]).toEqual([b.serial, b.name, b.altLoc, b.resName, b.chain, b.resSeq, b.iCode, b.x, b.y, b.z, b.occupancy, b.model]);
    });
  });

  it('describes the run, model, score and unscored residues in REMARK 950, in order among the REMARKs', () => {
    const remark = outLines.map(body).filter(isOurRemark);
    const text = remark.map((l) => l.slice(11)).join('\n');
    expect(remark.every((l) => l.length <= 80)).toBe(true);
    expect(text).toContain('fixture run 7');
    expect(text).toContain('esm2-test');
    expect(text).toContain('test-score');
    for (const [k, r] of residues.entries()) if (unscored(k)) expect(text).toContain(`${r.resName} ${chain} ${r.resSeq}${r.iCode}`);
    const numbers = outLines.map(body).filter((l) => rec(l) === 'REMARK').map((l) => Number(l.slice(7, 10)));
    expect(numbers).toEqual([...numbers].sort((x, y) => x - y));
  });
});

describe('specific fixtures', () => {
  it('4hhb: HELIX records of chains B, C, D are kept byte for byte when chain A is re-annotated', () => {
    const path = shared('fixtures', 'pdb', '4hhb.pdb');
    const input = readFileSync(path);
    const n = chainResiduesByColumns(input.toString('latin1'), 'A').length;
    const out = annotateStructure(input, path, { chain: 'A', prediction: { scores: new Array(n).fill(0.5), ss3: 'C'.repeat(n) } }).output.toString('latin1');
    const others = (t: string) => linesOf(t).filter((l) => rec(l) === 'HELIX ' && l[19] !== 'A');
    expect(others(input.toString('latin1')).length).toBeGreaterThan(20);
    expect(others(out)).toEqual(others(input.toString('latin1')));
    expect(linesOf(out).filter((l) => rec(l) === 'HELIX ' && l[19] === 'A')).toEqual([]); // all-coil prediction: chain A has none
  });

  it('1t8a: both altLocs of a residue get the residue score; ligands and waters in chain A keep theirs', () => {
    const path = shared('fixtures', 'pdb', '1t8a.pdb');
    const input = readFileSync(path);
    const inText = input.toString('latin1');
    const residues = chainResiduesByColumns(inText, 'A');
    const scores = residues.map((_, k) => (k + 1) / residues.length);
    const out = annotateStructure(input, path, { chain: 'A', prediction: { scores } }).output.toString('latin1');
    const alt = linesOf(out).filter((l) => rec(l) === 'ATOM  ' && l[16] !== ' ');
    expect(alt.length).toBe(96);
    for (const l of alt) {
      const k = residues.findIndex((r) => r.key === l.slice(22, 27));
      expect(Math.abs(Number(l.slice(60, 66)) - scores[k]! * 100)).toBeLessThanOrEqual(0.005 + 1e-9);
    }
    const het = (t: string) => linesOf(t).filter((l) => rec(l) === 'HETATM');
    expect(het(out).length).toBe(144);
    expect(het(out)).toEqual(het(inText));
  });

  it('1ubq: a missing final newline stays missing and the file still ends with END', () => {
    const path = shared('fixtures', 'pdb', '1ubq.pdb');
    const input = readFileSync(path);
    const out = annotateStructure(input, path, { chain: 'A', prediction: { scores: new Array(76).fill(1) } }).output.toString('latin1');
    expect(out.slice(-80)).toBe(input.toString('latin1').slice(-80));
    const b = linesOf(out).filter((l) => rec(l) === 'ATOM  ').map((l) => l.slice(60, 66));
    expect(new Set(b)).toEqual(new Set(['100.00']));
  });
});
