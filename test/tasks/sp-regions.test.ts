import { beforeAll, describe, expect, it } from 'vitest';
import { type SignalPRecord, SP_TYPES, readSignalPFile } from '../../src-main/engine/data/signalp.js';
import {
  ALLOWED_TRANSITIONS,
  ALLOWED_TRANSITION_LIST,
  NUM_REGION_STATES,
  REGION_STATES,
  START_STATES,
  STATE,
  TYPE_STATES,
  cleavageSiteOfPath,
  deriveRegions,
  findTwinArginine,
  firstDisallowed,
  mostHydrophobicPosition,
  pathLetters,
  pathType,
  regionPath,
  signalp6TagSets,
  tagSetsFeasible,
  trainingTagSets,
} from '../../src-main/engine/tasks/signal-peptide/regions.js';
import { shared } from '../helpers/paths.js';

/** Tag sets of residue i as state names. */
function tagNames(tags: Uint8Array, i: number): string[] {
  const out: string[] = [];
  for (let s = 0; s < NUM_REGION_STATES; s++) if (tags[i * NUM_REGION_STATES + s]) out.push(REGION_STATES[s].name);
  return out;
}

describe('SignalP 6.0 region state table', () => {
  it('has 37 states partitioned by the six types, in SignalP 6.0 order', () => {
    expect(REGION_STATES).toHaveLength(37);
    expect(REGION_STATES.map((s) => s.index)).toEqual([...Array(37).keys()]);
    const union = SP_TYPES.flatMap((t) => TYPE_STATES[t]);
    expect(union).toEqual([...Array(37).keys()]);
    for (const t of SP_TYPES) for (const s of TYPE_STATES[t]) expect(REGION_STATES[s].type).toBe(t);
    expect([STATE.SP_N, STATE.LIPO_C1, STATE.TAT_RR, STATE.TATLIPO_CS, STATE.PILIN_P, STATE.PILIN_O]).toEqual([3, 12, 17, 26, 31, 36]);
  });

  it('allows 80 transitions, none between types, and starts {0,2,3,9,16,23,31}', () => {
    expect(ALLOWED_TRANSITION_LIST).toHaveLength(80);
    let count = 0;
    for (let a = 0; a < 37; a++)
      for (let b = 0; b < 37; b++)
        if (ALLOWED_TRANSITIONS[a][b]) {
          count++;
          expect(REGION_STATES[a].type).toBe(REGION_STATES[b].type);
        }
    expect(count).toBe(80);
    expect(START_STATES).toEqual([0, 2, 3, 9, 16, 23, 31]);
    // one start per SP type (NO_SP may start inside or outside)
    expect(START_STATES.map((s) => REGION_STATES[s].type)).toEqual(['NO_SP', 'NO_SP', 'SP', 'LIPO', 'TAT', 'TATLIPO', 'PILIN']);
    // every signal-peptide state can only be left towards the mature part of its own type
    expect(ALLOWED_TRANSITIONS[STATE.SP_C][STATE.SP_O]).toBe(true);
    expect(ALLOWED_TRANSITIONS[STATE.SP_C][STATE.SP_I]).toBe(false);
    expect(ALLOWED_TRANSITIONS[STATE.PILIN_H][STATE.PILIN_M]).toBe(false);
  });

  it('maps states to the 3-line letters', () => {
    const letters = REGION_STATES.map((s) => s.letter).join('');
    expect(letters).toBe('IMO' + 'SSSIMO' + 'LLLOIMO' + 'TTTTIMO' + 'TTTTOIMO' + 'POMIMO');
  });
});

