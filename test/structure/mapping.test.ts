// Mapping a predicted sequence onto a chain: residues missing from the coordinates, tags,
// mutations, and sequences that are not the chain's protein. Uses 1ubq, whose residues are
// numbered 1..76 like the ubiquitin sequence, so "residue r got the score of position r"
// can be checked straight from the residue number in columns 23-26.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { annotateStructure, SequenceMismatchError } from '../../src-main/engine/export/structure/index.js';
import { shared } from '../helpers/paths.js';

// Human ubiquitin (UniProt P0CG48, mature chain), the protein in 1ubq.
const UBQ = 'MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG';
// Hen egg-white lysozyme-like human lysozyme (the AlphaFold fixture), unrelated to ubiquitin.
const LYSOZYME = 'MKALIVLGLVLLSVTVQGKVFERCELARTLKRLGMDGYRGISLANWMCLAKWESGYNTRATNYNAGDRSTDYGIFQINSRYWCNDGKTPGAVNACHLSCSALLQDNIADAVACAKRVVRDPQGIRAWVAWRNRCQNRDVRQYVQGCGV';
const TAG = 'MGSSHHHHHHSSGLVPRGSH';

const file = shared('fixtures', 'pdb', '1ubq.pdb');
const original = readFileSync(file).toString('latin1');

/** 1ubq without the ATOM records of the given residue numbers. */
function withoutResidues(drop: number[]): Buffer {
  const lines = original.split('\n').filter((l) => !(l.startsWith('ATOM  ') && drop.includes(Number(l.slice(22, 26)))));
  return Buffer.from(lines.join('\n'), 'latin1');
}

const scoreAt = (p: number) => 0.1 + p / 1000; // distinct per sequence position (1-based)

/** B-factor per residue number, checking that all atoms of a residue agree. */
function bByResidue(out: Buffer): Map<number, number> {
  const m = new Map<number, number>();
  for (const l of out.toString('latin1').split('\n')) {
    if (!l.startsWith('ATOM  ')) continue;
    const r = Number(l.slice(22, 26)), b = Number(l.slice(60, 66));
    if (m.has(r)) expect(m.get(r)).toBe(b);
    m.set(r, b);
  }
  return m;
}

function annotate(bytes: Buffer, sequence: string) {
  const scores = Array.from(sequence, (_, k) => scoreAt(k + 1));
  return annotateStructure(bytes, 'ubq.pdb', { chain: 'A', prediction: { sequence, scores } });
}