describe('hydrophobicity heuristic (SignalP 6.0, exact)', () => {
  it('returns start + 4 of the best 7-residue Kyte-Doolittle window', () => {
    // windows of MKKLLLLLLASA (starts 0..4; the last start, 5, is never tried):
    //  0 MKKLLLL = 1.9-3.9-3.9+4*3.8 = 9.3; 1 KKLLLLL = 11.2; 2 KLLLLLL = 18.9;
    //  3 LLLLLLA = 24.6 (best); 4 LLLLLAS = 20.0  -> 3 + 4 = 7
    expect(mostHydrophobicPosition('MKKLLLLLLASA')).toBe(7);
  });

  it('reproduces the window-range quirks', () => {
    // length <= 8: a single window at 0
    expect(mostHydrophobicPosition('KKKKKKKK')).toBe(4);
    expect(mostHydrophobicPosition('KKK')).toBe(4);
    // length 9: starts 0 and 1 only; KKKKKKKII's best window (start 2) is not considered
    expect(mostHydrophobicPosition('KKKKKKKII')).toBe(5);
    // ties keep the first window
    expect(mostHydrophobicPosition('AAAAAAAAAAAA')).toBe(4);
  });

  it('finds the twin-arginine motif like SignalP 6.0', () => {
    expect(findTwinArginine('MSRRKRAARRA')).toEqual([8, 9]);
    expect(findTwinArginine('MKRAKRA')).toEqual([4, 5]);
    expect(findTwinArginine('MRAAA')).toEqual([0, 2]);
    expect(findTwinArginine('AAA')).toEqual([-2, 0]);
  });
});

describe('region tags and the derived path on hand-made records', () => {
  it('Sec/SPI: n, h, c ranges and the most hydrophobic h-region', () => {
    // SP = MKKLLLLLLASA (12 residues, last index 11), hp = 7 (see above).
    // n = [0,7), h = [2, 11-2=9), c = [8, 12); mature O.
    const seq = 'MKKLLLLLLASAEEEE';
    const lab = 'SSSSSSSSSSSSOOOO';
    const tags = signalp6TagSets(seq, lab, 'SP');
    expect(tagNames(tags, 0)).toEqual(['SP_N']);
    expect(tagNames(tags, 2)).toEqual(['SP_N', 'SP_H']);
    expect(tagNames(tags, 7)).toEqual(['SP_H']);
    expect(tagNames(tags, 8)).toEqual(['SP_H', 'SP_C']);
    expect(tagNames(tags, 9)).toEqual(['SP_C']);
    expect(tagNames(tags, 12)).toEqual(['SP_O']);
    // Path: residue 2 (K, -3.9) stays n; 3..8 (L) go to h; 9..11 are c by the tags.
    const r = regionPath(seq, lab, 'SP', tags);
    expect(r).toMatchObject({ tagDisagreements: 0, letterDisagreements: 0 });
    expect([...r.path].map((s) => REGION_STATES[s].region).join('')).toBe('nnnhhhhhhcccOOOO');
    expect(cleavageSiteOfPath(r.path)).toBe(12);
  });

  it('Sec/SPII: CS on the last two SP residues and the +1 Cys replacing its O', () => {
    const seq = 'MKKLLLLLLAGCSEEE';
    const lab = 'LLLLLLLLLLLOOOOO';
    const tags = signalp6TagSets(seq, lab, 'LIPO');
    expect(tagNames(tags, 9)).toEqual(['LIPO_CS']);
    expect(tagNames(tags, 10)).toEqual(['LIPO_CS']);
    expect(tagNames(tags, 11)).toEqual(['LIPO_C1']);
    expect(tagNames(tags, 12)).toEqual(['LIPO_O']);
    const r = regionPath(seq, lab, 'LIPO', tags);
    expect(pathLetters(r.path)).toBe(lab);
    expect(firstDisallowed(r.path)).toBe(-1);
  });

  it('Tat/SPI: RR motif with an n residue after it', () => {
    // SP = MSRRFLLLLLLLAAA (15, last 14). RR at [2,3]; n = [0,2) + residue 4; h = [5, 13); c from hp+1.
    const seq = 'MSRRFLLLLLLLAAAQQQ';
    const lab = 'TTTTTTTTTTTTTTTOOO';
    const tags = signalp6TagSets(seq, lab, 'TAT');
    expect(tagNames(tags, 1)).toEqual(['TAT_N']);
    expect(tagNames(tags, 2)).toEqual(['TAT_RR']);
    expect(tagNames(tags, 4)).toEqual(['TAT_N']);
    expect(tagNames(tags, 5)).toContain('TAT_H');
    expect(tagNames(tags, 14)).toEqual(['TAT_C']);
    const r = regionPath(seq, lab, 'TAT', tags);
    expect([...r.path].slice(0, 6).map((s) => REGION_STATES[s].name)).toEqual(['TAT_N', 'TAT_N', 'TAT_RR', 'TAT_RR', 'TAT_N', 'TAT_H']);
    expect(r.tagDisagreements).toBe(0);
  });

  it('refuses an unlabelled record with a located error', () => {
    const rec: SignalPRecord = { id: 'A', kingdom: 'EUKARYA', type: 'SP', partition: 0, sequence: 'MKV', labels: null, cleavageSite: null, loc: { file: 'f', record: 'A', line: 3 } };
    expect(() => deriveRegions(rec)).toThrow(/^f:3 \(record 'A'\): record has no label line/);
  });

  it('fails where SignalP 6.0 itself would, with a RangeError', () => {
    // a lipoprotein SP running to the end leaves no residue for the +1 Cys
    expect(() => signalp6TagSets('MKVL', 'LLLL', 'LIPO')).toThrow(RangeError);
    // a pilin without an M residue
    expect(() => signalp6TagSets('MKVLAAAAA', 'PPPOOOOOO', 'PILIN')).toThrow(RangeError);
  });
});