describe('mapping a sequence onto 1ubq chain A', () => {
  it('identical sequence: exact mapping', () => {
    const r = annotate(Buffer.from(original, 'latin1'), UBQ);
    expect(r.mapping.method).toBe('exact');
    for (const [res, b] of bByResidue(r.output)) expect(b).toBeCloseTo(100 * scoreAt(res), 6);
  });

  it('residues 30-35 missing from the coordinates: the gap is reported and nothing shifts', () => {
    const r = annotate(withoutResidues([30, 31, 32, 33, 34, 35]), UBQ);
    expect(r.mapping.method).toBe('alignment');
    expect(r.mapping.unmatchedSequence).toEqual([{ from: 30, to: 35 }]);
    expect(r.mapping.alignedLength).toBe(70);
    expect(r.mapping.identity).toBe(1);
    expect(r.mapping.internalGaps).toBe(1);
    const b = bByResidue(r.output);
    expect(b.size).toBe(70);
    for (const [res, v] of b) expect(v).toBeCloseTo(100 * scoreAt(res), 6);
  });

  it('a deleted residue inside a repeat (P38 of PP, Q41 of QQ) is placed at the chain break', () => {
    const r = annotate(withoutResidues([38, 41]), UBQ);
    expect(r.mapping.unmatchedSequence).toEqual([{ from: 38, to: 38 }, { from: 41, to: 41 }]);
    const b = bByResidue(r.output);
    for (const res of [36, 37, 39, 40, 42]) expect(b.get(res)).toBeCloseTo(100 * scoreAt(res), 6);
  });

  it('an N-terminal His-tag is left unmatched and every residue keeps its own score', () => {
    const r = annotate(Buffer.from(original, 'latin1'), TAG + UBQ);
    expect(r.mapping.unmatchedSequence).toEqual([{ from: 1, to: TAG.length }]);
    expect(r.mapping.unmatchedChain).toEqual([]);
    expect(r.mapping.alignedLength).toBe(76);
    for (const [res, v] of bByResidue(r.output)) expect(v).toBeCloseTo(100 * scoreAt(res + TAG.length), 6);
  });

  it('tag + missing residues + point mutations together', () => {
    const mutated = UBQ.slice(0, 43) + 'A' + UBQ.slice(44, 62) + 'R' + UBQ.slice(63); // I44A, K63R
    const r = annotate(withoutResidues([1, 2, 50, 51, 52]), TAG + mutated);
    expect(r.mapping.mismatches.map((m) => [m.position, m.sequence, m.residue])).toEqual([
      [TAG.length + 44, 'A', 'ILE A 44'],
      [TAG.length + 63, 'R', 'LYS A 63'],
    ]);
    expect(r.mapping.unmatchedSequence).toEqual([{ from: 1, to: TAG.length + 2 }, { from: TAG.length + 50, to: TAG.length + 52 }]);
    for (const [res, v] of bByResidue(r.output)) expect(v).toBeCloseTo(100 * scoreAt(res + TAG.length), 6);
  });

  it('a C-terminal extension and residues the sequence lacks are reported as unmatched ranges', () => {
    const r = annotate(Buffer.from(original, 'latin1'), UBQ.slice(5) + 'GSLEHHHHHH');
    expect(r.mapping.unmatchedChain.map((u) => [u.from, u.to, u.count])).toEqual([['MET A 1', 'VAL A 5', 5]]);
    expect(r.mapping.unmatchedSequence).toEqual([{ from: 72, to: 81 }]);
    expect(r.unscored.map((x) => x.resSeq)).toEqual(['1', '2', '3', '4', '5']);
    const b = bByResidue(r.output);
    for (const res of [1, 2, 3, 4, 5]) expect(b.get(res)).toBe(0);
    for (let res = 6; res <= 76; res++) expect(b.get(res)).toBeCloseTo(100 * scoreAt(res - 5), 6);
  });

  it.each([
    ['an unrelated protein', LYSOZYME, /identity/],
    ['the reversed sequence', [...UBQ].reverse().join(''), /identity|align/],
    ['a sequence that hardly aligns at all', 'W'.repeat(100), /only \d+ residues align \(need at least 38\)/],
  ])('%s is refused with a report, never mapped', (_name, seq, why) => {
    let err: unknown;
    try {
      annotate(Buffer.from(original, 'latin1'), seq);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SequenceMismatchError);
    const e = err as SequenceMismatchError;
    expect(e.report.accepted).toBe(false);
    expect(e.report.reason).toMatch(why);
    expect(e.message).toContain('mapping onto chain A');
    expect(e.message).toMatch(/aligned \d+, identical \d+, identity 0\.\d{3}/);
  });

  it('a fragment of the protein maps onto its own residues; the rest of the chain is unscored', () => {
    const r = annotate(Buffer.from(original, 'latin1'), UBQ.slice(20, 50));
    expect(r.mapping.identity).toBe(1);
    const b = bByResidue(r.output);
    for (let res = 1; res <= 76; res++) {
      if (res > 20 && res <= 50) expect(b.get(res)).toBeCloseTo(100 * scoreAt(res - 20), 6);
      else expect(b.get(res)).toBe(0);
    }
  });

  it('the identity threshold can be raised, and a mutated sequence is then refused', () => {
    const mutated = UBQ.replace(/[KR]/g, 'E');
    expect(() => annotateStructure(Buffer.from(original, 'latin1'), 'ubq.pdb', { chain: 'A', prediction: { sequence: mutated, scores: Array.from(mutated, () => 0.5) }, minIdentity: 0.9 })).toThrow(SequenceMismatchError);
    expect(() => annotate(Buffer.from(original, 'latin1'), mutated)).not.toThrow();
  });
});