describe('regions of every record of the shared training partitions', () => {
  let records: SignalPRecord[] = [];
  beforeAll(async () => {
    records = (await readSignalPFile(shared('data', 'signalp6', 'train_set.partitions-0-1.fasta'))).records;
  });

  it('derives an allowed path from a start state for all 13,288 records', () => {
    expect(records).toHaveLength(13288);
    const infeasible: Record<string, number> = {};
    let letterMismatch = 0;
    for (const rec of records) {
      const d = deriveRegions(rec);
      expect(d.path).toHaveLength(rec.sequence.length);
      // starts in a start state, only allowed transitions, stays in its type
      expect(firstDisallowed(d.path)).toBe(-1);
      expect(pathType(d.path)).toBe(rec.type);
      // the path's cleavage site is the label's
      expect(cleavageSiteOfPath(d.path)).toBe(rec.cleavageSite);
      expect(d.tags).not.toBeNull();
      if (d.tagsFeasible) {
        // inside SignalP 6.0's tag sets everywhere
        expect(d.tagDisagreements).toBe(0);
        expect(tagSetsFeasible(trainingTagSets(d).tags, rec.sequence.length)).toBe(true);
      } else {
        infeasible[rec.type] = (infeasible[rec.type] ?? 0) + 1;
        // the departure is minimal: one residue for these records
        expect(d.tagDisagreements).toBe(1);
        expect(d.notes.some((n) => n.kind === 'warning' && n.loc.record === rec.id)).toBe(true);
        expect(trainingTagSets(d).exact).toBe(false);
      }
      if (rec.type !== 'PILIN') expect(pathLetters(d.path)).toBe(rec.labels);
      else if (d.letterDisagreements > 0) letterMismatch++;
    }
    // SignalP 6.0's tags admit no allowed path for 62 of 63 pilins and 8 of 254 Tat records
    expect(infeasible).toEqual({ PILIN: 62, TAT: 8 });
    // pilins whose conserved-motif states (written O) cover residues labelled M
    expect(letterMismatch).toBe(59);
  });

  it('is deterministic', () => {
    for (const rec of records.slice(0, 500)) expect(deriveRegions(rec).path).toEqual(deriveRegions(rec).path);
  });
});
